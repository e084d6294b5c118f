/** What the end-to-end tests share: the stack's address and admin, sign-in, screenshots, CSP watching, axe. */
import AxeBuilder from '@axe-core/playwright'
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test'

/** Which of the run's Playwright workers this is (0 to workers - 1): Playwright sets it in each worker process. */
const WORKER = Number(process.env.TEST_PARALLEL_INDEX ?? '0')
/**
 * The instance admin this worker signs in as: the first worker the stack's own admin, each other one its own
 * (`admin-w1`, … made by tests/browser/test_console.py), so one worker's wrong passwords, sign-outs and sessions
 * never touch another's.
 */
export const ADMIN = adminOf(WORKER)
export const PASSWORD = process.env.ADMIN_PASSWORD ?? ''
const ARTIFACTS = process.env.ARTIFACTS ?? 'test-results'

/** The admin account of Playwright worker `index`, named as tests/browser/test_console.py makes them. */
export function adminOf(index: number): string {
  const base = process.env.ADMIN_USER ?? 'admin'
  return index === 0 ? base : `${base}-w${index}`
}

export async function signIn(
  page: Page,
  locale: 'zh-CN' | 'en' = 'en',
  username: string = ADMIN,
  password: string = PASSWORD,
): Promise<void> {
  await page.addInitScript((l) => localStorage.setItem('conveyor.locale', l), locale)
  await page.goto('/sign-in')
  await page.locator('input[name=username]').fill(username)
  await page.locator('input[name=password]').fill(password)
  await page.locator('[data-test=sign-in]').click()
  await expect(page.locator('[data-test=user-menu]')).toContainText(username)
}

/** An input by its data-test: Element Plus puts it on the <input> of ElInput, on the wrapper of ElInputNumber. */
export function field(page: Page, name: string) {
  return page.locator(`input[data-test=${name}], [data-test=${name}] input`).first()
}

/** Replace the whole text of the CodeMirror editor, as a paste would. */
export async function writeSpec(page: Page, text: string): Promise<void> {
  const editor = page.locator('.cm-content')
  await editor.click()
  await page.keyboard.press('Control+A')
  await page.keyboard.press('Delete')
  await page.keyboard.insertText(text)
}

/**
 * The whole page as `<name>.png`, not only its first screenful: the console scrolls inside its main pane (the layout
 * is the window's height), so a full-page screenshot was the viewport's 800 px and the dashboard's lower charts were
 * never in one. The viewport grows to the pane's content for the picture, then goes back.
 */
export async function shot(page: Page, name: string): Promise<void> {
  const before = page.viewportSize()
  const whole = await page.evaluate(() => {
    const main = document.querySelector('.el-main')
    return main ? Math.ceil(main.getBoundingClientRect().top + main.scrollHeight) : 0
  })
  const grow = before !== null && whole > before.height
  if (grow) {
    await page.setViewportSize({ width: before.width, height: Math.min(whole, 8000) })
    await page.waitForTimeout(300) // charts follow their new size
  }
  await page.screenshot({ path: `${ARTIFACTS}/screenshots/${name}.png`, fullPage: true })
  if (grow) await page.setViewportSize(before)
}

/** The page as it is now at 1280 px and at 390 px (a phone) wide: `<name>-1280px.png` and `<name>-390px.png`. */
export async function shotWidths(page: Page, name: string): Promise<void> {
  const before = page.viewportSize() ?? { width: 1280, height: 800 }
  for (const [width, height] of [[1280, 800], [390, 844]] as const) {
    await page.setViewportSize({ width, height })
    await page.waitForTimeout(300) // let the layout and the tables settle at the new width
    await shot(page, `${name}-${width}px`)
  }
  await page.setViewportSize(before)
}

/**
 * The element as the user reads it now: not shrunk by a transform (a tag zooming in from scaleX(0) read as a
 * sliver in settings-tokens-zh-CN) and no animation of it running. Checked at once, not polled: that is the point.
 */
export async function expectDrawnWhole(locator: Locator): Promise<void> {
  const drawn = await locator.evaluate((el) => {
    const html = el as HTMLElement
    const box = html.getBoundingClientRect()
    return { width: Math.round(box.width), layoutWidth: html.offsetWidth, animations: html.getAnimations().length }
  })
  expect(drawn).toEqual({ width: drawn.layoutWidth, layoutWidth: drawn.layoutWidth, animations: 0 })
  expect(drawn.layoutWidth).toBeGreaterThan(0)
}

/** How far the ElTable's body scrolls sideways (0: every column is in sight, none cut off at the right edge). */
export async function tableOverflow(table: Locator): Promise<number> {
  return table.evaluate((el) => {
    const body = el.querySelector('.el-table__body-wrapper .el-scrollbar__wrap') ?? el
    return body.scrollWidth - body.clientWidth
  })
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

/** Every API answer the page got with this status (method and path), to prove the UI never asks for what it may not do. */
export function watchStatus(page: Page, status: number): string[] {
  const seen: string[] = []
  page.on('response', (response) => {
    if (response.status() === status && response.url().includes('/api/')) {
      seen.push(`${response.request().method()} ${new URL(response.url()).pathname}`)
    }
  })
  return seen
}

/**
 * A new account with `role` in the default namespace, made by the admin through the API. The password is long and
 * random enough to pass the zxcvbn check (score >= 3).
 */
export async function createMember(
  request: APIRequestContext,
  headers: Record<string, string>,
  role: 'viewer' | 'operator' | 'editor',
): Promise<{ username: string; password: string; id: string }> {
  const username = `e2e-${role}-${Date.now()}-w${WORKER}` // two workers may make one in the same millisecond
  const password = `Quartz-${Math.random().toString(36).slice(2, 10)}-lantern-${role}-Orbit9`
  const created = await request.post('/api/v1/users', { headers, data: { username, password } })
  expect(created.status(), await created.text()).toBe(201)
  const user = (await created.json()) as { id: string }
  const member = await request.put(`/api/v1/namespaces/default/members/${user.id}`, { headers, data: { role } })
  expect(member.status(), await member.text()).toBe(200)
  return { username, password, id: user.id }
}

/** Critical and serious axe violations on the page as it is now, one line each (rule, impact, where). */
export async function axeViolations(page: Page): Promise<string[]> {
  // Colours mid-transition (a drawer sliding in, tags zooming in) are not what the user reads: let them end first.
  // A toast fading out mid-scan reads as low contrast: wait until every message has closed (3 s each).
  await page.locator('.el-message').first().waitFor({ state: 'detached', timeout: 15_000 })
  await page.waitForTimeout(300) // a transition that is about to start (a tag fading in) is not yet in getAnimations()
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'))
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze()
  return results.violations
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => `${n.target.join(' ')} ${n.any[0]?.message ?? ''}`).join(', ')}`)
}

/** A dataset made from `csv` through the API, and its import with `config` run to SUCCEEDED: the dataset's and the run's ids. */
export async function importedCsv(
  request: APIRequestContext,
  headers: Record<string, string>,
  name: string,
  csv: string,
  config: object = {},
): Promise<{ id: string; run: string }> {
  const made = await request.post('/api/v1/datasets?namespace=default', {
    headers,
    multipart: { name, file: { name: `${name}.csv`, mimeType: 'text/csv', buffer: Buffer.from(csv) } },
  })
  expect(made.status(), await made.text()).toBe(201)
  const id = ((await made.json()) as { id: string }).id
  const run = ((await (await request.post(`/api/v1/datasets/${id}/imports`, { headers, data: config })).json()) as { id: string }).id
  const status = async () => ((await (await request.get(`/api/v1/runs/${run}`, { headers })).json()) as { status: string }).status
  await expect.poll(status, { timeout: 60_000 }).toBe('SUCCEEDED')
  return { id, run }
}
