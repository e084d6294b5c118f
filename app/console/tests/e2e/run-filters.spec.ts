import { expect, test } from '@playwright/test'
import { apiToken, importedCsv, shot, shotWidths, signIn, watchProblems } from './helpers'

test('the runs list is filtered by a deployment and a dataset chosen by name, or by a pasted id', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const pipeline = `filtered-${stamp}`
  expect((await request.post('/api/v1/pipelines', { headers, data: { name: pipeline, spec: { steps: [{ type: 'log', message: 'x' }] } } })).status()).toBe(201)
  const made = await request.post('/api/v1/deployments', {
    headers, data: { name: `by-name-${stamp}`, pipeline, enabled: false, schedule: { kind: 'cron', cron: '30 2 * * *', timezone: 'Asia/Shanghai' } },
  })
  expect(made.status(), await made.text()).toBe(201)
  const deployment = ((await made.json()) as { id: string }).id
  const triggered = await request.post(`/api/v1/deployments/${deployment}/trigger`, { headers, data: {} })
  expect(triggered.status(), await triggered.text()).toBe(201)
  const deployedRun = ((await triggered.json()) as { id: string }).id
  // More than a page of newer deployments: the picker finds the one named by asking the API, not its first page.
  for (let n = 0; n < 55; n++) {
    const filler = await request.post('/api/v1/deployments', {
      headers, data: { name: `filler-${stamp}-${n}`, pipeline, enabled: false, schedule: { kind: 'cron', cron: '0 3 * * *', timezone: 'UTC' } },
    })
    expect(filler.status(), await filler.text()).toBe(201)
  }
  const { id: dataset, run: importRun } = await importedCsv(request, headers, `filtered-ds-${stamp}`, 'a\n1\n')

  await signIn(page, 'zh-CN')
  await page.goto('/runs')
  const runLink = (id: string) => page.locator(`[data-test=run-link][href="/runs/${id}"]`)
  // The deployment by part of its name: the option shows its name, and the list holds its run only.
  const byDeployment = page.locator('[data-test=filter-deployment]')
  await expect(byDeployment).toContainText('部署')
  await byDeployment.click()
  const searched = page.waitForRequest((r) => r.url().includes('/api/v1/deployments?') && r.url().includes(`search=name-${stamp}`))
  await page.keyboard.type(`name-${stamp}`) // part of its name
  await searched
  await page.locator(`.el-select-dropdown__item[data-id="${deployment}"]:visible`).click()
  await expect(byDeployment).toContainText(`by-name-${stamp}`)
  await page.locator('[data-test=apply-filters]').click()
  await expect(runLink(deployedRun)).toBeVisible()
  await expect(runLink(importRun)).toHaveCount(0)
  await shot(page, 'zh-runs-filtered-by-name')
  await shotWidths(page, 'zh-runs-filtered-by-deployment')
  await byDeployment.hover()
  await byDeployment.locator('.el-select__clear').click()

  // The dataset by a pasted id: offered as the dataset's name once found, and its import is listed.
  const byDataset = page.locator('[data-test=filter-dataset]')
  await byDataset.click()
  await page.keyboard.insertText(` ${dataset.toUpperCase()} `)
  await page.locator(`.el-select-dropdown__item[data-id="${dataset}"]:visible`).click()
  await page.locator('[data-test=apply-filters]').click()
  await expect(runLink(importRun)).toBeVisible()
  await expect(runLink(deployedRun)).toHaveCount(0)

  // The audit log's resource: the deployment by part of its name, no type chosen; picking it sets the type too.
  await page.goto('/settings/audit')
  const byResource = page.locator('[data-test=audit-resource-id]')
  const resourceType = page.locator('[data-test=audit-resource-type]')
  const entries = page.locator('[data-test=audit-resource]')
  await byResource.click()
  await page.keyboard.type(`name-${stamp}`)
  const option = page.locator(`.el-select-dropdown__item[data-id="${deployment}"]:visible`)
  await expect(option).toContainText('部署')
  await shot(page, 'zh-audit-resource-options-1280px') // each option says what it is: 部署, 流水线, 数据集…
  // At the row's right end, the options (wider than the box) open below it, not over the filters beside it.
  const [box, offered] = [await byResource.boundingBox(), await option.boundingBox()]
  expect(offered?.y ?? 0).toBeGreaterThan((box?.y ?? 0) + (box?.height ?? 0) - 1)
  await option.click()
  await expect(byResource).toContainText(`by-name-${stamp}`)
  await expect(resourceType).toContainText('部署')
  const ofDeployment = page.waitForRequest((r) => r.url().includes('/api/v1/audit?') && r.url().includes(`resource_id=${deployment}`) && r.url().includes('resource_type=deployment'))
  await page.locator('[data-test=audit-filter]').click()
  await ofDeployment
  await expect(entries).toHaveCount(2) // made, then triggered
  await expect(entries.last()).toContainText(`by-name-${stamp}`)
  await expect(page.locator('[data-test=audit-resource][data-type=deployment]')).toHaveCount(2)
  await shotWidths(page, 'zh-audit-filtered-by-resource')
  // A pasted id still works, and takes away the type the deployment brought.
  await byResource.hover()
  await byResource.locator('.el-select__clear').click()
  await byResource.click()
  await page.keyboard.insertText(` ${dataset.toUpperCase()} `)
  await page.locator(`.el-select-dropdown__item[data-id="${dataset}"]:visible`).click()
  await expect(resourceType).not.toContainText('部署')
  const ofDataset = page.waitForRequest((r) => r.url().includes('/api/v1/audit?') && r.url().includes(`resource_id=${dataset}`) && !r.url().includes('resource_type='))
  await page.locator('[data-test=audit-filter]').click()
  await ofDataset
  await expect(entries.first()).toBeVisible()
  await expect(page.locator('[data-test=audit-resource]:not([data-type=dataset])')).toHaveCount(0)

  // The audit log's user filter: chosen by username, sent as the user's id.
  const me = ((await (await request.get('/api/v1/auth/me', { headers })).json()) as { user: { id: string; username: string } }).user
  await page.goto('/settings/audit')
  await page.locator('[data-test=audit-user]').click()
  await page.keyboard.type(me.username)
  await page.locator(`.el-select-dropdown__item[data-id="${me.id}"]:visible`).click()
  const asked = page.waitForRequest((r) => r.url().includes('/api/v1/audit') && r.url().includes(`user_id=${me.id}`))
  await page.locator('[data-test=audit-filter]').click()
  await asked
  expect(problems).toEqual([])
})
