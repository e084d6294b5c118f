// The browser side of the console benchmarks (bench/console_*.py start it): Debian's Chromium driven by
// playwright-core from app/console/node_modules. One JSON object per line on stdout; reads "go" lines on stdin.
//   node bench/console_probe.mjs '<json config>'   config: {mode: log|dashboard|entry|rows, url, user, password, ...}
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const require = createRequire(fileURLToPath(new URL('../app/console/package.json', import.meta.url)))
const { chromium } = require('playwright-core')
const config = JSON.parse(process.argv[2])
const say = (object) => process.stdout.write(`${JSON.stringify(object)}\n`)
const stdin = createInterface({ input: process.stdin })
const lines = stdin[Symbol.asyncIterator]()
const waitGo = async () => (await lines.next()).value

// Long tasks (> 50 ms on the main thread) from the very start of every page, kept on window.
const LONGTASKS = () => {
  window.__longtasks = []
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longtasks.push({ start: entry.startTime, duration: entry.duration })
  }).observe({ type: 'longtask', buffered: true })
}

async function signIn(page) {
  await page.goto(`${config.url}/sign-in`)
  await page.locator('input[name=username]').fill(config.user)
  await page.locator('input[name=password]').fill(config.password)
  await page.locator('[data-test=sign-in]').click()
  await page.locator('[data-test=user-menu]').waitFor({ timeout: 60_000 })
}

async function logMode(page) {
  await signIn(page)
  await page.goto(`${config.url}/runs/${config.runId}`)
  await page.locator('[data-test=log]').waitFor()
  say({ ready: true })
  await waitGo()
  // Polled on every frame inside the page: done when the count is reached and the last line is in the DOM.
  const result = await page.evaluate(async ({ expect, last }) => {
    const started = Date.now()
    const startedPerf = performance.now()
    const log = document.querySelector('[data-test=log]')
    for (;;) {
      await new Promise((resolve) => requestAnimationFrame(resolve))
      const count = Number(log.dataset.lines || 0)
      const shown = [...log.querySelectorAll('[data-test=log-line] .n')].map((n) => Number(n.textContent))
      if (count >= expect && shown.includes(last)) {
        const tasks = window.__longtasks.filter((task) => task.start + task.duration >= startedPerf)
        return {
          done_epoch_ms: Date.now(),
          waited_ms: Date.now() - started,
          count,
          dom_lines: shown.length,
          longtasks: tasks.map((task) => task.duration),
        }
      }
    }
  }, { expect: config.expectLines, last: config.lastLine })
  say(result)
}

async function dashboardMode(page) {
  await signIn(page)
  const times = []
  for (let i = 0; i < config.repeats; i++) {
    await page.goto(`${config.url}/runs`) // away, so the dashboard is a navigation of its own
    await page.locator('[data-test=user-menu]').waitFor()
    // A full page load: the JS, the silent sign-in from the refresh cookie, the metrics calls, the chart.
    await page.goto(`${config.url}/`)
    await page.locator('[data-test=trend-chart][data-drawn=true]').waitFor({ timeout: 60_000 })
    const drawn = await page.evaluate(() => {
      const canvas = document.querySelector('[data-test=trend-chart][data-drawn=true] canvas')
      if (!canvas) {
        const host = document.querySelector('[data-test=trend-chart]')
        const alert = document.querySelector('.el-alert')
        throw new Error(`no trend canvas: host=${host?.outerHTML.slice(0, 300)} alert=${alert?.textContent}`)
      }
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height)
      let painted = 0
      for (let p = 3; p < data.length; p += 4) if (data[p] !== 0) painted++
      // Where the time went: when the last metrics answer and the ECharts chunk had arrived.
      const resources = performance.getEntriesByType('resource')
      const ended = (test) => Math.max(0, ...resources.filter((r) => test(r.name)).map((r) => r.responseEnd))
      return {
        at: performance.now(),
        painted,
        metrics_done: ended((name) => name.includes('/api/v1/metrics')),
        echarts_done: ended((name) => /\/assets\/echarts-/.test(name)),
        signed_in: ended((name) => name.includes('/api/v1/auth/')),
      }
    })
    times.push(drawn)
  }
  say({ times })
}

async function entryMode(page) {
  const scripts = []
  page.on('response', (response) => {
    if (response.request().resourceType() === 'script') scripts.push(new URL(response.url()).pathname)
  })
  const started = Date.now()
  await page.goto(`${config.url}/sign-in`)
  // Usable: the form is there and the button can be pressed.
  await page.locator('[data-test=sign-in]').waitFor()
  await page.locator('input[name=password]').waitFor()
  const usable = Date.now() - started
  const wire = await page.evaluate(() =>
    performance.getEntriesByType('resource')
      .filter((entry) => entry.initiatorType === 'script' || entry.name.endsWith('.js'))
      .map((entry) => ({ path: new URL(entry.name).pathname, transfer: entry.transferSize, encoded: entry.encodedBodySize })),
  )
  say({ scripts: [...new Set(scripts)], usable_ms: usable, wire })
}

// The dataset page's rows table: one filter row (config.column eq a value), then each press of Filter timed in
// the page, from the click event to the first frame whose table shows that filter's rows (its first row has the
// value and the table is no longer loading); Playwright's own round trips stay out of the figure.
async function rowsMode(page) {
  await signIn(page)
  await page.goto(`${config.url}/datasets/${config.datasetId}`)
  const table = page.locator('[data-test=rows-table]')
  await table.locator('tbody tr').first().waitFor({ timeout: 60_000 })
  await page.locator('[data-test=add-filter]').click()
  await page.locator('[data-test=filter-column]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: new RegExp(`^${config.column}$`) }).click()
  await page.evaluate(() => {
    const button = document.querySelector('[data-test=apply-filters]')
    button.addEventListener('click', () => (window.__pressedAt = performance.now()), { capture: true })
  })
  const times = []
  for (let i = 0; i < config.repeats; i++) {
    const value = config.values[i % config.values.length]
    await page.locator('[data-test=filter-value]').fill(value)
    await page.locator('[data-test=apply-filters]').click()
    const shown = await page.waitForFunction(
      (value) => {
        const table = document.querySelector('[data-test=rows-table]')
        const first = table?.querySelector('tbody tr')?.textContent ?? ''
        return table?.dataset.loading === 'false' && first.includes(value) && performance.now() - window.__pressedAt
      },
      value,
      { polling: 'raf', timeout: 60_000 },
    )
    times.push(await shown.jsonValue())
  }
  say({ times })
}

const browser = await chromium.launch({
  executablePath: config.chromium ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
})
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })
  await context.addInitScript(LONGTASKS)
  await context.addInitScript(() => localStorage.setItem('conveyor.locale', 'en'))
  const page = await context.newPage()
  const modes = { log: logMode, dashboard: dashboardMode, entry: entryMode, rows: rowsMode }
  await modes[config.mode](page)
} catch (error) {
  say({ error: String(error?.stack ?? error) })
  process.exitCode = 1
} finally {
  await browser.close()
  stdin.close()
}
