/**
 * A column's min and max as a person reads them: numbers grouped the locale's way, with the digits the data has. A
 * decimal column imported at the default scale (9) is stored padded (12.500000000); it reads 12.5, while a scale the
 * person chose (columns.X.scale) is kept (12.50 at scale 2). Worked on the text, so no digit of a 38-digit decimal or
 * a wide integer is lost to a double.
 */

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

/** The locale's group and decimal separators. */
function separators(locale: string): { group: string; decimal: string } {
  const parts = new Intl.NumberFormat(locale).formatToParts(1234567.5)
  return { group: parts.find((p) => p.type === 'group')?.value ?? ',', decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.' }
}

/** A min or max of a column of `type` as shown; text that is not a plain number (1e-7, inf, a date) is kept as is. */
export function shownBound(value: string | null | undefined, type: string, locale: string, scale: number | null = null): string {
  if (value === null || value === undefined) return '—'
  if (type !== 'integer' && type !== 'decimal' && type !== 'float') return value
  const match = PLAIN_NUMBER.exec(value)
  if (!match) return value
  const [, sign = '', whole = '', written = ''] = match
  let fraction = written
  if (type === 'decimal') fraction = scale === null ? written.replace(/0+$/, '') : written.padEnd(scale, '0')
  const { group, decimal } = separators(locale)
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group)
  return `${sign}${grouped}${fraction ? decimal + fraction : ''}`
}
