import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { expect, test, type Page } from '@playwright/test'
import { apiToken, axeViolations as violations, expectDrawnWhole, shot, signIn, watchProblems } from './helpers'

/** Files written by tests/browser/dataset_fixtures.py; their manifest's path comes in DATASET_FIXTURES. */
interface Fixtures {
  xlsx: string
  gb18030: string
  large: string
  bad: string
  long: string
  xlsx_rows: number
  large_size: number
  large_sha256: string
}
const fx = JSON.parse(readFileSync(process.env.DATASET_FIXTURES ?? '', 'utf8')) as Fixtures
const stamp = Date.now()

/** Upload through the dialog; lands on the preview and configure page. */
async function upload(page: Page, file: string, name: string): Promise<string> {
  await page.goto('/datasets')
  await page.locator('[data-test=upload-open]').click()
  await page.locator('[data-test=file-input]').setInputFiles(file)
  await page.locator('[data-test=upload-name]').fill(name)
  await page.locator('[data-test=upload-start]').click()
  await page.waitForURL(/\/datasets\/[0-9a-f-]+\/configure$/)
  return page.url().split('/').slice(-2)[0] ?? ''
}

async function choose(page: Page, select: string, option: string): Promise<void> {
  await page.locator(select).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click()
}

/** Import as configured, wait for the outcome, open the dataset page. */
async function importAndOpen(page: Page): Promise<void> {
  await page.locator('[data-test=start-import]').click()
  await expect(page.locator('[data-test=import-done]')).toBeVisible()
  await page.locator('[data-test=open-dataset]').click()
  await page.locator('.el-tabs__item', { hasText: 'Column statistics' }).click()
}

const headers = (page: Page) => page.locator('[data-test=preview-header]')
const columnType = (page: Page, column: string) => page.locator(`[data-test=column-type][data-column="${column}"]`)

test.setTimeout(240_000) // a cap for a loaded machine; on an idle one the spec takes well under a minute

test('data center: workbook and GB18030 imports, a resumable upload across a reload, a strict import failure, lineage', async ({ page, request }) => {
  const problems = watchProblems(page)
  const auth = { Authorization: `Bearer ${await apiToken(request)}` }
  const found: Record<string, string[]> = {}
  await signIn(page, 'en')

  // A workbook whose data sits on its second sheet below a merged title row: the sheet and header row are chosen.
  const citiesId = await upload(page, fx.xlsx, `cities-${stamp}`)
  await expect(page.locator('[data-test=cfg-sheet]')).toBeVisible()
  await choose(page, '[data-test=cfg-sheet]', 'Notes')
  await expect(headers(page).first()).toContainText('This workbook')
  await choose(page, '[data-test=cfg-sheet]', '数据')
  await page.locator('[data-test=cfg-header-row] input').fill('3')
  await page.locator('[data-test=cfg-header-row] input').press('Tab')
  await expect(headers(page)).toHaveText(['城市', '人数', '日期'])
  await expect(page.locator('[data-test=preview-table] tbody tr.el-table__row')).toHaveCount(fx.xlsx_rows)
  found.configure = await violations(page)
  await shot(page, 'dataset-configure-en')
  await importAndOpen(page)
  await expect(page.locator('[data-test=row-count]')).toHaveText(String(fx.xlsx_rows))
  // Column types read as words; the API's code stays in data-type.
  await expect(columnType(page, '人数')).toHaveText('Integer')
  await expect(columnType(page, '人数')).toHaveAttribute('data-type', 'integer')
  await expect(columnType(page, '日期')).toHaveText('Date')
  await expect(columnType(page, '城市')).toHaveText('Text')
  found.dataset = await violations(page)
  // The rows table with a filter built in the small UI: 人数 > 20 leaves two rows.
  await page.locator('.el-tabs__item', { hasText: 'Data' }).click()
  await page.locator('[data-test=add-filter]').click()
  await choose(page, '[data-test=filter-column]', '人数')
  await choose(page, '[data-test=filter-op]', 'gt')
  await page.locator('[data-test=filter-value]').fill('20')
  await page.locator('[data-test=apply-filters]').click()
  await expect(page.locator('[data-test=rows-total]')).toHaveText('2 rows in all')
  await expect(page.locator('[data-test=rows-table] tbody tr.el-table__row')).toHaveCount(2)
  await page.locator('.el-tabs__item', { hasText: 'Versions' }).click()
  await expect(page.locator('[data-test=made-by]').first()).toHaveAttribute('data-kind', 'ingest')
  await expect(page.locator('[data-test=made-by]').first()).toContainText('Import')

  // A pipeline reads the imported dataset and writes a generated one; it runs while the spec goes on (lineage at the end).
  const lineagePipeline = `e2e-lineage-${stamp}`
  const made = await request.post('/api/v1/pipelines', {
    headers: auth,
    data: {
      name: lineagePipeline,
      spec: {
        inputs: { cities: { dataset: `cities-${stamp}` } },
        steps: [{ id: 'big', type: 'sql', sql: 'SELECT "城市", "人数" FROM cities WHERE "人数" > 20' }],
        output: { dataset: `lineage-out-${stamp}` },
      },
    },
  })
  expect(made.status(), await made.text()).toBe(201)
  const pipelineId = ((await made.json()) as { id: string }).id
  const submitted = await request.post('/api/v1/runs', { headers: auth, data: { pipeline: lineagePipeline } })
  expect(submitted.status(), await submitted.text()).toBe(201)
  const lineageRun = ((await submitted.json()) as { id: string }).id

  // A GB18030 CSV: the encoding is detected and the Chinese headers show as in the file.
  await upload(page, fx.gb18030, `fruit-${stamp}`)
  await expect(page.locator('[data-test=detected]')).toContainText('gb18030')
  await expect(headers(page)).toHaveText(['名称', '数量', '备注'])
  await importAndOpen(page)
  await expect(page.locator('[data-test=row-count]')).toHaveText('4')
  await expect(columnType(page, '数量')).toHaveText('Integer')
  // In the runs list an import names what it imported into, not "—".
  await page.goto('/runs')
  await expect(page.locator('[data-test=run-pipeline]', { hasText: `Import: fruit-${stamp}` })).toHaveCount(1)
  await expect(page.locator('[data-test=run-pipeline]', { hasText: `Import: cities-${stamp}` })).toHaveCount(1)

  // A cell over 10,000 characters: the rows table shows its first 10,000 and marks it as cut.
  await upload(page, fx.long, `long-${stamp}`)
  await importAndOpen(page)
  await page.locator('.el-tabs__item', { hasText: 'Data' }).click()
  const cut = page.locator('[data-test=cell-truncated]')
  await expect(cut).toHaveCount(1)
  await expect(cut).toHaveAttribute('title', 'Showing the first 10,000 of 12,000 characters; download the dataset for the whole value')

  // A resumable upload in 64 KB chunks: the page reloads after three chunks, choosing the file again sends the rest.
  await page.evaluate(() => {
    localStorage.setItem('conveyor.upload.oneShotMax', '1')
    localStorage.setItem('conveyor.upload.chunkBytes', String(64 * 1024))
  })
  let sent = 0
  await page.route('**/api/v1/uploads/*', async (route) => {
    if (route.request().method() !== 'PUT') return route.continue()
    sent += 1
    return sent <= 3 ? route.continue() : route.abort('connectionreset') // the connection drops on the fourth chunk
  })
  await page.goto('/datasets')
  await page.locator('[data-test=upload-open]').click()
  await page.locator('[data-test=file-input]').setInputFiles(fx.large)
  await page.locator('[data-test=upload-name]').fill(`large-${stamp}`)
  await page.locator('[data-test=upload-start]').click()
  await expect.poll(() => sent).toBe(4)
  await page.unrouteAll({ behavior: 'ignoreErrors' })
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('conveyor.uploads') ?? '[]') as { uploadId: string }[])
  expect(saved).toHaveLength(1)
  const half = (await (await request.get(`/api/v1/uploads/${saved[0]?.uploadId}`, { headers: auth })).json()) as { received: number }
  expect(half.received).toBe(3 * 64 * 1024)
  await page.reload()
  let resent = 0
  page.on('request', (r) => {
    if (r.method() === 'PUT' && r.url().includes('/api/v1/uploads/')) resent += 1
  })
  await page.locator('[data-test=upload-open]').click()
  await expect(page.locator('[data-test=unfinished-upload]')).toContainText('large-upload.csv')
  found.upload = await violations(page)
  await page.locator('[data-test=file-input]').setInputFiles(fx.large)
  await expect(page.locator('[data-test=upload-name]')).toHaveValue(`large-${stamp}`)
  await page.locator('[data-test=upload-start]').click()
  await page.waitForURL(/\/configure$/)
  const chunks = Math.ceil(fx.large_size / (64 * 1024))
  expect(resent).toBe(chunks - 3) // only the missing ranges went again
  const largeId = page.url().split('/').slice(-2)[0] ?? ''
  const stored = (await (await request.get(`/api/v1/datasets/${largeId}`, { headers: auth })).json()) as { file: { sha256: string; size: number } }
  expect(stored.file).toMatchObject({ sha256: fx.large_sha256, size: fx.large_size })
  const raw = await request.get(`/api/v1/datasets/${largeId}/download?format=raw`, { headers: auth })
  expect(createHash('sha256').update(await raw.body()).digest('hex')).toBe(fx.large_sha256)

  // A strict import of a file with a bad cell shows the row and column of the problem.
  await upload(page, fx.bad, `bad-${stamp}`)
  await expect(headers(page)).toHaveText(['name', 'amount'])
  await choose(page, '[data-test=cfg-col-amount] .coltype', 'integer')
  await expect(page.locator('[data-test=column-warning]')).toHaveAttribute('aria-label', /[Rr]ow 4/) // shown on its column
  await page.locator('[data-test=start-import]').click()
  await expect(page.locator('[data-test=import-failed]')).toBeVisible()
  const first = page.locator('[data-test=import-problems] tbody tr.el-table__row').first()
  await expect(first.locator('td').nth(0)).toHaveText('4')
  await expect(first.locator('td').nth(1)).toHaveText('amount')
  await shot(page, 'dataset-strict-failure-en')

  // The generated dataset's lineage: input version → pipeline version and its run → this output; the input links back.
  let outputId = ''
  await expect
    .poll(async () => {
      const run = (await (await request.get(`/api/v1/runs/${lineageRun}`, { headers: auth })).json()) as { status: string; output_dataset_id: string | null }
      outputId = run.output_dataset_id ?? ''
      return run.status
    }, { timeout: 60_000 })
    .toBe('SUCCEEDED')
  await page.goto(`/datasets/${outputId}`)
  await page.locator('.el-tabs__item', { hasText: 'Lineage' }).click()
  await expect(page.locator('[data-test=lineage-input]')).toHaveText(`cities: cities-${stamp} v1`)
  await expect(page.locator('[data-test=lineage-pipeline]')).toHaveText(`Pipeline: ${lineagePipeline} v1`)
  await expect(page.locator('[data-test=lineage-pipeline]')).toHaveAttribute('href', `/pipelines/${pipelineId}`)
  await expect(page.locator('[data-test=lineage-run]')).toHaveAttribute('href', `/runs/${lineageRun}`)
  await expect(page.locator('[data-test=lineage-output]')).toHaveText(`lineage-out-${stamp} v1`)
  found.lineage = await violations(page)
  await shot(page, 'dataset-lineage-en')
  await page.locator('[data-test=lineage-input]').click()
  await expect(page).toHaveURL(new RegExp(`/datasets/${citiesId}$`))
  await expect(page.locator('[data-test=dataset-name]')).toHaveText(`cities-${stamp}`)

  await page.goto('/datasets')
  await expect(page.locator('[data-test=dataset-link]', { hasText: `cities-${stamp}` })).toBeVisible()
  found.list = await violations(page)
  await page.addInitScript(() => localStorage.setItem('conveyor.locale', 'zh-CN')) // runs after signIn's 'en'
  await page.reload()
  await expect(page.locator('h1')).toHaveText('数据中心')
  // the list as a person sees it once loaded, not the empty table before it (暂无数据 in the screenshot)
  await expect(page.locator('[data-test=dataset-link]', { hasText: `cities-${stamp}` })).toBeVisible()
  await expectDrawnWhole(page.locator('[data-test=dataset-status]').first())
  await shot(page, 'datasets-zh-CN')
  expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])))
  expect(problems).toEqual([])
})
