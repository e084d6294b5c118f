import { expect, test } from '@playwright/test'
import { apiToken, shot, signIn, watchProblems, writeSpec } from './helpers'

const SPEC = (kind: string, out: string) => `params:
  who: {type: string}
  day: {type: date, default: "2026-11-22"}
steps:
  - {type: log, message: "hello {{ params.who }}"}
  - {type: sleep, seconds: 3}
  - {type: ${kind}, message: "after the pause"}
  - {id: result, type: sql, sql: "SELECT $who AS who, $day AS day, 42 AS answer, CAST(NULL AS VARCHAR) AS nothing"}
output: {dataset: "${out}"}
`

test('write a pipeline with a typo, fix it, validate, run it with a parameter, follow its log, see its rows', async ({ page }) => {
  const problems = watchProblems(page)
  const name = `e2e-editor-${Date.now()}`
  await signIn(page, 'en')
  await page.locator('[data-test="menu-/pipelines"]').click()
  await page.locator('[data-test=new-pipeline]').click()
  await page.locator('input[data-test=pipeline-name-input]').fill(name)

  // A typo in a step type: marked in the text while typing, and again by Validate at its field.
  await writeSpec(page, SPEC('lgo', `${name}-out`))
  await expect(page.locator('.cm-lintRange-error').first()).toBeVisible()
  await expect(page.locator('[data-test=editor-problems]')).toContainText("unknown step type 'lgo'")
  await page.locator('[data-test=validate]').click()
  await expect(page.locator('[data-test=validate-errors]')).toContainText('spec.steps[2].type')
  await shot(page, 'pipeline-editor-error-en')

  // Fixed: Validate shows the output columns.
  await writeSpec(page, SPEC('log', `${name}-out`))
  await expect(page.locator('[data-test=editor-problems]')).toHaveCount(0)
  await page.locator('[data-test=validate]').click()
  await expect(page.locator('[data-test=validate-result]')).toContainText('Valid')
  const columns = page.locator('[data-test=output-columns]')
  for (const column of ['who', 'day', 'answer']) await expect(columns).toContainText(column)
  await shot(page, 'pipeline-editor-valid-en')

  await page.locator('[data-test=save-pipeline]').click()
  await expect(page.locator('[data-test=pipeline-name]')).toContainText(name)
  await expect(page.locator('[data-test=pipeline-spec]')).toContainText('after the pause')

  // Run with a parameter: the form comes from the typed params (a date picker for `day`).
  await page.locator('[data-test=run-pipeline]').click()
  const dialog = page.locator('[data-test=run-dialog]')
  await expect(dialog.locator('[data-test=param-day] .el-date-editor')).toBeVisible()
  // `who` has no default: the server's 422 on params.who is shown at that field, and the form keeps its values.
  await dialog.locator('[data-test=start-run]').click()
  await expect(dialog.locator('[data-test=param-who] .el-form-item__error')).toBeVisible()
  await expect(dialog.locator('[data-test=param-day] input')).toHaveValue('2026-11-22')
  await dialog.locator('[data-test=param-who] input').fill('console')
  await shot(page, 'pipeline-run-dialog-en')
  await dialog.locator('[data-test=start-run]').click()

  const log = page.locator('[data-test=log]')
  await expect(log).toContainText('hello console')
  expect(await page.locator('[data-test=log-ended]').count()).toBe(0) // still live: the sleep is running
  await expect(log).toContainText('after the pause')
  await expect(page.locator('[data-test=log-ended]')).toHaveAttribute('data-status', 'SUCCEEDED')
  await expect(page.locator('[data-test=log-ended]')).toContainText('Succeeded')
  await expect(page.locator('[data-test=pipeline-run-status]')).toHaveText('Succeeded')
  const rows = page.locator('[data-test=output-rows]')
  await expect(rows).toContainText('console')
  await expect(rows).toContainText('42')
  // A null reads as ∅, as in a dataset's rows table (not as a blank, which an empty string also is).
  await expect(rows.locator('[data-test=cell-null]')).toHaveText('∅')
  await shot(page, 'pipeline-run-output-en')
  expect(problems).toEqual([])
})

test('a new version from the editor shows in the versions and in the side-by-side diff', async ({ page, request }) => {
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const name = `e2e-diff-${Date.now()}`
  const spec = { steps: [{ type: 'log', message: 'first version' }] }
  const created = await request.post('/api/v1/pipelines', { headers, data: { name, spec } })
  expect(created.status()).toBe(201)
  const id = ((await created.json()) as { id: string }).id

  await signIn(page, 'zh-CN')
  await page.goto('/pipelines')
  await page.locator('input[data-test=pipeline-search]').fill(name)
  await page.locator('[data-test=pipeline-search-go]').click()
  await expect(page.locator('[data-test=pipeline-link]')).toHaveCount(1)
  await shot(page, 'pipelines-zh-CN')
  await page.locator('[data-test=pipeline-link]').click()
  await page.locator('[data-test=edit-pipeline]').click()
  await expect(page.locator('.cm-content')).toContainText('first version')
  // Completion offers the language's step types and keys from GET /pipelines/schema.
  await writeSpec(page, 'steps:\n  - {type: sle')
  await page.keyboard.press('Control+Space')
  await expect(page.locator('.cm-tooltip-autocomplete')).toContainText('sleep')
  await page.keyboard.press('Escape')
  await writeSpec(page, 'steps:\n  - {type: log, message: second version}\n')
  await page.locator('[data-test=save-pipeline]').click()
  await expect(page).toHaveURL(new RegExp(`/pipelines/${id}$`))
  await expect(page.locator('[data-test=pipeline-name]')).toContainText('v2')

  await page.getByRole('tab', { name: '版本历史' }).click()
  await expect(page.locator('[data-test=versions-table] tbody tr')).toHaveCount(2)
  await page.getByRole('tab', { name: '对比' }).click()
  await expect(page.locator('[data-test=diff-left] ').filter({ hasText: 'first version' })).toHaveClass(/removed/)
  await expect(page.locator('[data-test=diff-right]').filter({ hasText: 'second version' })).toHaveClass(/added/)
  await shot(page, 'pipeline-diff-zh-CN')
})

test('the Run dialog picks an input from the data center by name and pins its version', async ({ page, request }) => {
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const dataset = `e2e-cities-${stamp}`
  const uploaded = await request.post('/api/v1/datasets', {
    headers,
    multipart: { name: dataset, file: { name: 'cities.csv', mimeType: 'text/csv', buffer: Buffer.from('city,people\nAlpha,10\nBeta,20\n') } },
  })
  expect(uploaded.status()).toBe(201)
  const datasetId = ((await uploaded.json()) as { id: string }).id
  const started = await request.post(`/api/v1/datasets/${datasetId}/imports`, { headers, data: {} })
  expect(started.status()).toBe(202)
  const importRun = ((await started.json()) as { id: string }).id
  await expect
    .poll(async () => ((await (await request.get(`/api/v1/runs/${importRun}`, { headers })).json()) as { status: string }).status, { timeout: 60_000 })
    .toBe('SUCCEEDED')
  const name = `e2e-inputs-${stamp}`
  const spec = {
    inputs: { cities: { dataset: 'to-be-chosen' } },
    steps: [{ id: 'doubled', type: 'sql', sql: 'SELECT city, people * 2 AS doubled FROM cities ORDER BY city' }],
    output: { dataset: `${name}-out` },
  }
  const created = await request.post('/api/v1/pipelines', { headers, data: { name, spec } })
  expect(created.status()).toBe(201)
  const id = ((await created.json()) as { id: string }).id

  await signIn(page, 'en')
  await page.goto(`/pipelines/${id}`)
  await page.locator('[data-test=run-pipeline]').click()
  const input = page.locator('[data-test=input-cities]')
  await input.locator('.ds').click()
  await page.keyboard.type(`cities-${stamp}`)
  await page.locator('.el-select-dropdown__item:visible', { hasText: dataset }).click()
  await input.locator('.ver').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: 'v1' }).click()
  await shot(page, 'pipeline-run-inputs-en')
  await page.locator('[data-test=start-run]').click()

  await expect(page.locator('[data-test=log-ended]')).toHaveAttribute('data-status', 'SUCCEEDED')
  const rows = page.locator('[data-test=output-rows]')
  await expect(rows).toContainText('Beta')
  await expect(rows).toContainText('40')
  const runId = page.url().split('/').pop() ?? ''
  const run = (await (await request.get(`/api/v1/runs/${runId}`, { headers })).json()) as { inputs: Record<string, { dataset_id: string; version: number }> }
  expect(run.inputs.cities).toMatchObject({ dataset_id: datasetId, version: 1 })
  // The run's page names its output dataset (not its id) and says it had no parameters (not "{}").
  await page.locator('[data-test=run-details-link]').click()
  await expect(page.locator('[data-test=output-dataset]')).toHaveText(`${name}-out`)
  await expect(page.locator('[data-test=run-params]')).toHaveText('No parameters')
})

test('a name outside the name rule is refused in words, in the page language', async ({ page }) => {
  const problems = watchProblems(page)
  await signIn(page, 'zh-CN')
  await page.goto('/pipelines/new')
  await page.locator('input[data-test=pipeline-name-input]').fill('每日汇总')
  await page.locator('[data-test=save-pipeline]').click()
  // Not the schema checker's regular expression, nor the API's English "the request body is not valid".
  await expect(page.locator('[data-test=name-error]')).toHaveText('名称只能使用英文字母、数字和 _ . -，并以字母或数字开头（不能用中文或空格）。')
  await expect(page.locator('[data-test=editor-error]')).toHaveText('输入有误，请按标出的字段修改。')
  expect(problems).toEqual([])
})
