/** What the end-to-end tests share: the stack's address and admin, sign-in, screenshots, CSP watching. */
import { expect, type APIRequestContext, type Page } from '@playwright/test'

export const ADMIN = process.env.ADMIN_USER ?? 'admin'
export const PASSWORD = process.env.ADMIN_PASSWORD ?? ''
const ARTIFACTS = process.env.ARTIFACTS ?? 'test-results'

export async function signIn(page: Page, locale: 'zh-CN' | 'en' = 'en'): Promise<void> {
  await page.addInitScript((l) => localStorage.setItem('conveyor.locale', l), locale)
  await page.goto('/sign-in')
  await page.locator('input[name=username]').fill(ADMIN)
  await page.locator('input[name=password]').fill(PASSWORD)
  await page.locator('[data-test=sign-in]').click()
  await expect(page.locator('[data-test=user-menu]')).toContainText(ADMIN)
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}/screenshots/${name}.png`, fullPage: true })
}

/** Fails the test on any CSP violation or page error: the console must run under its strict CSP. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(message.text())
    }
  })
  page.on('pageerror', (error) => problems.push(String(error)))
  return problems
}

/** An access token for setting things up through the API, as a third-party client would. */
export async function apiToken(request: APIRequestContext): Promise<string> {
  const response = await request.post('/api/v1/auth/login', { data: { username: ADMIN, password: PASSWORD } })
  expect(response.ok()).toBeTruthy()
  return ((await response.json()) as { access_token: string }).access_token
}
