import { expect, test, type Locator, type Page } from '@playwright/test'
import { apiToken, shot, signIn, watchProblems } from './helpers'

/** Pixels of the chart's first canvas that are not transparent. */
async function inkedPixels(chart: Locator): Promise<number> {
  return chart.locator('canvas').first().evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? []
    let count = 0
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) count += 1
    return count
  })
}

const AT_LEAST = Number(process.env.EXPECT_RUNS_AT_LEAST ?? '1')
const FAILED_RUN = process.env.FAILED_RUN ?? ''

for (const locale of ['en', 'zh-CN'] as const) {
  test(`the dashboard shows the API's numbers and draws the trend (${locale})`, async ({ page, request }) => {
    const problems = watchProblems(page)
    const token = await apiToken(request)
    await signIn(page, locale)
    await expect(page.locator('[data-test=trend-chart]')).toHaveAttribute('data-drawn', 'true')
    const summary = (await (
      await request.get('/api/v1/metrics/summary', { headers: { Authorization: `Bearer ${token}` } })
    ).json()) as { metrics: { runs: number; success_rate: number | null } }
    expect(summary.metrics.runs).toBeGreaterThanOrEqual(AT_LEAST)
    const number = new Intl.NumberFormat(locale).format(summary.metrics.runs)
    await expect(page.locator('[data-test=card-runs] [data-test=card-value]')).toHaveText(number)
    const rate = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(
      summary.metrics.success_rate ?? 0,
    )
    await expect(page.locator('[data-test=card-success-rate] [data-test=card-value]')).toHaveText(rate)

    // Not only a canvas: bars in the SUCCEEDED colour (#67c23a) are drawn on it.
    const green = await page.locator('[data-test=trend-chart] canvas').first().evaluate((canvas: HTMLCanvasElement) => {
      const context = canvas.getContext('2d')
      if (!context) return 0
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data
      const near = (value: number | undefined, target: number) => value !== undefined && Math.abs(value - target) < 8
      let count = 0
      for (let i = 0; i < data.length; i += 4) {
        if (near(data[i], 0x67) && near(data[i + 1], 0xc2) && near(data[i + 2], 0x3a) && (data[i + 3] ?? 0) > 0) count += 1
      }
      return count
    })
    expect(green).toBeGreaterThan(50)
    // The legend names statuses in the page's language (the chart's description lists what the legend shows).
    const trend = page.locator('[data-test=trend-chart]')
    await expect(trend).toHaveAttribute('data-statuses', /\bSUCCEEDED\b/)
    await expect(trend).toHaveAttribute('aria-label', locale === 'en' ? /\bSucceeded \d+/ : /成功 \d+/)
    expect(await trend.getAttribute('aria-label')).not.toMatch(/SUCCEEDED|FAILED/)

    // The TopN charts load after the cards and draw bars; the known load's failed run is among the recent failures.
    for (const name of ['pipeline', 'error'] as const) {
      const chart = page.locator(`[data-test=topn-${name}]`)
      await expect(chart).toHaveAttribute('data-drawn', 'true')
      const inked = await inkedPixels(chart)
      expect(inked, `the ${name} TopN chart is blank`).toBeGreaterThan(500)
    }
    // Durations read with their unit, in the page's words; no bar is left without a name (runs without an error are
    // not an error).
    const unit = locale === 'en' ? /: \d+(\.\d+)? (ms|s)\b/ : /: \d+(\.\d+)?(毫秒|秒)/
    await expect(page.locator('[data-test=topn-slowest]')).toHaveAttribute('aria-label', unit)
    if (locale === 'zh-CN') expect(await page.locator('[data-test=card-p50] [data-test=card-value]').textContent()).toMatch(/^\d+(\.\d+)?(毫秒|秒)$/)
    expect(await page.locator('[data-test=topn-error]').getAttribute('aria-label')).not.toMatch(/(^|, ): /)
    const failure = page.locator(`[data-test=failure-link][href="/runs/${FAILED_RUN}"]`)
    await expect(failure).toBeVisible()
    // The failure's error code reads as words (a `fail` step: pipeline_step_failed), the code on hover; so does the chart.
    const stepFailed = locale === 'en' ? 'Step failed' : '步骤失败'
    const reason = page.locator('li', { has: failure }).locator('[data-test=failure-error]')
    await expect(reason).toHaveText(stepFailed)
    await expect(reason).toHaveAttribute('title', 'pipeline_step_failed')
    await expect(page.locator('[data-test=topn-error]')).toHaveAttribute('aria-label', new RegExp(`${stepFailed} \\(pipeline_step_failed\\): \\d+`))
    await shot(page, `dashboard-${locale}`)
    if (locale === 'en') {
      // Choosing a namespace in the top bar narrows every figure to it: the page asks with ?namespace=.
      const narrowed = page.waitForResponse((r) => r.url().includes('/api/v1/metrics/summary') && r.url().includes('namespace=default'))
      await page.locator('[data-test=namespace]').click()
      await page.locator('.el-select-dropdown__item', { hasText: /^default$/ }).click()
      const figures = (await (await narrowed).json()) as { metrics: { runs: number } }
      await expect(page.locator('[data-test=card-runs] [data-test=card-value]')).toHaveText(
        new Intl.NumberFormat(locale).format(figures.metrics.runs),
      )
      await expect(page.locator(`[data-test=failure-link][href="/runs/${FAILED_RUN}"]`)).toBeVisible()
    }
    await failure.click()
    await expect(page).toHaveURL(new RegExp(`/runs/${FAILED_RUN}$`))
    await expect(page.locator('[data-test=run-status]')).toHaveAttribute('data-status', 'FAILED')
    await expect(page.locator('[data-test=run-status]')).toHaveText(locale === 'en' ? 'Failed' : '失败')
    await expect(page.locator('[data-test=run-error-code]')).toHaveText(stepFailed)
    await expect(page.locator('[data-test=run-error-code]')).toHaveAttribute('title', 'pipeline_step_failed')
    expect(problems).toEqual([])
  })
}

test("the trend chart's legend switches language with the page", async ({ page }) => {
  await signIn(page, 'en')
  const trend = page.locator('[data-test=trend-chart]')
  await expect(trend).toHaveAttribute('data-drawn', 'true')
  await expect(trend).toHaveAttribute('aria-label', /^Runs by status: .*\bSucceeded \d+/)
  await page.locator('[data-test=language]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '简体中文' }).click()
  await expect(trend).toHaveAttribute('aria-label', /^运行趋势（按状态）: .*成功 \d+/)
  await expect(trend).toHaveAttribute('data-statuses', /\bSUCCEEDED\b/) // colours and keys stay the API's codes
  await shot(page, 'dashboard-switched-zh-CN')
})

test('the trend chart is not called drawn while its data is still on the way', async ({ page }) => {
  // Hold the trend's answer: ECharts loads, the chart is created and resized, but it has nothing to draw yet.
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => (release = resolve))
  await page.route('**/api/v1/metrics/timeseries**', async (route) => {
    await held
    await route.continue()
  })
  await signIn(page, 'en')
  const chart = page.locator('[data-test=trend-chart]')
  await expect(chart).toHaveAttribute('_echarts_instance_', /.+/)
  await page.setViewportSize({ width: 1100, height: 900 }) // a resize renders the empty chart, and finishes
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(null)))))
  await expect(chart).toHaveAttribute('data-drawn', 'false')
  release()
  await expect(chart).toHaveAttribute('data-drawn', 'true')
  expect(await inkedPixels(chart)).toBeGreaterThan(500)
})

/** The rows of ranking cards that stop short of the grid's right edge (their top and the pixels left empty). */
async function rankingRowGaps(page: Page): Promise<string[]> {
  return page.locator('.tops').evaluate((grid) => {
    const right = grid.getBoundingClientRect().right
    const rows = new Map<number, number>()
    for (const card of grid.children) {
      const box = card.getBoundingClientRect()
      rows.set(Math.round(box.top), Math.max(rows.get(Math.round(box.top)) ?? 0, box.right))
    }
    return [...rows].filter(([, end]) => right - end > 1).map(([top, end]) => `row at ${top}: ${Math.round(right - end)} px empty`)
  })
}

/** How many figure cards each row holds, top to bottom. */
async function cardsPerRow(page: Page): Promise<number[]> {
  return page.locator('.cards > [data-test^=card-]').evaluateAll((cards) => {
    const rows = new Map<number, number>()
    for (const card of cards) {
      const top = Math.round(card.getBoundingClientRect().top)
      rows.set(top, (rows.get(top) ?? 0) + 1)
    }
    return [...rows.values()]
  })
}

test('every chart is drawn where the user scrolls to it, at its width, and the cards fill their rows (1920, 1280, 390 px)', async ({ page }) => {
  const problems = watchProblems(page)
  await signIn(page, 'zh-CN')
  await expect(page.locator('[data-test=trend-chart]')).toHaveAttribute('data-drawn', 'true')
  // The known load has runs by pipeline, by user and by error, and a slowest pipeline; no deployment fails in it.
  const drawnCharts = ['trend-chart', 'topn-slowest', 'topn-pipeline', 'topn-user', 'topn-error']
  for (const [width, height] of [[1920, 1080], [1280, 800], [390, 844]] as const) {
    await page.setViewportSize({ width, height })
    await expect.poll(() => cardsPerRow(page), { message: `cards per row at ${width} px` }).toEqual(width > 1000 ? [5, 5] : [2, 2, 2, 2, 2])
    for (const name of drawnCharts) {
      const chart = page.locator(`[data-test=${name}]`)
      await chart.scrollIntoViewIfNeeded()
      await expect(chart).toBeInViewport()
      // ECharts follows the card's width (a canvas left at the old width is cut off or leaves a blank strip).
      await expect
        .poll(() => chart.evaluate((host) => Math.abs((host.querySelector('canvas')?.getBoundingClientRect().width ?? 0) - host.getBoundingClientRect().width)))
        .toBeLessThanOrEqual(1)
      expect(await inkedPixels(chart), `${name} is blank at ${width} px`).toBeGreaterThan(500)
    }
    // A ranking with nothing to rank says so, in the page's language, instead of a blank card.
    const failing = page.locator('.tops .el-card', { hasText: '失败最多的部署' })
    await failing.scrollIntoViewIfNeeded()
    await expect(failing).toContainText('暂无数据')
    // …in the middle of the card's body, where its chart would be, not a small line at its top
    const centred = await failing.evaluate((card) => {
      const body = card.querySelector('.el-card__body')?.getBoundingClientRect()
      const words = card.querySelector('[data-test=topn-empty]')
      if (!body || !words) return null
      const range = document.createRange()
      range.selectNodeContents(words)
      const text = range.getBoundingClientRect()
      return [Math.round(Math.abs(text.x + text.width / 2 - (body.x + body.width / 2))), Math.round(Math.abs(text.y + text.height / 2 - (body.y + body.height / 2)))]
    })
    expect(centred).not.toBeNull()
    expect(Math.max(...(centred ?? [99]))).toBeLessThanOrEqual(2)
    // the rankings fill their rows: no empty slot at the end of one (3 + 2 at 1280 px left one beside the last two)
    expect(await rankingRowGaps(page), `rankings' rows at ${width} px`).toEqual([])
    await shot(page, `dashboard-whole-zh-CN-${width}px`)
  }
  expect(problems).toEqual([])
})
