import { expect, test, type APIRequestContext, type Page } from '@playwright/test'
import { apiToken, shotWidths, signIn, watchProblems } from './helpers'

/** The loopback receiver tests/browser/test_console.py started; the shared system allows it. */
const RECEIVER = process.env.WEBHOOK_RECEIVER ?? ''

test.setTimeout(300_000) // more than a page of webhooks made through the API, on a busy shared machine
// (a search box the page lacks is waited for until then)

async function made(request: APIRequestContext, path: string, headers: Record<string, string>, data: object): Promise<string> {
  const response = await request.post(path, { headers, data })
  expect(response.status(), await response.text()).toBe(201)
  return ((await response.json()) as { id: string }).id
}

/** Types `text` into the search box `box`, submits it, and waits for the list at `path` asked with it. */
async function search(page: Page, box: string, text: string, path: string): Promise<void> {
  const asked = page.waitForResponse((r) => r.url().includes(`${path}?`) && new URL(r.url()).searchParams.get('search') === text)
  await page.locator(`input[data-test=${box}]`).fill(text)
  await page.locator(`input[data-test=${box}]`).press('Enter')
  expect((await asked).status()).toBe(200)
}

test('pipelines are searched by part of their name in any case, on the server: the list and the deployment form\'s picker (zh-CN)', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const pipeline = `Nightly-Sales-${stamp}`
  await made(request, '/api/v1/pipelines', headers, { name: pipeline, spec: { steps: [{ type: 'log', message: 'x' }] } })
  await made(request, '/api/v1/pipelines', headers, { name: `hourly-${stamp}`, spec: { steps: [{ type: 'log', message: 'x' }] } })

  await signIn(page, 'zh-CN')
  // The middle of the name, in another case (this was an exact-case prefix: nothing was found).
  await page.goto('/pipelines')
  await search(page, 'pipeline-search', `sales-${stamp}`.toUpperCase(), '/api/v1/pipelines')
  const pipelines = page.locator('[data-test=pipeline-link]')
  await expect(pipelines).toHaveCount(1)
  await expect(pipelines).toHaveText(pipeline)
  await shotWidths(page, 'zh-pipelines-search')

  // The deployment form's pipeline picker asks the API for part of the name too.
  await page.goto('/deployments/new')
  const asked = page.waitForRequest((r) => r.url().includes('/api/v1/pipelines?') && new URL(r.url()).searchParams.get('search') === `sales-${stamp}`)
  await page.locator('[data-test=deployment-pipeline]').click()
  await page.keyboard.type(`sales-${stamp}`)
  await asked
  await expect(page.locator('.el-select-dropdown__item:visible', { hasText: pipeline })).toBeVisible()
  expect(problems).toEqual([])
})

test('the 51st webhook is found by part of its description and edited (zh-CN)', async ({ page, request }) => {
  expect(RECEIVER, 'WEBHOOK_RECEIVER is set by tests/browser/test_console.py').not.toBe('')
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const pipeline = await made(request, '/api/v1/pipelines', headers, { name: `Hooked-Report-${stamp}`, spec: { steps: [{ type: 'log', message: 'x' }] } })
  const oldest = await made(request, '/api/v1/webhooks', headers, {
    url: `${RECEIVER}?report=${stamp}`, description: `夜间报表-${stamp}`, event_types: ['run.failed'], namespace: 'default',
  })
  for (let n = 0; n < 50; n++) {
    await made(request, '/api/v1/webhooks', headers, { url: `${RECEIVER}?n=${n}`, description: `filler-${stamp}-${n}`, event_types: ['run.failed'], namespace: 'default' })
  }

  await signIn(page, 'zh-CN')
  await page.goto('/settings/webhooks')
  const row = page.locator('[data-test=webhooks-table] tbody tr', { hasText: `报表-${stamp}` })
  await expect(page.locator('[data-test=webhooks-table] tbody tr', { hasText: `filler-${stamp}-49` })).toBeVisible()
  await expect(row).toHaveCount(0) // not on the first page: the 50 made after it fill it
  await search(page, 'webhook-search', `报表-${stamp}`, '/api/v1/webhooks')
  await expect(row).toHaveCount(1)
  await shotWidths(page, 'zh-webhooks-search')
  await row.locator('[data-test=edit-webhook]').click()
  await page.locator('input[data-test=webhook-description]').fill(`夜间报表-${stamp} 已改`)
  // Its pipeline filter is searched by part of the name through the API, like every pipeline picker.
  const asked = page.waitForRequest((r) => r.url().includes('/api/v1/pipelines?') && new URL(r.url()).searchParams.get('search') === `report-${stamp}`)
  await page.locator('[data-test=webhook-pipeline]').click()
  await page.keyboard.type(`report-${stamp}`)
  await asked
  await page.locator(`.el-select-dropdown__item[data-id="${pipeline}"]:visible`).click()
  await page.locator('[data-test=save-webhook]').click()
  await expect(page.locator('[data-test=webhooks-table] tbody tr', { hasText: `夜间报表-${stamp} 已改` })).toHaveCount(1)
  const saved = await request.get(`/api/v1/webhooks/${oldest}`, { headers })
  expect(await saved.json()).toMatchObject({ description: `夜间报表-${stamp} 已改`, pipeline_id: pipeline })
  // Opened again, the filter shows the pipeline by name, not its id.
  await page.locator('[data-test=webhooks-table] tbody tr', { hasText: '已改' }).locator('[data-test=edit-webhook]').click()
  await expect(page.locator('[data-test=webhook-pipeline]')).toContainText(`Hooked-Report-${stamp}`)
  await shotWidths(page, 'zh-webhook-edit-pipeline-by-name')

  expect(problems).toEqual([])
})

test('runs, API tokens and uploads are searched by name on the server: the runs list, the tokens list, the audit log (zh-CN)', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const pipeline = `Nightly-Sales-${stamp}`
  await made(request, '/api/v1/pipelines', headers, { name: pipeline, spec: { steps: [{ type: 'log', message: 'x' }] } })
  const other = `hourly-${stamp}`
  await made(request, '/api/v1/pipelines', headers, { name: other, spec: { steps: [{ type: 'log', message: 'x' }] } })
  const salesRun = await made(request, '/api/v1/runs', headers, { pipeline })
  const otherRun = await made(request, '/api/v1/runs', headers, { pipeline: other })
  const token = `夜间导入-${stamp}`
  await made(request, '/api/v1/tokens', headers, { name: token, namespace: 'default', role: 'viewer' })
  await made(request, '/api/v1/tokens', headers, { name: `laptop-${stamp}`, namespace: 'default', role: 'viewer' })
  const upload = await made(request, '/api/v1/uploads', headers, { filename: `销售明细-${stamp}.csv`, size: 10, namespace: 'default' })

  await signIn(page, 'zh-CN')
  // Runs: by the name of the pipeline they ran.
  await page.goto('/runs')
  await search(page, 'filter-search', `SALES-${stamp}`, '/api/v1/runs')
  await expect(page.locator(`[data-test=run-link][href="/runs/${salesRun}"]`)).toBeVisible()
  await expect(page.locator(`[data-test=run-link][href="/runs/${otherRun}"]`)).toHaveCount(0)
  await expect(page.locator('[data-test=run-link]')).toHaveCount(1)
  await shotWidths(page, 'zh-runs-search')

  // Tokens: by part of a Chinese name.
  await page.goto('/settings/tokens')
  await search(page, 'token-search', `导入-${stamp}`, '/api/v1/tokens')
  const rows = page.locator('[data-test=tokens-table] tbody tr')
  await expect(rows).toHaveCount(1)
  await expect(rows).toContainText(token)
  await shotWidths(page, 'zh-tokens-search')

  // The audit log's upload, by part of its file name.
  await page.goto('/settings/audit')
  await page.locator('[data-test=audit-resource-id]').click()
  await page.keyboard.type(`明细-${stamp}`)
  const option = page.locator(`.el-select-dropdown__item[data-id="${upload}"]:visible`)
  await expect(option).toContainText('上传')
  await option.click()
  await expect(page.locator('[data-test=audit-resource-type]')).toContainText('上传')
  await page.locator('[data-test=audit-filter]').click()
  await expect(page.locator('[data-test=audit-resource][data-type=upload]')).toHaveCount(1)
  await shotWidths(page, 'zh-audit-upload-by-name')
  expect(problems).toEqual([])
})
