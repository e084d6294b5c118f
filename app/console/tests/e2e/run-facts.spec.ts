import { expect, test } from '@playwright/test'
import { apiToken, shotWidths, signIn, watchProblems } from './helpers'

test('a retried run says which pipeline it ran and which attempt it ended on (zh-CN, en)', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const pipeline = `facts-${Date.now()}`
  const spec = { steps: [{ type: 'fail', message: '上游文件缺失' }] }
  expect((await request.post('/api/v1/pipelines', { headers, data: { name: pipeline, spec } })).status()).toBe(201)
  const run = ((await (await request.post('/api/v1/runs', { headers, data: { pipeline, max_retries: 1 } })).json()) as { id: string }).id
  const status = async () => ((await (await request.get(`/api/v1/runs/${run}`, { headers })).json()) as { status: string }).status
  await expect.poll(status, { timeout: 60_000 }).toBe('FAILED')

  await signIn(page, 'zh-CN')
  await page.goto(`/runs/${run}`)
  const link = page.locator('[data-test=run-pipeline]')
  await expect(link).toHaveText(pipeline)
  await expect(link).toHaveAttribute('href', /^\/pipelines\/[0-9a-f-]{36}$/)
  await expect(page.locator('[data-test=run-attempts]')).toHaveText('第 2 次，共 2 次')
  // the run's whole time (first start to end), and its last attempt's beside it, each labelled
  await expect(page.locator('.facts')).toContainText('总耗时')
  await expect(page.locator('.facts')).toContainText('本次尝试')
  const seconds = async (test: string) => {
    const text = (await page.locator(`[data-test=${test}]`).textContent()) ?? ''
    const [, value, unit] = /([\d.]+)\s*(毫秒|秒|分钟)/.exec(text) ?? []
    return Number(value) * (unit === '毫秒' ? 0.001 : unit === '分钟' ? 60 : 1)
  }
  expect(await seconds('run-duration')).toBeGreaterThan(await seconds('run-attempt-duration'))
  await shotWidths(page, 'run-retried-zh-CN')
  // a phone reads the facts in one column (label, value), not two label-value pairs squeezed into each row
  const widest = () => page.locator('[data-test=run-facts] tr').evaluateAll((rows) => Math.max(...rows.map((r) => r.children.length)))
  await expect.poll(widest).toBe(4)
  await page.setViewportSize({ width: 390, height: 844 })
  await expect.poll(widest).toBe(2)
  await page.setViewportSize({ width: 1280, height: 800 })
  await page.locator('[data-test=language]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: 'English' }).click()
  await expect(page.locator('[data-test=run-attempts]')).toHaveText('2 of 2')
  await link.click()
  await expect(page).toHaveURL(/\/pipelines\/[0-9a-f-]{36}$/)
  await expect(page.getByText(pipeline).first()).toBeVisible()
  expect(problems).toEqual([])
})
