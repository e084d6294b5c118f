import { expect, test, type Page } from '@playwright/test'
import { apiToken, axeViolations as violations, createMember, shot, signIn, watchProblems } from './helpers'

/** The loopback receiver tests/browser/test_console.py started (it answers 200 "ok"); the shared system allows it. */
const RECEIVER = process.env.WEBHOOK_RECEIVER ?? ''

async function choose(page: Page, select: string, option: string): Promise<void> {
  await page.locator(select).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).click()
}

test.setTimeout(300_000) // one journey and a second sign-in on a busy shared machine

test('webhooks: an admin subscribes the loopback receiver, sees the secret once, sends a test event and sees it delivered (200) with its attempt; redeliver; rotate; a viewer has no Webhooks entry; axe and screenshots', async ({ page, browser, request }) => {
  expect(RECEIVER, 'WEBHOOK_RECEIVER is set by tests/browser/test_console.py').not.toBe('')
  const url = `${RECEIVER}?e2e=${Date.now()}`
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const viewer = await createMember(request, headers, 'viewer')
  const problems = watchProblems(page)
  const found: Record<string, string[]> = {}

  await signIn(page, 'en')
  await page.locator('[data-test="menu-/settings"]').click()
  await page.locator('[data-test=settings-webhooks]').click()
  await expect(page.locator('h1')).toHaveText('Webhooks')

  // a refused target: the server's 422 shows under the URL field
  await page.locator('[data-test=new-webhook]').click()
  await expect(page.locator('[data-test=event-run\\.failed] input')).toBeChecked()
  await expect(page.locator('[data-test=webhook-namespace]')).toContainText('Subscribes to the events of namespace')
  found.form = await violations(page)
  await page.locator('input[data-test=webhook-url]').fill('http://169.254.169.254/latest')
  await page.locator('[data-test=save-webhook]').click()
  const urlItem = page.locator('.el-form-item', { has: page.locator('input[data-test=webhook-url]') })
  await expect(urlItem.locator('.el-form-item__error')).toBeVisible()
  await shot(page, 'webhooks-form-error-en')

  // the receiver: created, its secret shown once
  await page.locator('input[data-test=webhook-url]').fill(url)
  await page.locator('[data-test=event-dataset\\.ingested]').click()
  await page.locator('[data-test=save-webhook]').click()
  const secretBox = page.locator('input[data-test=secret]')
  await expect(secretBox).toHaveValue(/^whsec_\S{20,}/)
  const secret = await secretBox.inputValue()
  found.secret = await violations(page)
  await shot(page, 'webhooks-secret-once-en')
  await page.locator('[data-test=close-secret]').click()
  await expect(page.locator('[data-test=secret]')).toHaveCount(0)
  expect(await page.content()).not.toContain(secret)
  const row = page.locator('[data-test=webhooks-table] tr', { hasText: url })
  await expect(row.locator('[data-test=webhook-state]')).toHaveText('Enabled')
  await expect(row).toContainText('Dataset ingested')
  await expect(row).toContainText('No delivery yet')

  // disable and enable again
  await row.locator('[data-test=toggle-webhook]').click()
  await expect(row.locator('[data-test=webhook-state]')).toHaveText('Disabled')
  await expect(row.locator('[data-test=test-webhook]')).toBeDisabled()
  await row.locator('[data-test=toggle-webhook]').click()
  await expect(row.locator('[data-test=webhook-state]')).toHaveText('Enabled')

  // a test event, delivered by the scheduler's sender to the receiver: the log shows it and its attempt
  await row.locator('[data-test=test-webhook]').click()
  await row.locator('[data-test=webhook-link]').click()
  await expect(page.locator('[data-test=webhook-title]')).toHaveText('Delivery log')
  const delivery = page.locator('[data-test=deliveries-table] .el-table__body tr.el-table__row').first()
  await expect(delivery.locator('[data-test=delivery-status]')).toHaveText('Delivered')
  await expect(delivery.locator('[data-test=delivery-code]')).toHaveText('200')
  await delivery.locator('.el-table__expand-icon').click()
  const attempts = page.locator('[data-test=attempts-table]').first()
  await expect(attempts.locator('[data-test=attempt-outcome]')).toHaveText('200')
  await expect(attempts.locator('[data-test=attempt-excerpt]')).toHaveText('ok')
  await expect(attempts.locator('[data-test=attempt-latency]')).toHaveText(/\d+(\.\d+)? m?s/)
  found.log = await violations(page)
  await shot(page, 'webhooks-log-en')

  // redeliver: a second delivery of the same message, delivered too
  await delivery.locator('[data-test=redeliver]').click()
  await expect(page.locator('[data-test=deliveries-table] [data-test=delivery-status]')).toHaveText(['Delivered', 'Delivered'])

  // rotate the secret: a new one, shown once
  await page.locator('[data-test=rotate-webhook]').click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await expect(page.locator('input[data-test=secret]')).toHaveValue(/^whsec_\S{20,}/)
  const rotated = await page.locator('input[data-test=secret]').inputValue()
  expect(rotated).not.toBe(secret)
  await page.locator('[data-test=close-rotated]').click()
  await expect(page.locator('[data-test=secret]')).toHaveCount(0)

  // the list shows the last delivery
  await page.locator('[data-test=settings-webhooks]').click()
  await expect(row.locator('[data-test=webhook-last]')).toHaveText(/Delivered\s*·\s*200/)
  // edit: a description, and the 422-free path of PATCH
  await row.locator('[data-test=edit-webhook]').click()
  await page.locator('input[data-test=webhook-description]').fill('e2e receiver')
  await page.locator('[data-test=save-webhook]').click()
  await expect(row).toContainText('e2e receiver')
  found.list = await violations(page)
  await shot(page, 'webhooks-en')

  // the same pages in Chinese
  await choose(page, '[data-test=language]', '简体中文')
  await expect(page.locator('h1')).toHaveText('Webhook')
  await expect(row.locator('[data-test=webhook-state]')).toHaveText('已启用')
  await shot(page, 'webhooks-zh-CN')
  await row.locator('[data-test=webhook-link]').click()
  await expect(page.locator('[data-test=webhook-title]')).toHaveText('投递记录')
  await expect(page.locator('[data-test=delivery-status]').first()).toHaveText('已送达')
  await page.locator('[data-test=deliveries-table] .el-table__expand-icon').first().click()
  await expect(page.locator('[data-test=attempt-outcome]').first()).toHaveText('200')
  await shot(page, 'webhooks-log-zh-CN')

  // delete, after a confirmation
  await page.locator('[data-test=settings-webhooks]').click()
  await row.locator('[data-test=delete-webhook]').click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await expect(row).toHaveCount(0)

  // a viewer has no Webhooks entry
  const other = await browser.newContext()
  const viewerPage = await other.newPage()
  await signIn(viewerPage, 'en', viewer.username, viewer.password)
  await viewerPage.goto('/settings/profile')
  await expect(viewerPage.locator('[data-test=settings-profile]')).toBeVisible()
  await expect(viewerPage.locator('[data-test=settings-webhooks]')).toHaveCount(0)
  await other.close()

  expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])))
  expect(problems).toEqual([])
})
