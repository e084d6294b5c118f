import { expect, test } from '@playwright/test'
import { apiToken, signIn, watchProblems } from './helpers'

test.setTimeout(240_000) // 22 imports through the real workers on a loaded machine

test('dataset page: the newest 20 versions with their count, older ones paged in, any one shown', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const made = await request.post('/api/v1/datasets?namespace=default', {
    headers,
    multipart: { name: `versions-${Date.now()}`, file: { name: 'v.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n3,4\n') } },
  })
  expect(made.status()).toBe(201)
  const id = ((await made.json()) as { id: string }).id
  for (let n = 0; n < 22; n += 1) { // one after another: each version is the next number
    const run = ((await (await request.post(`/api/v1/datasets/${id}/imports`, { headers, data: n === 0 ? { limit: 1 } : {} })).json()) as { id: string })
    await expect.poll(async () => ((await (await request.get(`/api/v1/runs/${run.id}`, { headers })).json()) as { status: string }).status, { timeout: 60_000 }).toBe('SUCCEEDED')
  }
  await signIn(page, 'en')
  await page.goto(`/datasets/${id}`)
  await page.locator('.el-tabs__item', { hasText: 'Versions' }).click()
  const rows = page.locator('[data-test=versions-table] tbody tr.el-table__row')
  await expect(rows).toHaveCount(20)
  await expect(page.locator('[data-test=versions-count]')).toHaveText('20 of 22 versions shown')
  await page.locator('[data-test=versions-more]').click()
  await expect(rows).toHaveCount(22)
  await expect(page.locator('[data-test=versions-count]')).toHaveText('22 of 22 versions shown')
  await expect(page.locator('[data-test=versions-more]')).toHaveCount(0)
  // The oldest version (its import kept 1 row) is shown from its row, as the newest are from the select.
  await page.locator('[data-test=version-show]', { hasText: /^v1$/ }).click()
  await expect(page.locator('[data-test=row-count]')).toHaveText('1')
  await expect(page.locator('[data-test=version-select]')).toContainText('v1')
  expect(problems).toEqual([])
})
