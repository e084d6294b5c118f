import { expect, test } from '@playwright/test'
import { apiToken, axeViolations as violations, shot, signIn } from './helpers'

test('axe finds no critical or serious violation on sign-in, dashboard, runs, run detail and the 390 px layout', async ({ page, request }) => {
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const listed = (await (await request.get('/api/v1/runs?limit=1', { headers })).json()) as { items: { id: string }[] }
  expect(listed.items.length).toBeGreaterThan(0)
  const runId = listed.items[0]?.id ?? ''
  const found: Record<string, string[]> = {}

  await page.goto('/sign-in')
  await expect(page.locator('[data-test=sign-in]')).toBeVisible()
  found['sign-in'] = await violations(page)

  await signIn(page, 'en')
  await expect(page.locator('[data-test=card-runs]')).toBeVisible()
  // everything the dashboard loads is on screen (the failures list and charts come after the cards)
  await expect(page.locator('[data-test=trend-chart]')).toHaveAttribute('data-drawn', 'true')
  await expect(page.locator('[data-test=recent-failures]')).toBeVisible()
  found.dashboard = await violations(page)

  await page.goto('/runs')
  await expect(page.locator('[data-test=run-link]').first()).toBeVisible()
  found.runs = await violations(page)

  await page.goto(`/runs/${runId}`)
  await expect(page.locator('[data-test=run-status]')).toBeVisible()
  await expect(page.locator('[data-test=timeline]')).toBeVisible()
  found['run detail'] = await violations(page)

  await page.setViewportSize({ width: 390, height: 844 })
  await page.goto('/')
  await expect(page.locator('[data-test=menu-toggle]')).toBeVisible()
  await expect(page.locator('[data-test=recent-failures]')).toBeVisible()
  found['layout 390 px'] = await violations(page)
  await page.locator('[data-test=menu-toggle]').click()
  await expect(page.getByRole('menuitem', { name: 'Runs' })).toBeVisible()
  found['menu drawer 390 px'] = await violations(page)
  await shot(page, 'menu-drawer-390-en')

  expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])))
})
