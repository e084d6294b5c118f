import { expect, test } from '@playwright/test'
import { shot, signIn } from './helpers'

test('a network loss shows a banner that retries and goes away when the API answers again', async ({ page }) => {
  await signIn(page, 'en')
  await page.goto('/runs')
  await expect(page.locator('[data-test=run-link]').first()).toBeVisible()
  // the API becomes unreachable: every call fails without an answer
  await page.route('**/api/v1/**', (route) => route.abort('internetdisconnected'))
  await page.locator('[data-test=apply-filters]').click()
  await expect(page.locator('[data-test=network-lost]')).toBeVisible()
  await shot(page, 'network-lost-en')
  await page.unroute('**/api/v1/**')
  // the banner's own probe finds the API again, without any click
  await expect(page.locator('[data-test=network-lost]')).toBeHidden({ timeout: 15_000 })
})
