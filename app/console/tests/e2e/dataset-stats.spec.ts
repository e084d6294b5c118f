import { expect, test } from '@playwright/test'
import { apiToken, signIn, watchProblems } from './helpers'

test('column stats read as the data has them: no decimal padding, thousands grouped', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const made = await request.post('/api/v1/datasets?namespace=default', {
    headers,
    multipart: { name: `stats-${Date.now()}`, file: { name: 's.csv', mimeType: 'text/csv', buffer: Buffer.from('name,amount,price,qty\nalice,12.5,1.5,1200\nbob,3,2,45000\n') } },
  })
  expect(made.status()).toBe(201)
  const id = ((await made.json()) as { id: string }).id
  // amount at the default decimal scale (stored 12.500000000), price at a chosen scale of 2
  const config = { columns: { amount: { type: 'decimal' }, price: { type: 'decimal', scale: 2 } } }
  const run = (await (await request.post(`/api/v1/datasets/${id}/imports`, { headers, data: config })).json()) as { id: string }
  await expect.poll(async () => ((await (await request.get(`/api/v1/runs/${run.id}`, { headers })).json()) as { status: string }).status, { timeout: 60_000 }).toBe('SUCCEEDED')
  const stored = (await (await request.get(`/api/v1/datasets/${id}`, { headers })).json()) as { versions: { columns: { name: string; max: string }[] }[] }
  expect(stored.versions[0]?.columns.find((c) => c.name === 'amount')?.max).toBe('12.500000000') // what the API keeps

  await signIn(page, 'zh-CN')
  await page.goto(`/datasets/${id}`)
  await page.locator('#tab-stats').click()
  const row = (column: string) => page.locator('[data-test=column-stats] tbody tr', { has: page.locator(`[data-test=column-type][data-column=${column}]`) })
  await expect(row('amount').locator('[data-test=column-max]')).toHaveText('12.5')
  await expect(row('amount').locator('[data-test=column-min]')).toHaveText('3')
  await expect(row('price').locator('[data-test=column-min]')).toHaveText('1.50')
  await expect(row('qty').locator('[data-test=column-max]')).toHaveText('45,000')
  expect(problems).toEqual([])
})
