import { expect, test, type Page } from '@playwright/test'
import { apiToken, axeViolations as violations, createMember, expectDrawnWhole, shot, signIn, tableOverflow, watchProblems } from './helpers'

async function choose(page: Page, select: string, option: string): Promise<void> {
  await page.locator(select).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).click()
  // closed before the next step: a screenshot taken while it faded showed the options over the page's top bar
  await expect(page.locator('.el-select-dropdown:visible')).toHaveCount(0)
}

async function confirm(page: Page): Promise<void> {
  await page.locator('.el-message-box__btns .el-button--primary').click()
}

test.setTimeout(300_000) // one long journey, two sign-ins; on a busy shared machine it needs the room

test('settings: a token is shown once and refused once revoked; an invite is shown once and revoked; a member made viewer loses the edit buttons; axe and screenshots', async ({ page, browser, request }) => {
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const editor = await createMember(request, headers, 'editor')
  const problems = watchProblems(page)
  const found: Record<string, string[]> = {}

  // the editor is signed in elsewhere and sees the button to create a pipeline
  const other = await browser.newContext()
  const editorPage = await other.newPage()
  await signIn(editorPage, 'en', editor.username, editor.password)
  await editorPage.goto('/pipelines')
  await expect(editorPage.locator('[data-test=new-pipeline]')).toBeVisible()

  await signIn(page, 'en')
  await page.locator('[data-test="menu-/settings"]').click()
  await expect(page).toHaveURL(/\/settings\/profile$/)
  // the password rules are on screen before anything is submitted, and follow what is typed
  await expect(page.locator('[data-test=rule-minLength]')).toHaveAttribute('data-ok', 'false')
  await page.locator('input[data-test=new-password]').fill('a long enough phrase')
  await expect(page.locator('[data-test=rule-minLength]')).toHaveAttribute('data-ok', 'true')
  found.profile = await violations(page)
  await shot(page, 'settings-profile-en')

  // API token: create, see the secret once, use it, revoke it, see it refused
  await page.locator('[data-test=settings-tokens]').click()
  await page.locator('[data-test=new-token]').click()
  const tokenName = `e2e batch ${Date.now()}` // --repeat-each: an earlier repeat's token of this admin is listed too
  await page.locator('input[data-test=token-name]').fill(tokenName)
  await choose(page, '[data-test=token-namespace]', 'default')
  await choose(page, '[data-test=token-role]', 'Operator')
  await page.locator('[data-test=create-token]').click()
  const secretBox = page.locator('input[data-test=secret]')
  await expect(secretBox).toHaveValue(/\S{20,}/)
  const secret = await secretBox.inputValue()
  await shot(page, 'settings-token-once-en')
  await page.locator('[data-test=close-secret]').click()
  await expect(page.locator('[data-test=secret]')).toHaveCount(0)
  expect(await page.content()).not.toContain(secret)
  const asToken = { Authorization: `Bearer ${secret}` }
  expect((await request.get('/api/v1/runs?limit=1', { headers: asToken })).status()).toBe(200)

  const row = page.locator('[data-test=tokens-table] tr', { hasText: tokenName })
  await row.locator('[data-test=revoke-token]').click()
  await confirm(page)
  await expect(row.locator('[data-test=token-state]')).toHaveText('Revoked')
  const refused = await request.get('/api/v1/runs?limit=1', { headers: asToken })
  expect(refused.status()).toBe(401)
  found.tokens = await violations(page)

  // members: the admin makes the editor a viewer
  await page.locator('[data-test=settings-namespaces]').click()
  await choose(page, '[data-test=members-namespace]', 'default')
  const role = page.locator(`[data-test="member-role-${editor.username}"]`)
  await role.click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: 'Viewer' }).click()
  await expect(page.locator('.el-message--success', { hasText: editor.username })).toBeVisible() // an earlier message may still be fading
  const members = ((await (await request.get('/api/v1/namespaces/default/members', { headers, params: { limit: 500 } })).json()) as { items: { username: string; role: string }[] }).items
  expect(members.find((m) => m.username === editor.username)?.role).toBe('viewer')
  found.namespaces = await violations(page)
  await shot(page, 'settings-members-en')

  // that user's next page load hides the edit buttons
  await editorPage.reload()
  await expect(editorPage.locator('[data-test=pipelines-table]')).toBeVisible()
  await expect(editorPage.locator('[data-test=new-pipeline]')).toHaveCount(0)
  await editorPage.goto('/settings/namespaces')
  await expect(editorPage.locator('[data-test=members-table]')).toBeVisible()
  await expect(editorPage.locator('[data-test=add-member], [data-test=remove-member]')).toHaveCount(0)
  await expect(editorPage.locator('[data-test=settings-users]')).toHaveCount(0)
  await other.close()

  await page.locator('[data-test=settings-users]').click()
  await expect(page.locator('[data-test=users-table]')).toContainText(editor.username)
  await expect(page.locator('[data-test=invites-table]')).toBeVisible()
  // a row's two actions side by side (at 210 px "Reset password" wrapped under "Disable", shifted right)
  const editorRow = page.locator('[data-test=users-table] tr', { hasText: editor.username })
  const toggle = await editorRow.locator('[data-test=toggle-user]').boundingBox()
  const reset = await editorRow.locator('[data-test=reset-password]').boundingBox()
  expect(reset && toggle && Math.abs(reset.y - toggle.y)).toBe(0)
  // the signed-in admin's own row shows its actions disabled and says why, not an empty cell
  const selfRow = page.locator('[data-test=users-table] .el-table__body tr', { has: page.locator('[data-test=self-actions]') })
  await expect(selfRow).toHaveCount(1)
  await expect(selfRow.locator('[data-test=toggle-user]')).toBeDisabled()
  await expect(selfRow.locator('[data-test=reset-password]')).toBeDisabled()
  await selfRow.locator('[data-test=self-actions]').hover()
  await expect(page.locator('.el-popper:visible', { hasText: 'You cannot do this to your own account' })).toBeVisible()
  await page.mouse.move(0, 0)
  // the invites' column headings are names, not the form's "Email (optional)"
  await expect(page.locator('[data-test=invites-table] thead')).toContainText('Email')
  await expect(page.locator('[data-test=invites-table] thead')).not.toContainText('optional')
  found.users = await violations(page)
  await shot(page, 'settings-users-en')

  // invites: the admin creates one, sees its token once, revokes it; the list shows it ended
  const invitee = `invitee-${Date.now()}@example.com`
  await page.locator('[data-test=new-invite]').click()
  await page.locator('input[data-test=invite-email]').fill(invitee)
  await page.locator('[data-test=create-invite]').click()
  const inviteBox = page.locator('input[data-test=secret]')
  await expect(inviteBox).toHaveValue(/\S{20,}/)
  const inviteToken = await inviteBox.inputValue()
  const invite = page.locator('[data-test=invites-table] tr', { hasText: invitee })
  await expect(invite.locator('[data-test=invite-state]')).toHaveText('Pending')
  await page.locator('[data-test=close-invite-secret]').click()
  await expect(page.locator('[data-test=secret]')).toHaveCount(0)
  expect(await page.content()).not.toContain(inviteToken)
  await invite.locator('[data-test=revoke-invite]').click()
  await confirm(page)
  await expect(invite.locator('[data-test=invite-state]')).toHaveText('Revoked')
  await expect(invite.locator('[data-test=revoke-invite]')).toHaveCount(0)

  // the audit log has the role change, with its before/after
  await page.locator('[data-test=settings-audit]').click()
  // actions read as words, chosen by word; the code stays on hover and in the entry's detail
  await choose(page, '[data-test=audit-action]', 'Set member role')
  await page.locator('[data-test=audit-filter]').click()
  await expect(page.locator('[data-test=audit-entry]').first()).toHaveText('Set member role')
  await expect(page.locator('[data-test=audit-entry] [data-code]').first()).toHaveAttribute('title', 'members.set')
  // this editor's newest entry: the log is the instance's, and another worker's admin sets roles of its own members
  const editorEntry = page.locator('[data-test=audit-table] tr', { has: page.locator(`[data-test=audit-resource][title="${editor.id}"]`) })
  await editorEntry.first().locator('[data-test=audit-entry]').click()
  await expect(page.locator('[data-test=audit-action-code]')).toHaveText('members.set')
  await expect(page.locator('[data-test=audit-changes]')).toContainText('editor')
  await expect(page.locator('[data-test=audit-changes]')).toContainText('viewer')
  found['audit detail'] = await violations(page)
  await shot(page, 'settings-audit-detail-en')
  await page.keyboard.press('Escape')
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-audit]').click()])
  expect(download.suggestedFilename()).toBe('audit.csv')

  // the same pages in Chinese, from the same page (no new sign-in)
  await choose(page, '[data-test=language]', '简体中文')
  await expect(page.locator('h1')).toHaveText('审计日志')
  await expect(page.locator('[data-test=audit-entry]').first()).toHaveText('设置成员角色')
  // the resource reads as its type in words and a short id, not "user 01a2…-…" (the full id on hover)
  await expect(page.locator('[data-test=audit-resource]').first()).toContainText('用户')
  await expect(page.locator('[data-test=audit-resource]').first()).not.toContainText('user ')
  expect(await tableOverflow(page.locator('[data-test=audit-table]'))).toBeLessThanOrEqual(0) // the outcome column in sight
  await shot(page, 'settings-audit-zh-CN')
  await page.locator('[data-test=settings-tokens]').click()
  await expect(page.locator('h1')).toHaveText('API 令牌')
  await expect(page.locator('[data-test=token-state]').first()).toBeVisible()
  await expectDrawnWhole(page.locator('[data-test=token-state]').first()) // the tag read whole, not mid zoom-in
  await shot(page, 'settings-tokens-zh-CN')
  await page.locator('[data-test=settings-profile]').click()
  await expect(page.locator('[data-test=rule-minLength]')).toContainText('至少')
  await shot(page, 'settings-profile-zh-CN')

  expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])))
  expect(problems).toEqual([])
})
