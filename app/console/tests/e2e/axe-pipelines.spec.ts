import { expect, test } from '@playwright/test'
import { apiToken, axeViolations, signIn } from './helpers'

test('axe finds no critical or serious violation on the pipelines list, a pipeline, its editor and its run page', async ({ page, request }) => {
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const name = `e2e-axe-${Date.now()}`
  const spec = {
    params: { who: { type: 'string', default: 'axe' } },
    steps: [
      { type: 'log', message: 'hello {{ params.who }}' },
      { id: 'rows', type: 'sql', sql: 'SELECT $who AS who, 42 AS answer' },
      { id: 'check', type: 'validate', rules: [{ rule: 'not_null', columns: ['who'] }] },
    ],
    output: { dataset: `${name}-out` },
  }
  const created = await request.post('/api/v1/pipelines', { headers, data: { name, spec } })
  expect(created.status(), await created.text()).toBe(201)
  const pipeline = (await created.json()) as { id: string }
  const run = (await (await request.post('/api/v1/runs', { headers, data: { pipeline: name } })).json()) as { id: string }
  const found: Record<string, string[]> = {}

  await signIn(page, 'en')
  await page.goto('/pipelines')
  await expect(page.locator(`[data-test=pipeline-link][href="/pipelines/${pipeline.id}"]`)).toBeVisible()
  const row = page.locator('[data-test=pipelines-table] tr', { has: page.locator(`[href="/pipelines/${pipeline.id}"]`) })
  await expect(row.locator('td.steps')).toHaveText('3') // the step count the list now shows instead of the spec
  found.pipelines = await axeViolations(page)

  await page.goto(`/pipelines/${pipeline.id}`)
  await expect(page.locator('[data-test=pipeline-spec]')).toBeVisible()
  await expect(page.getByRole('tab', { name: 'Versions' })).toBeVisible()
  found.pipeline = await axeViolations(page)

  await page.goto(`/pipelines/${pipeline.id}/edit`)
  await expect(page.locator('.cm-content')).toBeVisible()
  await expect(page.locator('.cm-content')).toContainText('hello')
  found.editor = await axeViolations(page)

  await page.goto(`/pipelines/${pipeline.id}/runs/${run.id}`)
  await expect(page.locator('[data-test=output-rows]')).toBeVisible()
  found['pipeline run'] = await axeViolations(page)

  expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])))
})
