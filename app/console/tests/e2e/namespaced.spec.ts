import { expect, test, type APIRequestContext, type Page } from '@playwright/test'
import { apiToken, field, signIn, watchProblems, writeSpec } from './helpers'

/**
 * Work in a namespace other than `default`: pipelines and deployments of the same name may exist in both, and
 * the console must read, list and save each in its own namespace (by name, the API looks in `default`).
 */

async function made(request: APIRequestContext, headers: Record<string, string>, path: string, data: object): Promise<{ id: string }> {
  const response = await request.post(path, { headers, data })
  expect(response.status(), await response.text()).toBe(201)
  return (await response.json()) as { id: string }
}

/** Shows `namespace` in the top bar from the first page on, as a user who chose it earlier would. */
async function inNamespace(page: Page, namespace: string): Promise<void> {
  await page.addInitScript((ns) => localStorage.setItem('conveyor.namespace', ns), namespace)
}

test('a deployment in another namespace is edited with its pipeline params, and saving keeps them', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const namespace = `team-${stamp}`
  const name = `shared-name-${stamp}`
  await made(request, headers, '/api/v1/namespaces', { name: namespace })
  // The same pipeline name in `default`, without params: reading the name there gives the wrong form.
  await made(request, headers, '/api/v1/pipelines', { name, spec: { steps: [{ type: 'log', message: 'default' }] } })
  const spec = { params: { floor: { type: 'integer', default: 1 } }, steps: [{ type: 'log', message: 'floor {{ params.floor }}' }] }
  await made(request, headers, '/api/v1/pipelines', { name, namespace, spec })
  const deployment = await made(request, headers, '/api/v1/deployments', {
    name: `nightly-${stamp}`, pipeline: name, namespace, params: { floor: 50 },
    schedule: { kind: 'cron', cron: '30 2 * * *', timezone: 'Asia/Shanghai' },
  })

  await signIn(page, 'en')
  await page.goto(`/deployments/${deployment.id}/edit`)
  await expect(field(page, 'param-floor')).toHaveValue('50')
  await expect(page.locator('[data-test=deployment-error]')).toHaveCount(0)
  await field(page, 'cron-input').fill('45 3 * * *')
  await page.locator('[data-test=save-deployment]').click()
  await expect(page.locator('[data-test=schedule-words]')).toHaveText('At 03:45, every day, Asia/Shanghai')
  const saved = await request.get(`/api/v1/deployments/${deployment.id}`, { headers })
  expect(((await saved.json()) as { params: Record<string, unknown> }).params).toEqual({ floor: 50 })

  // Under "all namespaces" the deployments list says which namespace each one is in (names may repeat across them).
  await page.goto('/deployments')
  const listed = page.locator('tr', { has: page.locator(`[data-test=deployment-link][href="/deployments/${deployment.id}"]`) })
  await expect(listed.locator('[data-test=deployment-row-namespace]')).toHaveText(namespace)

  // A new deployment, with that namespace chosen at the top: it says where it goes, and offers that namespace's pipeline.
  await inNamespace(page, namespace)
  await page.goto('/deployments/new')
  await expect(page.locator('[data-test=deployment-namespace]')).toContainText(namespace)
  await expect(page.locator('[data-test=params-need-pipeline]')).toHaveText('Choose a pipeline to fill in its parameters here.')
  await field(page, 'deployment-name').fill(`hourly-${stamp}`)
  await page.locator('[data-test=deployment-pipeline]').click()
  await page.keyboard.type(name)
  await page.getByRole('option', { name, exact: true }).click()
  await expect(field(page, 'param-floor')).toHaveValue('1')
  await page.locator('[data-test=save-deployment]').click()
  await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]+$/)
  const created = await request.get(`/api/v1/deployments/${page.url().split('/').pop() ?? ''}`, { headers })
  expect(((await created.json()) as { params: Record<string, unknown> }).params).toEqual({ floor: 1 })
  // The deployment's page lists its parameters as name = value, not as JSON.
  await expect(page.locator('[data-test=deployment-params]')).toHaveText('floor = 1')
  await page.goto('/deployments') // with one namespace chosen, the column would only repeat it
  await expect(page.locator('[data-test=deployment-link]').first()).toBeVisible()
  await expect(page.locator('[data-test=deployment-row-namespace]')).toHaveCount(0)
  expect(problems).toEqual([])
})

test('with a namespace chosen, pipelines are listed, validated and created in it', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const namespace = `data-${stamp}`
  const space = await made(request, headers, '/api/v1/namespaces', { name: namespace })
  const dataset = `orders-${stamp}`
  const uploaded = await request.post(`/api/v1/datasets?namespace=${namespace}`, {
    headers,
    multipart: { name: dataset, file: { name: '订单.csv', mimeType: 'text/csv', buffer: Buffer.from('地区,金额\n华东,12.5\n华北,30\n') } },
  })
  expect(uploaded.status(), await uploaded.text()).toBe(201)
  const started = await request.post(`/api/v1/datasets/${((await uploaded.json()) as { id: string }).id}/imports`, { headers, data: {} })
  expect(started.status()).toBe(202)
  const importRun = ((await started.json()) as { id: string }).id
  await expect
    .poll(async () => ((await (await request.get(`/api/v1/runs/${importRun}`, { headers })).json()) as { status: string }).status, { timeout: 60_000 })
    .toBe('SUCCEEDED')
  const listed = `listed-${stamp}`
  await made(request, headers, '/api/v1/pipelines', { name: listed, namespace, spec: { steps: [{ type: 'log', message: 'x' }] } })
  await made(request, headers, '/api/v1/pipelines', { name: `elsewhere-${stamp}`, spec: { steps: [{ type: 'log', message: 'x' }] } })

  await inNamespace(page, namespace)
  await signIn(page, 'en')
  await page.goto('/pipelines')
  await expect(page.locator('[data-test=pipeline-link]')).toHaveText([listed])

  await page.goto('/pipelines/new')
  await expect(page.locator('[data-test=pipeline-namespace]')).toContainText(namespace)
  const name = `made-here-${stamp}`
  await page.locator('[data-test=pipeline-name-input]').fill(name)
  // Its input is a dataset of that namespace only: validated anywhere else, it "does not exist".
  await writeSpec(page, `inputs:\n  orders: {dataset: ${dataset}}\nsteps:\n  - {id: big, type: filter, where: "金额 > 20"}\noutput: {dataset: ${name}-out}\n`)
  await page.locator('[data-test=validate]').click()
  await expect(page.locator('[data-test=validate-result]')).toContainText('Valid')
  await expect(page.locator('[data-test=validate-errors]')).toHaveCount(0)
  await expect(page.locator('[data-test=output-columns]')).toContainText('金额')
  await page.locator('[data-test=save-pipeline]').click()
  await expect(page).toHaveURL(/\/pipelines\/[0-9a-f-]+$/)
  const saved = await request.get(`/api/v1/pipelines/${page.url().split('/').pop() ?? ''}`, { headers })
  expect(((await saved.json()) as { namespace_id: string }).namespace_id).toBe(space.id)
  expect(problems).toEqual([])
})
