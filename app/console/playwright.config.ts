import { defineConfig } from '@playwright/test'

// Run by tests/browser/test_console.py against a real Conveyor stack (CONSOLE_URL); Playwright's own
// browser download is not reachable here, so Debian's Chromium drives the tests.
export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: process.env.ARTIFACTS ? `${process.env.ARTIFACTS}/results` : 'test-results',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  // The spec files make their own pipelines, runs and users, and each worker signs in as its own admin
  // (e2e/helpers.ts), so CONSOLE_E2E_WORKERS=2 may run two at once. Measured with `pytest -n 2` beside it on a
  // shared 2-core machine (load ~9): 2 workers 9.4 min, 1 worker 10.9 min, one run each — too few and too noisy
  // to adopt, so the default stays 1. The dashboard compares the page's figures with the API's, so it goes first,
  // alone, before the other specs add runs.
  workers: Number(process.env.CONSOLE_E2E_WORKERS ?? 1),
  projects: [
    { name: 'dashboard', testMatch: /dashboard\.spec\.ts$/ },
    { name: 'journeys', testIgnore: /dashboard\.spec\.ts$/, dependencies: ['dashboard'] },
  ],
  reporter: [['list']],
  use: {
    baseURL: process.env.CONSOLE_URL,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    screenshot: 'only-on-failure',
  },
})
