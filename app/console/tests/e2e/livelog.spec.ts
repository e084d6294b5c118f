import { expect, test } from '@playwright/test'
import { apiToken, shot, signIn, watchProblems } from './helpers'

test('the live log renders only visible lines, keeps its place when scrolled up, and jumps back to the end', async ({
  page,
  request,
}) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const name = `e2e-livelog-${Date.now()}`
  const half = (part: string) => Array.from({ length: 150 }, (_, i) => ({ type: 'log', message: `${part} ${i + 1}` }))
  // Two bursts with a pause between them, so new lines arrive while the user is scrolled up.
  const steps = [...half('first'), { type: 'sleep', seconds: 5 }, ...half('second')]
  expect((await request.post('/api/v1/pipelines', { headers, data: { name, spec: { steps } } })).status()).toBe(201)
  await signIn(page, 'en')
  const run = (await (await request.post('/api/v1/runs', { headers, data: { pipeline: name } })).json()) as { id: string }
  await page.goto(`/runs/${run.id}`)

  const log = page.locator('[data-test=log]')
  // It follows the end: the last line of the first burst is shown, the first line is not in the DOM at all.
  await expect(log.getByText('first 150', { exact: true })).toBeVisible()
  expect(Number(await log.getAttribute('data-lines'))).toBeGreaterThanOrEqual(150)
  expect(await log.locator('[data-test=log-line]').count()).toBeLessThan(60)
  await expect(page.locator('[data-test=log-jump]')).toHaveCount(0)

  // Scrolled to the top: the first line shows, and the jump button appears.
  await log.evaluate((el) => {
    el.scrollTop = 0
    el.dispatchEvent(new Event('scroll'))
  })
  await expect(log.getByText('first 1', { exact: true })).toBeVisible()
  await expect(page.locator('[data-test=log-jump]')).toBeVisible()

  // The second burst arrives and the run ends; the view stays where the user put it.
  await expect(page.locator('[data-test=log-ended]')).toContainText('SUCCEEDED')
  expect(Number(await log.getAttribute('data-lines'))).toBeGreaterThanOrEqual(300)
  expect(await log.evaluate((el) => el.scrollTop)).toBe(0)
  await expect(log.getByText('first 1', { exact: true })).toBeVisible()
  await expect(log.getByText('second 150', { exact: true })).toHaveCount(0)
  await shot(page, 'live-log-scrolled-up-en')

  // Jump to latest: the last line shows and the button goes away.
  await page.locator('[data-test=log-jump]').click()
  await expect(log.getByText('second 150', { exact: true })).toBeVisible()
  await expect(page.locator('[data-test=log-jump]')).toHaveCount(0)
  expect(problems).toEqual([])
})
