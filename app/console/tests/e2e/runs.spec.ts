import { expect, test, type Page } from '@playwright/test'
import { apiToken, shot, signIn, watchProblems } from './helpers'

async function choose(page: Page, select: string, option: string): Promise<void> {
  await page.locator(select).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click()
}

test('a run page follows the live log to SUCCEEDED, and the runs list links to it', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const name = `e2e-live-${Date.now()}`
  const steps = [
    { type: 'log', message: 'first line, before the pause' },
    { type: 'sleep', seconds: 10 },
    { type: 'log', message: 'second line, after the pause' },
    { id: 'one_row', type: 'sql', sql: 'SELECT 1 AS n' },
    { id: 'check_n', type: 'validate', rules: [{ rule: 'not_null', columns: ['n'] }] },
  ]
  expect((await request.post('/api/v1/pipelines', { headers, data: { name, spec: { steps } } })).status()).toBe(201)
  await signIn(page, 'en')
  const submitted = await request.post('/api/v1/runs', { headers, data: { pipeline: name } })
  expect(submitted.status()).toBe(201)
  const run = (await submitted.json()) as { id: string }

  await page.goto(`/runs/${run.id}`)
  const log = page.locator('[data-test=log]')
  await expect(log).toContainText('first line, before the pause')
  expect(await page.locator('[data-test=log-ended]').count()).toBe(0) // the log is still live here
  await expect(log).toContainText('second line, after the pause')
  // Statuses read as words; the API's code stays in data-status and the tooltip.
  await expect(page.locator('[data-test=log-ended]')).toHaveAttribute('data-status', 'SUCCEEDED')
  await expect(page.locator('[data-test=log-ended]')).toHaveText('Log ended: Succeeded')
  await expect(page.locator('[data-test=run-status]')).toHaveAttribute('data-status', 'SUCCEEDED')
  await expect(page.locator('[data-test=run-status]')).toHaveText('Succeeded')
  await expect(page.locator('[data-test=run-status]')).toHaveAttribute('title', 'SUCCEEDED')
  const finalEvent = page.locator('[data-test=timeline-status][data-status=SUCCEEDED]')
  await expect(finalEvent).toHaveText('Succeeded')
  await expect(page.locator('[data-test=run-kind]')).toHaveText('Pipeline')
  await expect(page.locator('[data-test=run-trigger]')).toHaveText('API')
  await expect(page.locator('[data-test=timeline]')).not.toContainText('SUCCEEDED')
  await expect(page.locator('[data-test=retry-run]')).toBeVisible()
  // The validation report card shows the validate step's verdict once the run is final.
  await expect(page.locator('[data-test=report-verdict]')).toHaveAttribute('data-passed', 'true')
  await expect(page.locator('[data-test=report-check][data-step=check_n]')).toContainText('not_null')
  await shot(page, 'run-detail-en')

  await page.goto('/runs')
  await expect(page.locator(`[data-test=run-link][href="/runs/${run.id}"]`)).toBeVisible()
  const row = page.locator('tr', { has: page.locator(`[data-test=run-link][href="/runs/${run.id}"]`) })
  await expect(row.locator('[data-test=run-pipeline]')).toHaveText(name) // the pipeline's name, not its id
  await expect(row.locator('[data-test=status]')).toHaveAttribute('data-status', 'SUCCEEDED')
  await expect(row.locator('[data-test=status]')).toHaveText('Succeeded')
  await shot(page, 'runs-en')

  // In Chinese the same list says 成功, and its status filter offers words but sends the API's codes.
  await choose(page, '[data-test=language]', '简体中文')
  await expect(row.locator('[data-test=status]')).toHaveText('成功')
  await expect(row.locator('[data-test=run-kind]')).toHaveText('流水线')
  await choose(page, '[data-test=filter-status]', '成功')
  await page.keyboard.press('Escape')
  const filtered = page.waitForResponse((r) => r.url().includes('/api/v1/runs?') && new URL(r.url()).searchParams.getAll('status').join() === 'SUCCEEDED')
  await page.locator('[data-test=apply-filters]').click()
  expect((await filtered).ok()).toBeTruthy()
  await expect(page.locator('[data-test=filter-status]')).toContainText('成功')
  await expect(page.locator(`[data-test=run-link][href="/runs/${run.id}"]`)).toBeVisible()
  const statuses = page.locator('[data-test=runs-table] [data-test=status]')
  await expect
    .poll(async () => [...new Set(await statuses.evaluateAll((tags) => tags.map((tag) => `${tag.getAttribute('data-status')} ${tag.textContent}`)))])
    .toEqual(['SUCCEEDED 成功'])
  await shot(page, 'runs-zh-CN')

  await page.locator(`[data-test=run-link][href="/runs/${run.id}"]`).click()
  await expect(page.locator('[data-test=run-status]')).toHaveText('成功')
  await expect(page.locator('[data-test=timeline-status][data-status=SUCCEEDED]')).toHaveText('成功')
  await expect(page.locator('[data-test=log-ended]')).toHaveText('日志结束：成功')
  await expect(page.locator('[data-test=run-trigger]')).toHaveText('API')
  await shot(page, 'run-detail-zh-CN')
  expect(problems).toEqual([])
})

test('cancel asks first, then cancels a running run', async ({ page, request }) => {
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const name = `e2e-sleep-${Date.now()}`
  const steps = [{ type: 'log', message: 'sleeping' }, { type: 'sleep', seconds: 60 }]
  expect((await request.post('/api/v1/pipelines', { headers, data: { name, spec: { steps } } })).status()).toBe(201)
  const run = (await (await request.post('/api/v1/runs', { headers, data: { pipeline: name } })).json()) as { id: string }

  await signIn(page, 'zh-CN')
  await page.goto(`/runs/${run.id}`)
  await expect(page.locator('[data-test=log]')).toContainText('sleeping')
  await page.locator('[data-test=cancel-run]').click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await expect(page.locator('[data-test=run-status]')).toHaveAttribute('data-status', 'CANCELLED', { timeout: 20_000 })
  await expect(page.locator('[data-test=run-status]')).toHaveText('已取消')
  await shot(page, 'run-cancelled-zh-CN')
})

test('a run page lists its parameters as name = value, as the deployment page does, not as JSON', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const name = `e2e-params-${Date.now()}`
  const spec = {
    params: { floor: { type: 'integer', default: 1 }, city: { type: 'string', default: '北京' } },
    steps: [{ type: 'log', message: '{{ params.city }} {{ params.floor }}' }],
  }
  expect((await request.post('/api/v1/pipelines', { headers, data: { name, spec } })).status()).toBe(201)
  const submitted = await request.post('/api/v1/runs', { headers, data: { pipeline: name, params: { floor: 7, city: '上海' } } })
  expect(submitted.status(), await submitted.text()).toBe(201)
  const run = (await submitted.json()) as { id: string }

  await signIn(page, 'zh-CN')
  await page.goto(`/runs/${run.id}`)
  const params = page.locator('[data-test=run-params]')
  await expect(params.locator('code')).toHaveCount(2)
  expect((await params.locator('code').allInnerTexts()).sort()).toEqual(['city = 上海', 'floor = 7'])
  await expect(params).not.toContainText('{')
  expect(problems).toEqual([])
})
