import { expect, test, type Page } from '@playwright/test'
import { apiToken, axeViolations as violations, field, shot, shotWidths, signIn, watchProblems } from './helpers'

/** The next `n` instants at which hh:mm in Asia/Tokyo (no DST, UTC+9) happens each day (02:30 there is 17:30 UTC). */
function tokyoAt(hour: number, minute: number, n: number, now = Date.now()): string[] {
  const first = new Date(now)
  first.setUTCHours((hour + 24 - 9) % 24, minute, 0, 0)
  if (first.getTime() <= now) first.setUTCDate(first.getUTCDate() + 1)
  return Array.from({ length: n }, (_, i) => new Date(first.getTime() + i * 86_400_000).toISOString().replace('.000Z', 'Z'))
}

async function pick(page: Page, select: string, option: string, typed?: string): Promise<void> {
  await page.locator(`[data-test=${select}]`).click()
  if (typed) await page.keyboard.type(typed)
  await page.getByRole('option', { name: option, exact: true }).click()
}

/** Fill the new-deployment form's name and pipeline (the form opens with a cron schedule). */
async function newDeployment(page: Page, name: string, pipeline: string): Promise<void> {
  await page.goto('/deployments')
  await page.locator('[data-test=new-deployment]').click()
  await field(page, 'deployment-name').fill(name)
  await pick(page, 'deployment-pipeline', pipeline, pipeline)
}

test('cron in a non-UTC zone previews the right fire times and is edited; an interval deployment fires, pauses and resumes', async ({ page, request }) => {
  test.setTimeout(360_000) // one long story (sign in once): two deployments, a few seconds of firing, pause, resume
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const pipeline = `e2e-deploy-${stamp}`
  const made = await request.post('/api/v1/pipelines', {
    headers,
    data: { name: pipeline, spec: { params: { who: { type: 'string', default: 'cron' } }, steps: [{ type: 'log', message: 'tick' }] } },
  })
  expect(made.status(), await made.text()).toBe(201)
  const axe: Record<string, string[]> = {}
  await signIn(page, 'en')

  // A cron at 02:30 in Tokyo: read in words, and the preview shows the next five 17:30 UTC instants.
  await page.locator('[data-test="menu-/deployments"]').click()
  await expect(page.locator('[data-test=deployments-table]')).toBeVisible()
  await newDeployment(page, `nightly-${stamp}`, pipeline)
  await expect(field(page, 'param-who')).toHaveValue('cron') // the params form of the pipeline
  // A policy's options say what each does, not only its code.
  await page.locator('[data-test=overlap]').click()
  const queueAll = page.locator('.el-select-dropdown__item[data-value=buffer_all]')
  await expect(queueAll).toContainText('Queue all')
  await expect(queueAll).toContainText('Hold every run; start them as slots free')
  await expect(queueAll).not.toContainText('buffer_all')
  await page.keyboard.press('Escape')
  await field(page, 'cron-input').fill('30 2 * * *')
  await pick(page, 'timezone', 'Asia/Tokyo', 'Asia/Tok')
  await expect(page.locator('[data-test=cron-words]')).toHaveText('At 02:30, every day')
  const expected = tokyoAt(2, 30, 5)
  const preview = page.locator('[data-test=fire-time]')
  await expect(preview).toHaveCount(5)
  await expect(preview.first()).toHaveAttribute('data-iso', expected[0] ?? '')
  expect(await preview.evaluateAll((items) => items.map((i) => i.getAttribute('data-iso')))).toEqual(expected)
  await expect(preview.first()).toContainText('02:30') // shown in the schedule's own zone
  axe.form = await violations(page)
  await shot(page, 'deployment-form-en')
  await page.locator('[data-test=save-deployment]').click()
  await expect(page.locator('[data-test=schedule-words]')).toHaveText('At 02:30, every day, Asia/Tokyo')
  // Nothing has fired yet: the timeline says so instead of drawing empty axes.
  await expect(page.locator('[data-test=timeline-empty]')).toContainText('No fire time has come yet')
  await expect(page.locator('[data-test=upcoming-time]').first()).toHaveAttribute('data-iso', expected[0] ?? '')
  // Each policy: the code the API and the form use, and what it means in words.
  // Policies read as words; the code stays in data-value.
  await expect(page.locator('[data-test=misfire-policy]')).toHaveText('Run once')
  await expect(page.locator('[data-test=misfire-policy]')).toHaveAttribute('data-value', 'run_once')
  await expect(page.locator('[data-test=misfire-hint]')).toHaveText('Coalesce missed fire times into one run')
  await expect(page.locator('[data-test=overlap-policy]')).toHaveText('Skip')
  await expect(page.locator('[data-test=overlap-hint]')).toHaveText('At the concurrency limit, skip this fire time')
  // The retry policy reads as words, not a bare number.
  const retries = Number(await page.locator('[data-test=retry-policy]').getAttribute('data-max-retries'))
  await expect(page.locator('[data-test=retry-policy]')).toHaveText(
    retries === 0 ? 'No retries' : `Up to ${retries} ${retries === 1 ? 'retry' : 'retries'} after a failure`,
  )

  // Edit it: the form opens with the saved schedule; a new cron, saved, is what the page reads and plans.
  await page.locator('[data-test=edit]').click()
  await expect(field(page, 'cron-input')).toHaveValue('30 2 * * *')
  await field(page, 'cron-input').fill('45 3 * * *')
  await expect(page.locator('[data-test=cron-words]')).toHaveText('At 03:45, every day')
  const edited = tokyoAt(3, 45, 5)
  await expect(page.locator('[data-test=fire-time]').first()).toHaveAttribute('data-iso', edited[0] ?? '')
  await page.locator('[data-test=save-deployment]').click()
  await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]+$/)
  await expect(page.locator('[data-test=schedule-words]')).toHaveText('At 03:45, every day, Asia/Tokyo')
  await expect(page.locator('[data-test=upcoming-time]').first()).toHaveAttribute('data-iso', edited[0] ?? '')
  const upcoming = await page.locator('[data-test=upcoming-time]').evaluateAll((items) => items.map((i) => i.getAttribute('data-iso')))
  expect(upcoming).toEqual(tokyoAt(3, 45, upcoming.length))
  await expect(page.locator('[data-test=upcoming-time]').first()).toContainText('03:45')

  // Backfill: the dialog says how many runs the last day holds before anything is created.
  await page.locator('[data-test=backfill]').click()
  await expect(page.locator('[data-test=backfill-preview]')).toHaveAttribute('data-will-create', '1')
  await page.keyboard.press('Escape')

  // An interval of 2 s fires: its runs show in the occurrences table and in the run list.
  await newDeployment(page, `often-${stamp}`, pipeline)
  await page.locator('[data-test=kind-interval]').click()
  await field(page, 'interval-every').fill('2')
  await pick(page, 'interval-unit', 's')
  await expect(page.locator('[data-test=fire-time]')).toHaveCount(5)
  await page.locator('[data-test=save-deployment]').click()
  await expect(page.locator('[data-test=schedule-words]')).toHaveText('every 2 s')
  const deploymentId = page.url().split('/').pop() ?? ''
  const ran = page.locator('[data-test=occurrence-outcome][data-outcome=run]')
  await expect(async () => {
    await page.locator('[data-test=refresh]').click()
    expect(await ran.count()).toBeGreaterThanOrEqual(2)
  }).toPass({ timeout: 30_000 })
  const runId = (await page.locator('[data-test=occurrence-run]').last().getAttribute('href'))?.split('/').pop() ?? ''
  await expect(page.locator('[data-test=occurrence-timeline]')).toHaveAttribute('data-drawn', 'true')
  axe.detail = await violations(page)
  await shot(page, 'deployment-page-en')

  // Pause; fire times that pass while paused are recorded as `paused` on resume.
  await page.locator('[data-test=pause]').click()
  await expect(page.locator('[data-test=deployment-state]')).toHaveText('Paused')
  await page.waitForTimeout(4500) // two fire times pass while paused (the scheduler's clock is real here)
  await page.locator('[data-test=resume]').click()
  await expect(page.locator('[data-test=deployment-state]')).toHaveText('Active')
  await pick(page, 'outcome-filter', 'Paused')
  await expect(page.locator('[data-test=occurrence-outcome][data-outcome=paused]').first()).toBeVisible()
  await expect(page.locator('[data-test=occurrence-outcome]:not([data-outcome=paused])')).toHaveCount(0)
  // The timeline's rows are outcome words drawn on a canvas: switching the language draws them again.
  const timeline = page.locator('[data-test=occurrence-timeline]')
  await expect(timeline).toHaveAttribute('data-drawn-locale', 'en')
  await pick(page, 'language', '简体中文')
  await expect(timeline).toHaveAttribute('data-drawn-locale', 'zh-CN')
  await pick(page, 'language', 'English')
  await expect(timeline).toHaveAttribute('data-drawn-locale', 'en')

  await page.goto('/runs')
  await page.locator('[data-test=filter-deployment]').click() // chosen by name; a pasted id is offered as itself
  await page.keyboard.insertText(deploymentId)
  await page.locator(`.el-select-dropdown__item[data-id="${deploymentId}"]:visible`).click()
  await page.locator('[data-test=apply-filters]').click()
  await expect(page.locator(`[data-test=run-link][href="/runs/${runId}"]`)).toBeVisible()

  // The list: schedule in words and state; delete the interval deployment from its row.
  await page.goto('/deployments')
  const row = page.locator('[data-test=deployments-table] tr', { hasText: `often-${stamp}` })
  await expect(page.locator('[data-test=deployments-table] tr', { hasText: `nightly-${stamp}` })).toContainText('Asia/Tokyo')
  axe.list = await violations(page)
  await shot(page, 'deployments-en')
  await pick(page, 'language', '简体中文') // the schedule in Chinese words, from cronstrue's zh_CN locale
  // In Chinese punctuation: cronstrue's zh_CN joins its words with English commas.
  await expect(page.locator('[data-test=deployments-table] tr', { hasText: `nightly-${stamp}` }).locator('[data-test=schedule-words]')).toHaveText('在03:45，每天，Asia/Tokyo')
  await expect(row.locator('[data-test=deployment-state]')).toHaveText('已启用') // a state, not "a run is running"
  axe.listZh = await violations(page)
  await shot(page, 'deployments-zh-CN')
  await shotWidths(page, 'zh-deployments-list')
  // The row's actions are in sight without scrolling the table sideways (its columns are wider than the page).
  await expect(row.locator('[data-test=row-delete]')).toBeInViewport()
  await row.locator('[data-test=row-delete]').click()
  await page.locator('.el-message-box .el-button--primary').click()
  await expect(row).toHaveCount(0)

  expect(axe).toEqual({ form: [], detail: [], list: [], listZh: [] })
  expect(problems).toEqual([])
})
