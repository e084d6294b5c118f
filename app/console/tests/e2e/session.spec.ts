import { expect, test } from '@playwright/test'
import { ADMIN, PASSWORD, shot, signIn, watchProblems } from './helpers'

test('a wrong password shows the API error and stays on sign-in', async ({ page }) => {
  const problems = watchProblems(page)
  await page.goto('/sign-in')
  await page.locator('input[name=username]').fill(ADMIN)
  await page.locator('input[name=password]').fill('not the password')
  await page.locator('[data-test=sign-in]').click()
  await expect(page.locator('[data-test=sign-in-error]')).toBeVisible()
  await expect(page).toHaveURL(/\/sign-in/)
  await shot(page, 'sign-in-error-zh-CN')
  expect(problems).toEqual([])
})

test('sign in, come back after a reload, go back to the asked page, sign out', async ({ page, context }) => {
  const problems = watchProblems(page)
  await page.addInitScript(() => localStorage.setItem('conveyor.locale', 'en'))
  await page.goto('/runs')
  await expect(page).toHaveURL(/\/sign-in\?redirect=(%2F|\/)runs/)
  await page.locator('input[name=username]').fill(ADMIN)
  await page.locator('input[name=password]').fill(PASSWORD)
  await page.locator('[data-test=sign-in]').click()
  await expect(page).toHaveURL(/\/runs$/) // back to the page asked for
  await expect(page.getByRole('heading', { name: 'Runs' })).toBeVisible()
  // the refresh token is a cookie page scripts cannot read
  expect(await page.evaluate(() => document.cookie)).not.toContain('conveyor_refresh')
  const cookie = (await context.cookies()).find((c) => c.name === 'conveyor_refresh')
  expect(cookie?.httpOnly).toBe(true)
  expect(cookie?.sameSite).toBe('Strict')
  await page.reload()
  await expect(page.locator('[data-test=user-menu]')).toContainText(ADMIN)
  await expect(page).toHaveURL(/\/runs$/)

  await page.locator('[data-test=user-menu]').click()
  await page.locator('[data-test=sign-out]').click()
  await expect(page).toHaveURL(/\/sign-in/)
  await page.goto('/')
  await expect(page).toHaveURL(/\/sign-in/)
  expect(problems).toEqual([])
})

test('the layout works at 390 px wide', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 })
  await signIn(page, 'zh-CN')
  await page.locator('[data-test=menu-toggle]').click()
  await page.locator('.drawer [data-test="menu-/runs"]').click()
  await expect(page).toHaveURL(/\/runs$/)
  await expect(page.getByRole('heading', { name: '运行记录' })).toBeVisible()
  await shot(page, 'runs-390px-zh-CN')
})
