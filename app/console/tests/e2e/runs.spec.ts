import { expect, test } from '@playwright/test'
import { apiToken, shot, signIn, watchProblems } from './helpers'

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
  await expect(page.locator('[data-test=log-ended]')).toContainText('SUCCEEDED')
  await expect(page.locator('[data-test=run-status]')).toHaveText('SUCCEEDED')
  await expect(page.locator('[data-test=timeline]')).toContainText('SUCCEEDED')
  await expect(page.locator('[data-test=retry-run]')).toBeVisible()
  // The validation report card shows the validate step's verdict once the run is final.
  await expect(page.locator('[data-test=report-verdict]')).toHaveAttribute('data-passed', 'true')
  await expect(page.locator('[data-test=report-check][data-step=check_n]')).toContainText('not_null')
  await shot(page, 'run-detail-en')

  await page.goto('/runs')
  await expect(page.locator(`[data-test=run-link][href="/runs/${run.id}"]`)).toBeVisible()
  const row = page.locator('tr', { has: page.locator(`[data-test=run-link][href="/runs/${run.id}"]`) })
  await expect(row.locator('[data-test=run-pipeline]')).toHaveText(name) // the pipeline's name, not its id
  await shot(page, 'runs-en')
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
  await expect(page.locator('[data-test=run-status]')).toHaveText('CANCELLED', { timeout: 20_000 })
  await shot(page, 'run-cancelled-zh-CN')
})
