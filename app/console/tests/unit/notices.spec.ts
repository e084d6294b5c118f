import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import baseEn from '@/i18n/en'
import baseZhCN from '@/i18n/zh-CN'
import { withAreas } from '@/i18n/areas'
import { NOTICE_CODES, noticeText, type ImportNotice, type LogNotice, type NamedTranslator } from '@/i18n/notices'
import { placeNotices } from '@/datasets/config'

function translator(locale: 'zh-CN' | 'en'): NamedTranslator {
  const i18n = createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'zh-CN',
    messages: { 'zh-CN': withAreas(baseZhCN, 'zh-CN'), en: withAreas(baseEn, 'en') },
  })
  return { t: (key, named) => i18n.global.t(key, named ?? {}), te: (key) => i18n.global.te(key) }
}
const zh = translator('zh-CN')
const en = translator('en')

const footer: ImportNotice = { code: 'totals_row', message: "row 5 ('合计') holds the sums …", row: 5, label: '合计' }
const repeats: ImportNotice = {
  code: 'repeated_header_rows', message: '7 data row(s) repeat the header line …', count: 7, rows: [3, 9, 12, 15, 20], sample_rows: 20480,
}
const nulls: ImportNotice = {
  code: 'null_placeholders',
  message: "'-', 'N/A' among the 3 values of column 'qty': read as empty, the column keeps its type",
  columns: [{ column: 'qty', tokens: ['-', 'N/A'], values: 3 }],
}

describe('noticeText (a warning or a reason in the page\'s language)', () => {
  it('words a totals row, repeated headers and null placeholders in Chinese, with their parameters', () => {
    expect(noticeText(zh, footer)).toBe('第 5 行（“合计”）是上方各列之和：是合计行，不是数据')
    expect(noticeText(zh, repeats)).toContain('有 7 个数据行与表头相同（前 20480 行中的第 3、9、12、15、20、… 行）')
    expect(noticeText(zh, nulls)).toBe('列“qty”的 3 个值中有 -、N/A：读作空值，该列保持原类型')
  })

  it('words them in English too', () => {
    expect(noticeText(en, footer)).toBe('Row 5 (“合计”) holds the sums of the columns above it: a totals row, not data')
    expect(noticeText(en, { code: 'encoding_guessed', message: 'encoding guessed as gb18030', encoding: 'gb18030' })).toBe('Encoding guessed as gb18030')
    expect(noticeText(zh, { code: 'encoding_guessed', message: 'encoding guessed as gb18030', encoding: 'gb18030' })).toBe('文件编码推测为 gb18030')
  })

  it('words nested parts: a sheet choice, title rows, typed columns', () => {
    const sheet: ImportNotice = {
      code: 'largest_sheet', message: '…', sheet: { name: '明细', rows: 10, columns: 3, hidden: false }, others: [{ name: '说明', rows: null, columns: null, hidden: false }],
    }
    expect(noticeText(zh, sheet)).toBe('工作表“明细”的表格最大（10 行 × 3 列）；其他工作表：“说明”（大小未知）')
    // a larger hidden sheet is passed over: the chosen one is the largest of the visible sheets, not "the largest"
    const hidden: ImportNotice = {
      code: 'largest_sheet', message: '…', sheet: { name: '可见', rows: 20, columns: 3, hidden: false }, others: [{ name: '隐藏', rows: 499, columns: 2, hidden: true }],
    }
    expect(noticeText(zh, hidden)).toBe('工作表“可见”在可见工作表中表格最大（20 行 × 3 列）；其他工作表：“隐藏”（已隐藏，499 行 × 2 列）')
    expect(noticeText(en, hidden)).toBe('Sheet “可见” holds the largest table of the visible sheets (20 rows × 3 columns); the others: “隐藏” (hidden, 499 rows × 2 columns)')
    const titles: ImportNotice = {
      code: 'header_below_titles', message: '…', row: 3,
      titles: [{ row: 1, kind: 'merged', cells: 'A1:D1', title: '销售报表', filled: null, width: null }, { row: 2, kind: 'note', cells: null, title: null, filled: 1, width: 4 }],
    }
    expect(noticeText(zh, titles)).toBe('第 1 行是跨 A1:D1 合并的标题（“销售报表”）；第 2 行是备注（4 个单元格中填了 1 个）；第 3 行是下面第一行列名')
    const typed: ImportNotice = { code: 'typed_columns', message: '…', columns: [{ column: '金额', type: 'decimal', format: null, example: '¥1,234.50' }] }
    expect(noticeText(en, typed)).toBe('Typed “金额” as decimal (such as “¥1,234.50”): these columns import as the numbers, dates and flags they hold')
    const digits: ImportNotice = { code: 'typed_columns', message: '…', columns: [{ column: '日期', type: 'date', format: '%Y%m%d', example: '20240105' }] }
    expect(noticeText(en, digits)).toBe('Typed “日期” as date %Y%m%d (such as “20240105”): these columns import as the numbers, dates and flags they hold')
    expect(noticeText(zh, digits)).toBe('将 “日期”设为日期，格式 %Y%m%d（如“20240105”） 设定类型后，这些列按其中的数字、日期和是否值导入')
  })

  it("reads a code it does not know (a newer API's), and `other`, as the API's own message", () => {
    const newer = { code: 'not_yet_known', message: 'something new happened' } as unknown as ImportNotice
    expect(noticeText(zh, newer)).toBe('something new happened')
    expect(noticeText(zh, { code: 'other', message: 'plain text' })).toBe('plain text')
  })

  it('has a sentence for every code in both languages', () => {
    for (const code of NOTICE_CODES) {
      expect(zh.te(`notices.${code}`), code).toBe(true)
      expect(en.te(`notices.${code}`), code).toBe(true)
    }
  })
})

describe('placeNotices', () => {
  it('puts a notice about a column on that column, the rest above the table, `other` by its text', () => {
    const mixed: ImportNotice = { code: 'mixed_types', message: "column 'qty' mixes types", column: 'qty' }
    const other: ImportNotice = { code: 'other', message: "column 'day' has something" }
    const placed = placeNotices([mixed, footer, other], ['qty', 'day'], (n) => noticeText(zh, n))
    expect(placed.byColumn).toEqual({ qty: ['列“qty”前几行的类型不一致，按文本读取'], day: ["column 'day' has something"] })
    expect(placed.general).toEqual(['第 5 行（“合计”）是上方各列之和：是合计行，不是数据'])
  })
})

describe("a run's log lines and timeline in the page's language", () => {
  it('words the lines Conveyor writes itself, with the enum words of their status and reason', () => {
    const retry = {
      code: 'retry_scheduled', message: 'attempt 1 failed: boom; retrying in 2.0 s', attempt: 1, reason: 'failed', error: 'boom', delay_seconds: 2,
    } as const
    expect(noticeText(zh, retry)).toBe('第 1 次尝试失败：boom；2.0 秒后重试')
    expect(noticeText(en, retry)).toBe('Attempt 1 ended (Failed): boom; retrying in 2.0 s')
    const ended = { code: 'attempt_ended', message: 'SUCCEEDED in 12 ms', status: 'SUCCEEDED', elapsed_ms: 12, error: null } as const
    expect(noticeText(zh, ended)).toBe('成功，用时 12 毫秒')
    const step = {
      code: 'step_done', message: '…', step: 1, steps: 2, id: 'q', type: 'sql', how: 'view', rows_in: 1200, rows_out: 3, duration_ms: 5,
    } as const
    expect(noticeText(zh, step)).toBe('步骤 1/2 q（sql）view：1,200 → 3 行，用时 5 毫秒')
    expect(noticeText(zh, { code: 'importing', message: '…', file: 'a.csv', bytes: 10, config: null })).toBe('正在导入 a.csv（10 字节）；配置：由文件推断')
  })

  it('words a validate step\'s rule lines like the others, not as their English', () => {
    // The zh-CN log showed "validate check_n: not_null(n) [fail]: passed" among translated lines.
    type RuleChecked = Extract<LogNotice, { code: 'rule_checked' }>
    const rule = (found: number, more: Partial<RuleChecked> = {}): RuleChecked => ({
      code: 'rule_checked', message: '…', step: 'check_n', rule: 'not_null', columns: ['n'], severity: 'fail', passed: !found, found, min: null, max: null, ...more,
    })
    expect(noticeText(zh, rule(0))).toBe('校验 check_n：not_null(n) [fail]：通过')
    expect(noticeText(en, rule(0))).toBe('Validate check_n: not_null(n) [fail]: passed')
    expect(noticeText(zh, rule(1200))).toBe('校验 check_n：not_null(n) [fail]：1,200 行违反')
    expect(noticeText(en, rule(2, { rule: 'unique', columns: ['id', 'day'] }))).toBe('Validate check_n: unique(id, day) [fail]: 2 duplicate rows')
    expect(noticeText(zh, rule(2, { rule: 'unique', columns: ['id', 'day'] }))).toBe('校验 check_n：unique(id, day) [fail]：2 行重复')
    const rows = rule(10, { rule: 'row_count', columns: [], passed: true, min: 1 })
    expect(noticeText(zh, rows)).toBe('校验 check_n：row_count [fail]：10 行，应在 [1, ] 之内')
    expect(noticeText(en, rows)).toBe('Validate check_n: row_count [fail]: 10 rows, expected [1, ]')
  })

  it('words the line saying the output was copied from its relation, not as its English', () => {
    // The zh-CN log showed "output: 1,200 rows from checks written in 3 ms" among translated lines.
    const copied = { code: 'output_copied', message: '…', rows: 1200, relation: 'checks', duration_ms: 3 } as const
    expect(noticeText(zh, copied)).toBe('输出：1,200 行，自 checks 写出，用时 3 毫秒')
    expect(noticeText(en, copied)).toBe('Output: 1,200 rows from checks written in 3 ms')
  })

  it("words every timeline reason, and shows a reason it does not know as itself", async () => {
    const { enumLabel } = await import('@/i18n/enums')
    expect(enumLabel(zh, 'runEventReason', 'cancel_requested')).toBe('用户取消')
    expect(enumLabel(zh, 'runEventReason', 'worker_lost')).toBe('工作进程失联（回收）')
    expect(enumLabel(en, 'runEventReason', 'manual_retry')).toBe('Retried by hand')
    expect(enumLabel(zh, 'runEventReason', 'brand_new_reason')).toBe('brand_new_reason')
  })
})
