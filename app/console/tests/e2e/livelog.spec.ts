import { expect, test } from '@playwright/test'
import { apiToken, shot, signIn, watchProblems } from './helpers'

test('the live log renders only visible lines, keeps its place when scrolled up, and jumps back to the end', async ({
  page,
  request,
}) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const name = `e2e-livelog-${Date.now()}`
  const burst = (part: string) => Array.from({ length: 150 }, (_, i) => ({ type: 'log', message: `${part} ${i + 1}` }))
  // Two bursts (each step also logs a "done" line: ~300 lines each) with a pause between them, so lines
  // usually arrive while the user is scrolled up; on a slow machine the page may open after the run ended,
  // and everything below must hold then too.
  const steps = [...burst('first'), { type: 'sleep', seconds: 6 }, ...burst('second')]
  expect((await request.post('/api/v1/pipelines', { headers, data: { name, spec: { steps } } })).status()).toBe(201)
  await signIn(page, 'en')
  const run = (await (await request.post('/api/v1/runs', { headers, data: { pipeline: name } })).json()) as { id: string }
  await page.goto(`/runs/${run.id}`)

  const log = page.locator('[data-test=log]')
  const jump = page.locator('[data-test=log-jump]')
  // It follows the end, and only a window of lines is in the DOM.
  await expect.poll(async () => Number(await log.getAttribute('data-lines'))).toBeGreaterThanOrEqual(300)
  await expect(log.locator('[data-test=log-line]').last()).toBeVisible()
  expect(await log.locator('[data-test=log-line]').count()).toBeLessThan(60)
  await expect(log.getByText('first 1', { exact: true })).toHaveCount(0)
  expect(await log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(5)
  await expect(jump).toHaveCount(0)

  // Scrolled to the top: the first line shows, and the jump button appears.
  await log.evaluate((el) => (el.scrollTop = 0))
  await expect(log.getByText('first 1', { exact: true })).toBeVisible()
  await expect(jump).toBeVisible()

  // The rest arrives and the run ends; the view stays where the user put it.
  await expect(page.locator('[data-test=log-ended]')).toHaveAttribute('data-status', 'SUCCEEDED')
  expect(Number(await log.getAttribute('data-lines'))).toBeGreaterThanOrEqual(600)
  expect(await log.evaluate((el) => el.scrollTop)).toBe(0)
  await expect(log.getByText('first 1', { exact: true })).toBeVisible()
  await expect(log.getByText('second 150', { exact: true })).toHaveCount(0)
  await shot(page, 'live-log-scrolled-up-en')

  // Jump to latest: the last lines show and the button goes away.
  await jump.click()
  await expect(log.getByText('second 150', { exact: true })).toBeVisible()
  await expect(jump).toHaveCount(0)
  expect(problems).toEqual([])
})
