import { expect, test } from '@playwright/test'
import { field, shot, signIn, watchProblems } from './helpers'

test.use({ viewport: { width: 390, height: 844 } })

test('at 390px the runs list shows runs on its first screen, its filters behind 筛选 with a count of those set (zh-CN)', async ({ page }) => {
  const problems = watchProblems(page)
  await signIn(page, 'zh-CN')
  await page.goto('/runs')
  // the filter form took about eight rows: no run was on the first screen
  await expect(page.locator('[data-test=run-link]').first()).toBeInViewport()
  await expect(page.locator('[data-test=run-filters]')).toBeHidden()
  await shot(page, 'zh-390-runs')
  const toggle = page.locator('[data-test=toggle-filters]')
  await expect(toggle).toHaveText('筛选')
  await toggle.click()
  await expect(page.locator('[data-test=run-filters]')).toBeVisible()
  await field(page, 'filter-search').fill('known')
  await page.locator('[data-test=apply-filters]').click()
  await toggle.click()
  await expect(page.locator('[data-test=run-filters]')).toBeHidden()
  await expect(toggle).toHaveText('筛选（1）')
  // a desktop shows the form itself, no button
  await page.setViewportSize({ width: 1280, height: 800 })
  await expect(page.locator('[data-test=run-filters]')).toBeVisible()
  await expect(toggle).toHaveCount(0)
  expect(problems).toEqual([])
})
