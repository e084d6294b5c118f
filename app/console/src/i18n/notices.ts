/**
 * What a preview or an import tells a person (its warnings, a suggestion's reason), worded in the page's locale
 * from the notice's code and typed parameters; a code this console has no words for reads as the API's `message`.
 * The words live in ./areas/notices.ts, one per code of NOTICE_CODES (the compiler checks both locales).
 */
import type { components } from '@/api/schema'

export type ImportNotice = NonNullable<components['schemas']['Preview']['notices']>[number]
/** What a log line Conveyor writes itself carries: its own lines' codes, and an import's warnings. */
export type LogNotice = NonNullable<components['schemas']['LogLineOut']['notice']>
export type AnyNotice = ImportNotice | LogNotice
export type NoticeCode = AnyNotice['code']

/**
 * Every code the API's notices carry (app/ingest/notices: columns.py, file.py, suggestions.py; `other` is a
 * warning no code describes yet). tests/unit/test_console_codes.py checks this list against the backend's.
 */
export const NOTICE_CODES = [
  // columns.py
  'empty_header', 'header_cleaned', 'duplicate_column', 'header_width', 'delimiter_hint', 'header_rows_joined', 'merged_header',
  'columns_cut', 'repeated_header_rows', 'repeated_header_lines', 'mixed_types', 'mostly_numbers', 'long_numbers',
  'exact_numbers', 'non_finite_as_null', 'tab_padded', 'formula_text', 'subtotal_rows', 'utc_offset', 'error_cells', 'kept_as_text',
  'out_of_range_as_text', 'codes_checked_at_import', 'zero_padded', 'read_as_null', 'blank_columns_left_out', 'unit_clash',
  // file.py
  'workbook_named', 'text_named', 'encoding_guessed', 'invalid_bytes', 'line_ends', 'footer_left_out', 'footer_kept',
  'records_path', 'preview_rows', 'cells_cut', 'row_problem', 'rejected', 'one_record',
  // suggestions.py
  'largest_sheet', 'header_below_titles', 'title_block', 'totals_row', 'summary_lines', 'null_placeholders',
  'typed_columns', 'thousands_separator', 'decimal_comma',
  'other',
  // app/core/run_notices.py: the lines Conveyor writes in a run's log
  'attempt_started', 'lease_lost', 'retry_scheduled', 'attempt_ended', 'input_pinned', 'input_read', 'params_ignored',
  'step_done', 'rule_checked', 'sleeping', 'output_copied', 'output_written', 'output_version', 'importing', 'import_version', 'import_failed',
] as const satisfies readonly NoticeCode[]

/** Both ways: every code of the schema is in the list (a new API code fails the type-check until it is worded). */
type Missing = Exclude<NoticeCode, (typeof NOTICE_CODES)[number]>
export const NOTHING_MISSING: Missing extends never ? true : Missing = true

/** One locale's words: a sentence per code, and the parts some sentences are made of. */
export type NoticeWords = Record<NoticeCode, string> & { parts: Record<string, string> }

/** The two calls of vue-i18n the wording needs (a Composer has them; a test may pass its own). */
export interface NamedTranslator {
  t: (key: string, named?: Record<string, unknown>) => string
  te: (key: string) => boolean
}

type Params = Record<string, string | number>

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value)
}

/** `items` joined the locale's way, with "…" when `total` says there were more. */
function listed(i18n: NamedTranslator, items: unknown[], total = items.length): string {
  const joined = items.map(text).join(i18n.t('notices.parts.separator'))
  return total > items.length ? `${joined}${i18n.t('notices.parts.separator')}…` : joined
}

/** The parameters a sentence is worded with: the notice's own, with lists, flags and nested parts worded. */
function params(i18n: NamedTranslator, notice: AnyNotice): Params {
  const part = (key: string, named?: Params) => i18n.t(`notices.parts.${key}`, named)
  const out: Params = {}
  for (const [key, value] of Object.entries(notice)) {
    if (key === 'code' || key === 'message') continue
    out[key] = Array.isArray(value) ? listed(i18n, value) : typeof value === 'object' && value !== null ? '' : text(value)
  }
  switch (notice.code) {
    case 'repeated_header_rows':
      out.rows = listed(i18n, notice.rows, notice.count)
      break
    case 'repeated_header_lines':
      out.lines = listed(i18n, notice.lines, notice.count)
      out.outcome = notice.outcome === 'rejected' ? part('rejected', { file: text(notice.rejects_file) }) : part('readAsData')
      break
    case 'codes_checked_at_import':
      out.then = part(notice.lenient ? 'codesLenient' : 'codesStrict')
      break
    case 'tab_padded':
    case 'formula_text':
      out.columns = listed(i18n, notice.columns, notice.count)
      break
    case 'read_as_null':
      out.columns = listed(i18n, notice.columns)
      break
    case 'footer_left_out':
      out.lines = listed(i18n, notice.lines, notice.count)
      break
    case 'exact_numbers':
      out.read_as = notice.read_as === 'decimal' ? `DECIMAL(38, ${text(notice.scale)})` : part('asText')
      break
    case 'invalid_bytes':
      out.outcome = notice.replaced ? part('replaced') : ''
      break
    case 'line_ends':
      out.ends = part(notice.ends === 'lf_cr' ? 'lfCr' : notice.ends)
      break
    case 'rejected':
      out.unit = part(notice.unit)
      break
    case 'row_problem':
      out.column = notice.column ? part('column', { column: notice.column }) : ''
      break
    case 'header_rows_joined':
    case 'utc_offset':
      out.example = notice.example ? part('example', { example: notice.example }) : ''
      break
    case 'largest_sheet': {
      const measured = (s: typeof notice.sheet) => (s.rows === null || s.rows === undefined ? part('sizeUnknown') : part('size', { rows: s.rows, columns: text(s.columns) }))
      // a hidden sheet is chosen only by name: beside one, the choice is the largest of the visible sheets
      const size = (s: typeof notice.sheet) => (s.hidden ? part('hiddenSize', { size: measured(s) }) : measured(s))
      out.sheet = notice.sheet.name
      out.size = size(notice.sheet)
      out.largest = part(notice.others.some((o) => o.hidden) ? 'largestVisible' : 'largest')
      out.others = listed(i18n, notice.others.map((o) => part('sheetSize', { name: o.name, size: size(o) })))
      break
    }
    case 'header_below_titles':
      out.titles = notice.titles.map((r) => part(`title_${r.kind}`, { row: r.row, cells: text(r.cells), title: text(r.title), filled: text(r.filled), width: text(r.width) })).join(part('clause'))
      break
    case 'summary_lines': {
      const said = notice.totals ? [part('totalsLine', { line: notice.totals, label: text(notice.label) })] : []
      if (notice.summary) said.push(part('summaryLines', { count: notice.summary, lines: listed(i18n, notice.lines, notice.summary), width: notice.width }))
      out.said = said.join(part('clause'))
      break
    }
    case 'null_placeholders':
      out.said = notice.columns.map((c) => part('placeholders', { tokens: listed(i18n, c.tokens), values: c.values, column: c.column })).join(part('clause'))
      break
    case 'typed_columns':
      out.columns = listed(i18n, notice.columns.map((c) => part(`typed_${c.type}`, { column: c.column, format: text(c.format), example: text(c.example) })))
      break
    case 'retry_scheduled':
      out.reason = word(i18n, 'runEventReason', notice.reason)
      out.error = notice.error ? part('error', { error: notice.error }) : ''
      out.delay_seconds = notice.delay_seconds.toFixed(1)
      break
    case 'attempt_ended':
      out.status = word(i18n, 'runStatus', notice.status)
      out.error = notice.error ? part('error', { error: notice.error }) : ''
      break
    case 'step_done':
      out.rows = notice.how ? part('stepRows', { how: notice.how, rows_in: count(notice.rows_in), rows_out: count(notice.rows_out) }) : ''
      break
    case 'rule_checked':
      out.columns = notice.columns.length ? part('ruleColumns', { columns: notice.columns.join(', ') }) : ''
      out.outcome = ruleOutcome(i18n, notice)
      break
    case 'input_read':
    case 'output_copied':
    case 'output_written':
      out.rows = count(notice.rows)
      if (notice.code === 'output_written') out.bytes = count(notice.bytes)
      break
    case 'importing':
      out.config = notice.config ?? part('inferred')
      break
    case 'import_failed':
      out.error_code = word(i18n, 'runError', notice.error_code)
      break
    case 'unit_clash':
      out.plain = notice.plain ? part('unitPlain', { plain: notice.plain }) : ''
      break
    case 'thousands_separator':
    case 'decimal_comma':
      out.columns = listed(i18n, notice.columns.map((c) => part('example_of', { column: c.column, example: c.example })))
      break
  }
  return out
}

/** What checking a `validate` rule found, worded as app.core.run_notices.rule_outcome words it in English. */
function ruleOutcome(i18n: NamedTranslator, notice: Extract<LogNotice, { code: 'rule_checked' }>): string {
  const found = count(notice.found)
  if (notice.rule === 'row_count') return i18n.t('notices.parts.ruleRows', { found, min: text(notice.min), max: text(notice.max) })
  if (!notice.found) return i18n.t('notices.parts.rulePassed')
  return i18n.t(`notices.parts.${notice.rule === 'unique' ? 'ruleDuplicates' : 'ruleBroken'}`, { found })
}

/** A code of an enum group (../enums.ts) as its word, or as itself. */
function word(i18n: NamedTranslator, group: string, code: string): string {
  return i18n.te(`enums.${group}.${code}`) ? i18n.t(`enums.${group}.${code}`) : code
}

function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '?' : value.toLocaleString('en-US')
}

/** The notice in the page's locale; a code with no words here (a newer API's) reads as the API's own message. */
export function noticeText(i18n: NamedTranslator, notice: AnyNotice): string {
  const key = `notices.${notice.code}`
  if (notice.code === 'other' || !i18n.te(key)) return notice.message
  return i18n.t(key, params(i18n, notice))
}

/** The columns a notice is about (those it names as `column` or `columns`), for the preview to mark them. */
export function noticeColumns(notice: ImportNotice): string[] {
  const named: string[] = []
  const record = notice as Record<string, unknown>
  if (typeof record.column === 'string') named.push(record.column)
  if (Array.isArray(record.columns)) {
    for (const c of record.columns) {
      if (typeof c === 'string') named.push(c)
      else if (c && typeof (c as { column?: unknown }).column === 'string') named.push((c as { column: string }).column)
    }
  }
  return named
}
