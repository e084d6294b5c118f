import { expect, test } from '@playwright/test'
import { apiToken, importedCsv, signIn, watchProblems } from './helpers'

test('in zh-CN a run report\'s parameters read in Chinese, with no English repeating their source', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const { run } = await importedCsv(request, headers, `report-${Date.now()}`, 'a\n1\n')
  await signIn(page, 'zh-CN')
  await page.goto(`/runs/${run}`)
  const params = page.locator('[data-test=report-params]')
  await expect(params).toContainText('未声明') // an import's config and upload_id are no pipeline's declared params
  await expect(params).not.toContainText('not declared')
  expect(problems).toEqual([])
})
