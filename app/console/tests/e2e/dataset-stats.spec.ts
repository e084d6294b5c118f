import { expect, test } from '@playwright/test'
import { apiToken, importedCsv, shotWidths, signIn, watchProblems } from './helpers'

test('column stats and the Data tab read as the data has them: no decimal padding; the stats grouped, the cells not', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  // amount at the default decimal scale (stored 12.500000000), price at a chosen scale of 2
  const config = { columns: { amount: { type: 'decimal' }, price: { type: 'decimal', scale: 2 } } }
  const csv = 'name,amount,price,qty\nalice,12.5,1.5,1200\nbob,3,2,45000\n'
  const name = `stats-${Date.now()}`
  const { id } = await importedCsv(request, headers, name, csv, config)
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

  // The Data tab's cells have the same digits, ungrouped as a sheet shows them (an id or a year is no magnitude):
  // 12.5 and 1200, a chosen scale's 1.50 kept.
  const cells = (row: number) => page.locator('[data-test=rows-table] tbody tr.el-table__row').nth(row).locator('td')
  await page.locator('#tab-data').click()
  await expect(cells(0)).toHaveText(['alice', '12.5', '1.50', '1200'])
  await expect(cells(1)).toHaveText(['bob', '3', '2.00', '45000'])

  // A pipeline's decimal at a scale nobody chose (9 + 2 = 11 digits: the API sends 18.75000000000) reads 18.75.
  const pipeline = `${name}-total`
  const spec = {
    inputs: { stats: { dataset: name } },
    steps: [{ id: 'total', type: 'sql', sql: 'SELECT name, amount * price AS total, qty * 1000 AS big FROM stats' }],
    output: { dataset: pipeline },
  }
  expect((await request.post('/api/v1/pipelines', { headers, data: { name: pipeline, spec } })).status()).toBe(201)
  const run = ((await (await request.post('/api/v1/runs', { headers, data: { pipeline } })).json()) as { id: string }).id
  const status = async () => ((await (await request.get(`/api/v1/runs/${run}`, { headers })).json()) as { status: string }).status
  await expect.poll(status, { timeout: 60_000 }).toBe('SUCCEEDED')
  const made = (await (await request.get('/api/v1/datasets', { headers, params: { search: pipeline } })).json()) as { items: { id: string }[] }
  const output = made.items[0]?.id ?? ''
  const sent = (await (await request.get(`/api/v1/datasets/${output}/rows`, { headers })).json()) as { rows: unknown[][] }
  expect(sent.rows[0]?.[1]).toBe('18.75000000000') // padded, as the API sends it
  await page.goto(`/datasets/${output}`)
  await page.locator('#tab-data').click()
  await expect(cells(0)).toHaveText(['alice', '18.75', '1200000'])
  await expect(cells(1)).toHaveText(['bob', '6', '45000000'])
  await shotWidths(page, 'zh-dataset-data-tab')
  await page.locator('#tab-stats').click()
  await expect(row('total').locator('[data-test=column-max]')).toHaveText('18.75')
  expect(problems).toEqual([])
})
