import { expect, test, type Locator } from '@playwright/test'
import { apiToken, shot, signIn, watchProblems } from './helpers'

test.use({ viewport: { width: 390, height: 844 } })

/** Every button of `within` is visible, enabled, whole on the 390px screen, and overlaps no other; wrapped rows start flush. */
async function usable(within: Locator): Promise<void> {
  const buttons = within.locator('button:visible')
  expect(await buttons.count()).toBeGreaterThan(0)
  const boxes: { x: number; y: number; width: number; height: number }[] = []
  for (const button of await buttons.all()) {
    await expect(button).toBeEnabled()
    const box = await button.boundingBox()
    expect(box).not.toBeNull()
    if (!box) continue
    expect(box.x).toBeGreaterThanOrEqual(0)
    expect(box.x + box.width).toBeLessThanOrEqual(390)
    // its label whole: no text cut off inside the button
    expect(await button.evaluate((b) => b.scrollWidth <= b.clientWidth + 1)).toBe(true)
    boxes.push(box)
  }
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) {
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y
      expect(apart, `buttons overlap: ${JSON.stringify([a, b])}`).toBe(true)
    }
  }
  const starts = new Map<number, number>() // row top -> its leftmost button
  for (const box of boxes) starts.set(Math.round(box.y), Math.min(starts.get(Math.round(box.y)) ?? Infinity, box.x))
  expect(new Set([...starts.values()].map(Math.round)).size, `rows of buttons start at ${[...starts.values()]}`).toBe(1)
}

test('at 390px the deployment page\'s and the list\'s actions are whole, in sight and work', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const pipeline = `narrow-${stamp}`
  const made = await request.post('/api/v1/pipelines', { headers, data: { name: pipeline, spec: { steps: [{ type: 'log', message: 'x' }] } } })
  expect(made.status()).toBe(201)
  const created = await request.post('/api/v1/deployments', {
    headers, data: { name: `narrow-deploy-${stamp}`, pipeline, schedule: { kind: 'cron', cron: '30 2 * * *', timezone: 'Asia/Shanghai' } },
  })
  expect(created.status(), await created.text()).toBe(201)
  const id = ((await created.json()) as { id: string }).id

  await signIn(page, 'zh-CN')
  await page.goto(`/deployments/${id}`)
  const actions = page.locator('[data-test=deployment-actions]')
  await expect(actions.locator('[data-test=trigger]')).toBeVisible()
  await usable(actions)
  await shot(page, 'zh-390-deployment-actions')
  // The secondary actions are under "更多": backfill opens its dialog.
  await actions.locator('[data-test=more]').click()
  await page.locator('.el-dropdown-menu [data-test=backfill]').click()
  await expect(page.locator('.el-dialog')).toBeVisible()
  await page.keyboard.press('Escape')

  // The list: each row's actions are one menu in sight at the right edge, without scrolling the table.
  await page.goto('/deployments')
  const listed = page.locator('[data-test=deployments-table] tr', { has: page.locator(`[data-test=deployment-link][href="/deployments/${id}"]`) })
  await expect(listed.locator('[data-test=row-more]')).toBeVisible()
  await usable(listed.locator('td.el-table-fixed-column--right'))
  await listed.locator('[data-test=row-more]').click()
  await page.locator('.el-dropdown-menu:visible [data-test=row-pause]').click()
  await expect(listed.locator('[data-test=deployment-state]')).toHaveText('已暂停')
  // scrolled sideways to the schedule and next fire, each row still shows its name where it was
  const link = listed.locator('[data-test=deployment-link]')
  const before = await link.boundingBox()
  const scrolled = await page.locator('[data-test=deployments-table] .el-table__body-wrapper .el-scrollbar__wrap').evaluate((el) => {
    el.scrollLeft = el.scrollWidth
    el.dispatchEvent(new Event('scroll'))
    return el.scrollLeft
  })
  expect(scrolled).toBeGreaterThan(0)
  await expect.poll(async () => (await link.boundingBox())?.x).toBe(before?.x)
  await expect(link).toBeVisible()
  await shot(page, 'zh-390-deployments')
  expect(problems).toEqual([])
})
