import { expect, test, type Route } from '@playwright/test'
import { ADMIN, PASSWORD, apiToken, shot, signIn, watchProblems } from './helpers'

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
  // Nothing makes the page scroll sideways (the filters wrap; a wide table scrolls inside itself): the settings pages
  // once took their tables' width, and the runs' date range was wider than the screen.
  for (const [path, heading] of [['/runs', '运行记录'], ['/settings/users', '用户'], ['/settings/audit', '审计日志']] as const) {
    await page.goto(path)
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible()
    await expect(page.locator('.el-table').first()).toBeVisible()
    const main = page.locator('.main')
    expect(await main.evaluate((el) => el.scrollWidth - el.clientWidth), path).toBeLessThanOrEqual(0)
  }
  await shot(page, 'audit-390px-zh-CN')
})

test('an expired session goes to sign-in and, signed in again, back to the same page', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const name = `e2e-expiry-${Date.now()}`
  const steps = [{ type: 'log', message: 'waiting' }, { type: 'sleep', seconds: 60 }]
  expect((await request.post('/api/v1/pipelines', { headers, data: { name, spec: { steps } } })).status()).toBe(201)
  const run = (await (await request.post('/api/v1/runs', { headers, data: { pipeline: name } })).json()) as { id: string }
  await signIn(page, 'en')
  await page.goto(`/runs/${run.id}`)
  await expect(page.locator('[data-test=log]')).toContainText('waiting')

  // The access token stops being valid: every API call now carries one the server does not know (as after expiry),
  // and the page's next poll of the running run answers 401.
  const invalid = async (route: Route) => {
    await route.continue({ headers: { ...route.request().headers(), authorization: 'Bearer cva_expired' } })
  }
  await page.route('**/api/v1/runs/**', invalid)
  await expect(page).toHaveURL(new RegExp(`/sign-in\\?redirect=(%2F|/)runs(%2F|/)${run.id}`))
  await expect(page.locator('[data-test=sign-in-error]')).toBeVisible() // says the session expired
  await page.unroute('**/api/v1/runs/**', invalid)

  await page.locator('input[name=username]').fill(ADMIN)
  await page.locator('input[name=password]').fill(PASSWORD)
  await page.locator('[data-test=sign-in]').click()
  await expect(page).toHaveURL(new RegExp(`/runs/${run.id}$`)) // back where the user was
  await expect(page.locator('[data-test=run-status]')).toHaveAttribute('data-status', 'RUNNING')
  await request.post(`/api/v1/runs/${run.id}/cancel`, { headers })
  expect(problems).toEqual([])
})

test('an address the console has no page for says so and leads back to the dashboard', async ({ page }) => {
  const problems = watchProblems(page)
  await signIn(page, 'zh-CN')
  await page.goto('/no-such-page?x=1')
  await expect(page.getByRole('heading', { name: '页面不存在' })).toBeVisible()
  await expect(page.locator('[data-test=not-found]')).toContainText('/no-such-page?x=1')
  const home = page.locator('[data-test=not-found-home]')
  await expect(home).toBeEnabled()
  await home.click()
  await expect(page).toHaveURL(/\/$/)
  await expect(page.getByRole('heading', { name: '仪表盘' })).toBeVisible()
  expect(problems).toEqual([])
})
