import { expect, test } from '@playwright/test'
import { field, shot, signIn, watchProblems } from './helpers'

test("a wrong cron expression is explained in the page's language, and a refused save keeps what was typed (zh-CN)", async ({ page }) => {
  const problems = watchProblems(page)
  await signIn(page, 'zh-CN')
  await page.goto('/deployments/new')
  await field(page, 'deployment-name').fill('每日 报表') // refused by the name rule
  await field(page, 'cron-input').fill('61 2 * * *')
  // The preview under the schedule says it at once (the API's words were "schedule.cron: minute: 61 is outside 0-59").
  await expect(page.locator('[data-test=preview-error]')).toHaveText('「分」字段：61 超出范围 0–59。')
  await expect(page.locator('[data-test=cron-words]')).toHaveCount(0) // no bare "—" above the error
  await page.locator('[data-test=save-deployment]').click()
  const cronItem = page.locator('.el-form-item', { has: page.locator('[data-test=cron-input]') })
  await expect(cronItem.locator('.el-form-item__error')).toHaveText('「分」字段：61 超出范围 0–59。')
  // every wrong field at once: the name the API refused and the pipeline not chosen, not the name alone
  const item = (test: string) => page.locator('.el-form-item', { has: page.locator(`[data-test=${test}]`) })
  await expect(item('deployment-name').locator('.el-form-item__error')).not.toBeEmpty()
  await expect(item('deployment-pipeline').locator('.el-form-item__error')).toHaveText('请选择流水线')
  await expect(page.locator('body')).not.toContainText('is outside')
  // Nothing typed is lost to the refusal.
  await expect(field(page, 'deployment-name')).toHaveValue('每日 报表')
  await expect(field(page, 'cron-input')).toHaveValue('61 2 * * *')
  await field(page, 'cron-input').fill('0 2 * *')
  await expect(page.locator('[data-test=preview-error]')).toHaveText('Cron 表达式应有 5 段（分 时 日 月 周），或在最前加秒共 6 段；这里有 4 段。')
  await expect(page.locator('[data-test=cron-words]')).toHaveCount(0)
  await shot(page, 'deployment-cron-error-zh-CN')
  await field(page, 'cron-input').fill('0 2 * * *')
  await expect(page.locator('[data-test=cron-words]')).toHaveText('在02:00，每天')
  expect(problems).toEqual([])
})
