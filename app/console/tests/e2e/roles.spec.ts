import { expect, test, type APIRequestContext, type Page } from '@playwright/test'
import { apiToken, createMember, shot, signIn, watchProblems, watchStatus } from './helpers'

/** Buttons a viewer must never see: they would all answer 403. */
const FORBIDDEN_BUTTONS = /^\s*(Run|Edit|Delete|Cancel run|Retry run|Retry|Cancel)\s*$/

async function runs(request: APIRequestContext, headers: Record<string, string>): Promise<{ finished: string; running: string }> {
  const name = `e2e-roles-${Date.now()}`
  const steps = [{ type: 'log', message: 'roles' }, { type: 'sleep', seconds: 60 }]
  expect((await request.post('/api/v1/pipelines', { headers, data: { name, spec: { steps } } })).status()).toBe(201)
  const quick = `${name}-quick`
  expect((await request.post('/api/v1/pipelines', { headers, data: { name: quick, spec: { steps: [{ type: 'log', message: 'quick' }] } } })).status()).toBe(201)
  const running = ((await (await request.post('/api/v1/runs', { headers, data: { pipeline: name } })).json()) as { id: string }).id
  const finished = ((await (await request.post('/api/v1/runs', { headers, data: { pipeline: quick } })).json()) as { id: string }).id
  await expect
    .poll(async () => ((await (await request.get(`/api/v1/runs/${finished}`, { headers })).json()) as { status: string }).status, { timeout: 60_000 })
    .toBe('SUCCEEDED')
  return { finished, running }
}

/** API calls in flight, the live log's long stream aside (networkidle never comes while a log is followed). */
function inFlight(page: Page): () => number {
  let count = 0
  const counts = (url: string) => url.includes('/api/') && !url.includes('/logs')
  page.on('request', (r) => (count += counts(r.url()) ? 1 : 0))
  page.on('requestfinished', (r) => (count -= counts(r.url()) ? 1 : 0))
  page.on('requestfailed', (r) => (count -= counts(r.url()) ? 1 : 0))
  return () => count
}

async function noForbiddenButtons(page: Page, pending: () => number): Promise<void> {
  await expect(page.locator('h1').first()).toBeVisible()
  await expect.poll(pending, { timeout: 10_000 }).toBeLessThanOrEqual(0)
  expect(await page.getByRole('button', { name: FORBIDDEN_BUTTONS }).count()).toBe(0)
  expect(await page.locator('[data-test=cancel-run], [data-test=retry-run]').count()).toBe(0)
}

test('a viewer clicks through every page: no Run/Edit/Cancel/Retry/Delete button, and never a 403', async ({ page, request }) => {
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const viewer = await createMember(request, headers, 'viewer')
  const { finished, running } = await runs(request, headers)
  const problems = watchProblems(page)
  const forbidden = watchStatus(page, 403)
  const pending = inFlight(page)

  await signIn(page, 'en', viewer.username, viewer.password)
  await noForbiddenButtons(page, pending)
  // every menu entry the viewer is shown
  const entries = await page.locator('[data-test^="menu-/"]').evaluateAll((items) => items.map((i) => i.getAttribute('data-test')))
  expect(entries.length).toBeGreaterThan(2)
  for (const entry of entries) {
    await page.locator(`[data-test="${entry}"]`).click()
    await noForbiddenButtons(page, pending)
  }
  await page.goto('/runs')
  await page.locator(`[data-test=run-link][href="/runs/${running}"]`).click()
  await expect(page.locator('[data-test=run-status]')).toBeVisible()
  await expect(page.locator('[data-test=log]')).toContainText('roles')
  await noForbiddenButtons(page, pending)
  await shot(page, 'run-detail-viewer-en')
  await page.goto(`/runs/${finished}`)
  await expect(page.locator('[data-test=run-status]')).toHaveAttribute('data-status', 'SUCCEEDED')
  await expect(page.locator('[data-test=run-status]')).toHaveText('Succeeded')
  await noForbiddenButtons(page, pending)

  await request.post(`/api/v1/runs/${running}/cancel`, { headers })
  expect(forbidden).toEqual([])
  expect(problems).toEqual([])
})

test('an operator sees Cancel on a running run and Retry on a finished one, and both work', async ({ page, request }) => {
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const operator = await createMember(request, headers, 'operator')
  const { finished, running } = await runs(request, headers)
  const forbidden = watchStatus(page, 403)

  await signIn(page, 'en', operator.username, operator.password)
  await page.goto(`/runs/${finished}`)
  await expect(page.locator('[data-test=retry-run]')).toBeVisible()
  await page.goto(`/runs/${running}`)
  await expect(page.locator('[data-test=log]')).toContainText('roles')
  await page.locator('[data-test=cancel-run]').click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await expect(page.locator('[data-test=run-status]')).toHaveAttribute('data-status', 'CANCELLED', { timeout: 20_000 })
  await expect(page.locator('[data-test=retry-run]')).toBeVisible()
  await shot(page, 'run-detail-operator-en')
  expect(forbidden).toEqual([])
})
