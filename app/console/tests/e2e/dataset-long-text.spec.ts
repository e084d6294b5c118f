import { expect, test } from '@playwright/test'
import { apiToken, importedCsv, shotWidths, signIn, watchProblems } from './helpers'

/** A sentence of about 120 characters, as a remark column of a Chinese report holds them. */
const REMARK = '这是一段很长的中文描述文本，用于检查表格在显示长文本时是否会截断、换行或溢出，'.repeat(3)

test('a long Chinese text cell takes at most three lines in the rows table, the whole text on hover (zh-CN)', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const columns = Array.from({ length: 20 }, (_, n) => `列${n}_字段名称比较长`)
  const lines = [['编号', '备注', ...columns].join(',')]
  for (let n = 0; n < 20; n += 1) lines.push([n, REMARK, ...columns.map((_, c) => n * 1000 + c)].join(','))
  const { id } = await importedCsv(request, headers, `long-text-${Date.now()}`, `${lines.join('\n')}\n`)

  await signIn(page, 'zh-CN')
  await page.goto(`/datasets/${id}`)
  const rows = page.locator('[data-test=rows-table] tbody tr.el-table__row')
  await expect(rows).toHaveCount(20)
  const remark = rows.first().locator('td').nth(1)
  await expect(remark).toContainText('这是一段很长的中文描述文本')
  // Three lines of 14 px text, not the twelve a 120-character sentence wraps into in its column: a row a person can
  // scan, twenty of them in two screens, not fourteen.
  const heights = await rows.evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height))
  for (const height of heights) expect(height).toBeLessThan(100)
  await expect(remark.locator('[data-test=cell-text]')).toHaveAttribute('title', REMARK)
  // The other columns keep their numbers whole.
  await expect(rows.first().locator('td').nth(2)).toHaveText('0')
  await shotWidths(page, 'dataset-long-text-zh-CN')
  expect(problems).toEqual([])
})
