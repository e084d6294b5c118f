/** The import configuration form's state, cleaned into what POST /preview and /imports take, and import outcomes read back. */
import type { ColumnSpec, ImportConfig } from './api'
import { noticeColumns, type ImportNotice } from '@/i18n/notices'

export const COLUMN_TYPES = ['string', 'integer', 'float', 'decimal', 'boolean', 'date', 'datetime', 'time', 'json'] as const
/** Types whose text cells may need a format (`2026年1月5日` reads with `%Y年%m月%d日`): the API takes one per column, or
 * several tried in order for a column written several ways (2026年1月5日, 2026/01/06, 20260109). */
export const TEMPORAL_TYPES: readonly string[] = ['date', 'datetime', 'time']
/** Formats offered for a temporal column (strptime, as the API reads them); any other may be typed. */
export const DATE_FORMATS: Record<string, string[]> = {
  date: ['%Y年%m月%d日', '%Y/%m/%d', '%Y-%m-%d', '%Y.%m.%d', '%Y%m%d', '%d/%m/%Y', '%m/%d/%Y'],
  datetime: ['%Y年%m月%d日 %H:%M:%S', '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y%m%d%H%M%S', '%d/%m/%Y %H:%M'],
  time: ['%H时%M分%S秒', '%H:%M', '%H%M%S'],
}

/** A column type as a word in the page's locale (datasets.types.*); a type this console does not know reads as itself. */
export function columnTypeWord(i18n: { t: (key: string) => string; te: (key: string) => boolean }, type: string | null | undefined): string {
  if (!type) return ''
  const key = `datasets.types.${type}`
  return i18n.te(key) ? i18n.t(key) : type
}

/** A finished import leaves the form ready for another try unless it made a version (then the dataset page is next). */
export function mayImportAgain(status: string | null): boolean {
  return status !== null && status !== 'SUCCEEDED'
}
export const ENCODINGS = ['utf-8', 'utf-8-sig', 'gb18030', 'gbk', 'big5', 'shift_jis', 'euc_kr', 'utf-16', 'utf-16-le', 'utf-16-be', 'latin-1', 'cp1252']

/** The form: every field optional; `''`/null mean "let the API infer it". */
export interface ConfigForm {
  sheet: string | number | null
  header_row: number | null
  /** Rows a workbook header spans (merged group names over column names): joined per column. */
  header_rows: number | null
  range: string
  skip_rows: number
  skip_footer: number
  encoding: string
  delimiter: string
  quote: string
  /** How amounts written as text read: `1,234.50` needs thousands `,` (workbooks and CSV alike). */
  thousands_separator: string
  decimal_separator: string
  null_values: string[]
  record_path: string
  limit: number | null
  on_error: 'strict' | 'lenient'
  columns: Record<string, { name: string; type: string; include: boolean; scale?: number; format?: string[] }>
}

export function emptyForm(): ConfigForm {
  return {
    sheet: null, header_row: null, header_rows: null, range: '', skip_rows: 0, skip_footer: 0, encoding: '', delimiter: '', quote: '',
    thousands_separator: '', decimal_separator: '', null_values: [], record_path: '', limit: null, on_error: 'strict', columns: {},
  }
}

/** Only what the user set: unset fields are left to the API's inference (and its suggestions). */
export function cleanConfig(form: ConfigForm): Partial<ImportConfig> {
  const config: Partial<ImportConfig> = { on_error: form.on_error }
  if (form.sheet !== null && form.sheet !== '') config.sheet = form.sheet
  if (form.header_row !== null) config.header_row = form.header_row
  if (form.header_rows !== null) config.header_rows = form.header_rows
  if (form.range.trim()) config.range = form.range.trim()
  if (form.skip_rows > 0) config.skip_rows = form.skip_rows
  if (form.skip_footer > 0) config.skip_footer = form.skip_footer
  if (form.encoding) config.encoding = form.encoding
  if (form.delimiter) config.delimiter = form.delimiter === '\\t' ? '\t' : form.delimiter
  if (form.quote) config.quote = form.quote
  if (form.thousands_separator) config.thousands_separator = form.thousands_separator
  if (form.decimal_separator) config.decimal_separator = form.decimal_separator
  if (form.null_values.length) config.null_values = [...form.null_values]
  if (form.record_path.trim()) config.record_path = form.record_path.trim()
  if (form.limit !== null && form.limit > 0) config.limit = form.limit
  const columns: Record<string, ColumnSpec> = {}
  for (const [source, c] of Object.entries(form.columns)) {
    const spec: ColumnSpec = { include: c.include }
    if (c.name && c.name !== source) spec.name = c.name
    if (c.type) spec.type = c.type as ColumnSpec['type']
    if (c.type === 'decimal' && typeof c.scale === 'number') spec.scale = c.scale
    const formats = (c.format ?? []).map((f) => f.trim()).filter(Boolean)
    if (TEMPORAL_TYPES.includes(c.type) && formats.length) spec.format = formats.length === 1 ? formats[0] : formats
    if (spec.name || spec.type || !c.include) columns[source] = spec
  }
  if (Object.keys(columns).length) config.columns = columns
  return config
}

/** Sets one field of the form from a suggestion of the API (`field` is an ImportConfig key). */
export function applySuggestion(form: ConfigForm, field: string, value: unknown): void {
  const target = form as unknown as Record<string, unknown>
  if (!(field in target)) return
  if (field === 'null_values') target[field] = Array.isArray(value) ? value.map(String) : []
  else if (field === 'columns') applyColumns(form, value)
  else if (typeof target[field] === 'string') target[field] = value === null || value === undefined ? '' : String(value)
  else target[field] = value
}

/** A `columns` suggestion (amounts typed decimal, dates with their formats): merged into the columns the form has, each
 * keeping its name. */
function applyColumns(form: ConfigForm, value: unknown): void {
  if (value === null || typeof value !== 'object') return
  for (const [source, raw] of Object.entries(value as Record<string, Record<string, unknown>>)) {
    const had = form.columns[source]
    form.columns[source] = {
      name: typeof raw.name === 'string' ? raw.name : (had?.name ?? source),
      type: typeof raw.type === 'string' ? raw.type : (had?.type ?? ''),
      include: typeof raw.include === 'boolean' ? raw.include : (had?.include ?? true),
      ...(typeof raw.scale === 'number' ? { scale: raw.scale } : {}),
      ...(formatList(raw.format).length ? { format: formatList(raw.format) } : {}),
    }
  }
}

/** A column's `format` as the API gives it (one string, or a list tried in order) as the form's list. */
export function formatList(value: unknown): string[] {
  if (typeof value === 'string') return value ? [value] : []
  return Array.isArray(value) ? value.filter((f): f is string => typeof f === 'string' && f !== '') : []
}

export interface Problem {
  row: number | null
  column: string | null
  message: string
  value?: string | null
}

/**
 * The problems of a failed strict import: the run's `progress.problems` when the worker stored them, else the one
 * the error message names ("N problem(s) found; first: MESSAGE (row R, column C)").
 */
export function importProblems(progress: Record<string, unknown> | null | undefined, message: string | null | undefined): Problem[] {
  const stored = progress?.problems
  if (Array.isArray(stored) && stored.length) {
    return stored.map((p) => {
      const o = (p ?? {}) as Record<string, unknown>
      return {
        row: typeof o.row === 'number' ? o.row : null,
        column: typeof o.column === 'string' ? o.column : null,
        message: typeof o.message === 'string' ? o.message : '',
        value: typeof o.value === 'string' ? o.value : null,
      }
    })
  }
  if (!message) return []
  const first = /first: (.*?)(?: \((.*)\))?$/.exec(message)
  if (!first) return [{ row: null, column: null, message }]
  const where = first[2] ?? ''
  const row = /row (\d+)/.exec(where)
  const column = /column (.+)$/.exec(where)
  return [{ row: row ? Number(row[1]) : null, column: column?.[1] ?? null, message: first[1] ?? message }]
}

/**
 * The preview's notices placed where they apply, worded by `word`: those about a column (their `column` or
 * `columns` parameter) go to that column's header, the rest above the table. A notice with no code (`other`) is
 * placed by its text, as placeWarnings does.
 */
export function placeNotices(
  notices: ImportNotice[],
  columns: string[],
  word: (notice: ImportNotice) => string,
): { byColumn: Record<string, string[]>; general: string[] } {
  const byColumn: Record<string, string[]> = {}
  const general: string[] = []
  for (const notice of notices) {
    if (notice.code === 'other') {
      const placed = placeWarnings([notice.message], columns)
      for (const [c, said] of Object.entries(placed.byColumn)) (byColumn[c] ??= []).push(...said)
      general.push(...placed.general)
      continue
    }
    const named = noticeColumns(notice).filter((c) => columns.includes(c))
    for (const c of named) (byColumn[c] ??= []).push(word(notice))
    if (!named.length) general.push(word(notice))
  }
  return { byColumn, general }
}

/**
 * The preview's warnings placed where they apply: those naming a column (`column X`, `'X'`, `"X"`) go to that
 * column's header, the rest (`general`) above the table.
 */
export function placeWarnings(warnings: string[], columns: string[]): { byColumn: Record<string, string[]>; general: string[] } {
  const byColumn: Record<string, string[]> = {}
  const general: string[] = []
  for (const warning of warnings) {
    const named = columns.filter((c) =>
      warning.includes(`'${c}'`) || warning.includes(`"${c}"`) || new RegExp(`column ${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[:,;)\\s]|$)`).test(warning),
    )
    for (const c of named) (byColumn[c] ??= []).push(warning)
    if (!named.length) general.push(warning)
  }
  return { byColumn, general }
}
