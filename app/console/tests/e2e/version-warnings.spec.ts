import { expect, test } from '@playwright/test'
import { apiToken, importedCsv, shot, signIn, watchProblems } from './helpers'

test('a version\'s import warnings read in the page\'s language, not the English they are stored with', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const { id } = await importedCsv(request, headers, `warned-${Date.now()}`, 'name,name,amount\nalice,a,1\nbob,b,2\n')

  await signIn(page, 'zh-CN')
  await page.goto(`/datasets/${id}`)
  const warnings = page.locator('[data-test=version-warnings]')
  await expect(warnings).toContainText('v1 导入时的警告')
  const duplicate = page.locator('[data-test=version-warning][data-code=duplicate_column]')
  await expect(duplicate).toContainText('列名“name”重复（第 2 列）')
  await expect(warnings).not.toContainText('duplicate column name')
  await shot(page, 'zh-dataset-version-warnings')

  // In English on a second page of the same session (the first one's sign-in script sets zh-CN on each load).
  await page.evaluate(() => localStorage.setItem('conveyor.locale', 'en'))
  const english = await page.context().newPage()
  await english.goto(`/datasets/${id}`)
  await expect(english.locator('[data-test=version-warning][data-code=duplicate_column]')).toContainText('Duplicate column name “name” (column 2)')
  expect(problems).toEqual([])
})
