import { expect, test, type APIRequestContext, type Page } from '@playwright/test'
import { apiToken, shotWidths, signIn, watchProblems } from './helpers'

test.setTimeout(300_000) // a search box the page lacks is waited for until then

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
