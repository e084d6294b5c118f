import { expect, test } from '@playwright/test'
import { shot, signIn, watchProblems } from './helpers'

for (const [locale, words] of [['zh-CN', '最多行数'], ['en', 'At most rows']] as const) {
  test(`the audit export says what its number is, beside it (${locale})`, async ({ page }) => {
    const problems = watchProblems(page)
    await signIn(page, locale)
    await page.goto('/settings/audit')
    const limit = page.locator('[data-test=export-limit]')
    // A person reads the limit's name next to "10000", not only a screen reader.
    await expect(limit).toBeVisible()
    await expect(limit).toContainText(words)
    await expect(limit.locator('input')).toHaveValue('10000')
    const [name, input] = [await limit.locator('span.muted').boundingBox(), await limit.locator('input').boundingBox()]
    expect(name && input && Math.abs(name.y + name.height / 2 - (input.y + input.height / 2)) < 8).toBeTruthy() // on one line
    await shot(page, `audit-export-${locale}`)
    expect(problems).toEqual([])
  })
}
