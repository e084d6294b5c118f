import { readFileSync } from 'node:fs'
import { expect, test, type Page } from '@playwright/test'
import { apiToken, shot, signIn, watchProblems } from './helpers'

/**
 * What an analyst and an operator in zh-CN meet on their way: a messy Chinese export imported after fixing its column
 * types (words, not codes; a date column's several formats; another try after a failed import), and a run started from its pipeline and
 * cancelled from the page it lands on.
 */
const fx = JSON.parse(readFileSync(process.env.DATASET_FIXTURES ?? '', 'utf8')) as { messy: string; messy_rows: number }
const stamp = Date.now()

async function chooseIn(page: Page, select: ReturnType<Page['locator']>, option: string): Promise<void> {
  await select.click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click()
}

test.setTimeout(240_000)

test('a messy Chinese workbook: column types as words, a date written three ways, a failed import tried again', async ({ page }) => {
  const problems = watchProblems(page)
  await signIn(page, 'zh-CN')
  await page.goto('/datasets')
  await page.locator('[data-test=upload-open]').click()
  await page.locator('[data-test=file-input]').setInputFiles(fx.messy)
  await page.locator('[data-test=upload-name]').fill(`华东销售-${stamp}`)
  await page.locator('[data-test=upload-start]').click()
  await page.waitForURL(/\/datasets\/[0-9a-f-]+\/configure$/)

  // The merged header reads as one row of names; the types are words, the code on hover.
  await expect(page.locator('[data-test=preview-header]')).toHaveText(['日期', '门店', '销售_数量', '销售_备注'])
  const dayType = page.locator('[data-test=preview-type]').first()
  await expect(dayType).toHaveText('文本')
  await expect(dayType).toHaveAttribute('title', 'string')
  await expect(page.locator('[data-test=preview-type]', { hasText: /^(string|integer)$/ })).toHaveCount(0)

  // The 合计 row is left out, 日期 is made a date: the text dates do not read, and strict import fails.
  await page.locator('[data-test=cfg-skip-footer] input').fill('1')
  await page.locator('[data-test=cfg-skip-footer] input').press('Tab')
  const day = page.locator('[data-test="cfg-col-日期"]')
  await chooseIn(page, day.locator('[data-test=cfg-col-type]'), '日期')
  await expect(day.locator('[data-test=cfg-col-format]')).toBeVisible()
  await expect(page.locator('[data-test=preview-type]').first()).toHaveText('日期') // the preview has caught up
  await expect(page.locator('[data-test=preview]')).toHaveAttribute('data-loading', 'false')
  await chooseIn(page, page.locator('[data-test="cfg-col-销售_数量"] [data-test=cfg-col-type]'), '整数')
  await expect(page.locator('[data-test=preview-type]').nth(2)).toHaveText('整数')
  await page.locator('[data-test=start-import]').click()
  await expect(page.locator('[data-test=import-failed]')).toBeVisible()
  await expect(page.locator('[data-test=import-heading]')).toHaveText('导入结果')
  // The form stays as it was and the import may be tried again, with a word on why the button is back.
  await expect(page.locator('[data-test=start-import]')).toBeEnabled()
  await expect(page.locator('[data-test=import-again-hint]')).toBeVisible()
  await expect(page.locator('[data-test=cfg-skip-footer] input')).toHaveValue('1')
  await shot(page, 'person-import-failed-zh-CN')

  // The export writes its dates three ways: the three formats, tried in order, make every row read.
  await day.locator('[data-test=cfg-col-format]').click()
  for (const format of ['%Y年%m月%d日', '%Y/%m/%d', '%Y%m%d']) await page.getByRole('option', { name: format, exact: true }).click()
  await page.keyboard.press('Escape')
  await expect(page.locator('[data-test=preview]')).toHaveAttribute('data-loading', 'false')
  await page.locator('[data-test=start-import]').click()
  await expect(page.locator('[data-test=import-done]')).toBeVisible()
  await expect(page.locator('[data-test=start-import]')).toBeDisabled()
  await shot(page, 'person-import-done-zh-CN')
  await page.locator('[data-test=open-dataset]').click()
  await expect(page.locator('[data-test=row-count]')).toHaveText(String(fx.messy_rows))
  await page.locator('.el-tabs__item', { hasText: '列统计' }).click()
  const stat = (column: string) => page.locator(`[data-test=column-type][data-column="${column}"]`)
  await expect(stat('日期')).toHaveText('日期')
  await expect(stat('日期')).toHaveAttribute('data-type', 'date')
  await expect(stat('销售_数量')).toHaveText('整数')
  await expect(stat('门店')).toHaveText('文本')
  await shot(page, 'person-dataset-types-zh-CN')
  // The versions table's header is a name, not a sentence cut before its number ("被拒绝的行：").
  await page.locator('.el-tabs__item', { hasText: '版本' }).click()
  await expect(page.locator('th', { hasText: '被拒绝的行' })).toHaveText('被拒绝的行')
  expect(problems).toEqual([])
})

test('a run started from its pipeline shows its status and can be cancelled there', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const name = `person-slow-${stamp}`
  const made = await request.post('/api/v1/pipelines', {
    headers,
    data: { name, spec: { steps: [{ type: 'log', message: '开始' }, { type: 'sleep', seconds: 120 }] } },
  })
  expect(made.status(), await made.text()).toBe(201)
  const id = ((await made.json()) as { id: string }).id
  await signIn(page, 'zh-CN')
  await page.goto(`/pipelines/${id}`)
  await page.locator('[data-test=run-pipeline]').click()
  await page.locator('[data-test=run-dialog] [data-test=start-run]').click()
  await page.waitForURL(/\/pipelines\/[0-9a-f-]+\/runs\/[0-9a-f-]+$/)
  // While it runs the page says so, and offers Cancel (not only after the log has ended).
  await expect(page.locator('[data-test=pipeline-run-status]')).toHaveText(/排队中|运行中|等待中/)
  await page.locator('[data-test=cancel-run]').click()
  await page.locator('.el-message-box .el-button--primary').click()
  await expect(page.locator('[data-test=pipeline-run-status]')).toHaveText('已取消')
  await expect(page.locator('[data-test=cancel-run]')).toHaveCount(0)
  await shot(page, 'person-run-cancelled-zh-CN')
  expect(problems).toEqual([])
})
