import { expect, test } from '@playwright/test'
import { apiToken, importedCsv, signIn, watchProblems } from './helpers'

test('column stats read as the data has them: no decimal padding, thousands grouped', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  // amount at the default decimal scale (stored 12.500000000), price at a chosen scale of 2
  const config = { columns: { amount: { type: 'decimal' }, price: { type: 'decimal', scale: 2 } } }
  const csv = 'name,amount,price,qty\nalice,12.5,1.5,1200\nbob,3,2,45000\n'
  const { id } = await importedCsv(request, headers, `stats-${Date.now()}`, csv, config)
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
