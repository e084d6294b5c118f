import { defineConfig } from '@playwright/test'

// Run by tests/browser/test_console.py against a real Conveyor stack (CONSOLE_URL); Playwright's own
// browser download is not reachable here, so Debian's Chromium drives the tests.
export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: process.env.ARTIFACTS ? `${process.env.ARTIFACTS}/results` : 'test-results',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  // The spec files make their own pipelines, runs and users, and each worker signs in as its own admin
  // (e2e/helpers.ts), so two run at once (CONSOLE_E2E_WORKERS=1 for one at a time). Two were taken back once
  // (f41f6df) when session.spec and settings.spec hung at sign-in: the API's per-address rate limit counted the
  // console's own files (~50 a fresh page), both workers share 127.0.0.1, and a refused script left a blank page.
  // The console's files are no longer counted (6c1fca0); the whole suite then passed 3 times in a row with 2
  // workers (335-340 s). The dashboard compares the page's figures with the API's, so it goes first, alone, before
  // the other specs add runs.
  workers: Number(process.env.CONSOLE_E2E_WORKERS ?? 2),
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
