/**
 * A column's numbers as a person reads them (its min and max, its cells in the Data tab): grouped the locale's way,
 * with the digits the data has. A decimal column imported at the default scale (9) is stored padded (12.500000000);
 * it reads 12.5, while a scale the person chose (columns.X.scale) is kept (12.50 at scale 2). Worked on the text, so
 * no digit of a 38-digit decimal or a wide integer is lost to a double.
 */
import { cellText } from '@/utils/format'

/** What a dataset version's import config says of its columns (keyed by source name; `name` renames). */
interface ColumnSpecs { columns?: Record<string, { name?: string | null; scale?: number | null } | undefined> | null }

/** The scale the import's config chose for the output column `name` (null: none chosen, the default applied). */
export function chosenScale(config: unknown, name: string): number | null {
  const columns = (config as ColumnSpecs | null)?.columns ?? {}
  for (const [source, spec] of Object.entries(columns)) {
    if ((spec?.name ?? source) === name && typeof spec?.scale === 'number') return spec.scale
  }
  return null
}

const PLAIN_NUMBER = /^([+-]?)(\d+)(?:\.(\d*))?$/
const NUMBER_TYPES = new Set(['integer', 'decimal', 'float'])

/** The locale's group and decimal separators. */
function separators(locale: string): { group: string; decimal: string } {
  const parts = new Intl.NumberFormat(locale).formatToParts(1234567.5)
  return { group: parts.find((p) => p.type === 'group')?.value ?? ',', decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.' }
}

/**
 * A min or max of a column of `type` as shown; text that is not a plain number (1e-7, inf, a date) is kept as is.
 * `grouped`: thousands grouped the locale's way (a bound is a magnitude; a cell may be an id, a year or a code).
 */
export function shownBound(
  value: string | null | undefined, type: string, locale: string, scale: number | null = null, grouped = true,
): string {
  if (value === null || value === undefined) return '—'
  if (!NUMBER_TYPES.has(type)) return value
  const match = PLAIN_NUMBER.exec(value)
  if (!match) return value
  const [, sign = '', whole = '', written = ''] = match
  let fraction = written
  if (type === 'decimal') fraction = scale === null ? written.replace(/0+$/, '') : written.padEnd(scale, '0')
  const { group, decimal } = separators(locale)
  const shownWhole = grouped ? whole.replace(/\B(?=(\d{3})+(?!\d))/g, group) : whole
  return `${sign}${shownWhole}${fraction ? decimal + fraction : ''}`
}

/**
 * One cell of a column of `type` as shown: a number with the digits the data has (shownBound: no padding zeros unless
 * the scale was chosen, the locale's decimal sign) but not grouped, as a sheet shows an id card number, a year or an
 * order number: whether the API sent it as a JSON number or, past what a double holds, as text; anything else as
 * cellText says.
 */
export function shownCell(value: unknown, type: string | undefined, locale: string, scale: number | null = null): string {
  if (type && (typeof value === 'number' || typeof value === 'string') && NUMBER_TYPES.has(type)) {
    return shownBound(String(value), type, locale, scale, false)
  }
  return cellText(value)
}
