/** Numbers, durations and times for people, with the native Intl API in the current language. */

export function formatNumber(value: number | null | undefined, locale: string, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—'
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value)
}

export function formatPercent(ratio: number | null | undefined, locale: string): string {
  if (ratio === null || ratio === undefined) return '—'
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(ratio)
}

type TimeUnit = 'millisecond' | 'second' | 'minute' | 'hour'
/** English keeps the symbols it always showed ("12.3 s"); Intl's short names there are "sec" and "hr". */
const SYMBOLS: Record<TimeUnit, string> = { millisecond: 'ms', second: 's', minute: 'min', hour: 'h' }

function amount(value: number, unit: TimeUnit, locale: string): string {
  if (locale.startsWith('en')) return `${formatNumber(value, locale, 1)} ${SYMBOLS[unit]}`
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(value)
}

/**
 * Seconds as "850 ms", "12.3 s", "4 min 5 s" or "2 h 3 min" in English, in the page's own words elsewhere
 * ("4分钟5秒" in zh-CN, where the run log already says "用时 9 毫秒").
 */
export function formatSeconds(seconds: number | null | undefined, locale: string): string {
  if (seconds === null || seconds === undefined) return '—'
  const join = (...parts: string[]) => parts.join(locale.startsWith('zh') ? '' : ' ')
  if (seconds < 1) return amount(Math.round(seconds * 1000), 'millisecond', locale)
  if (seconds < 60) return amount(Math.round(seconds * 10) / 10, 'second', locale)
  if (seconds < 3600) return join(amount(Math.floor(seconds / 60), 'minute', locale), amount(Math.round(seconds % 60), 'second', locale))
  return join(amount(Math.floor(seconds / 3600), 'hour', locale), amount(Math.round((seconds % 3600) / 60), 'minute', locale))
}

export function formatBytes(bytes: number | null | undefined, locale: string): string {
  if (bytes === null || bytes === undefined) return '—'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return `${formatNumber(value, locale, unit === 0 ? 0 : 1)} ${units[unit]}`
}

export function formatTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return '—'
  return new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso))
}

/** A run's duration: finished (or now) minus started. */
export function runSeconds(started: string | null, finished: string | null, now: number): number | null {
  if (!started) return null
  return ((finished ? Date.parse(finished) : now) - Date.parse(started)) / 1000
}

/**
 * A run's whole duration, from its first attempt's start to its end (or now), and its last attempt's alone when that
 * differs (null when it does not). A retried run's started_at is its last attempt's start, so its first start is taken
 * from its first RUNNING event (events oldest first): a 3-attempt run read as its last attempt's "12 ms".
 */
export function runDurations(
  run: { started_at: string | null; finished_at: string | null },
  events: readonly { to_status: string; created_at: string }[],
  now: number,
): { whole: number | null; attempt: number | null } {
  const first = events.find((event) => event.to_status === 'RUNNING')?.created_at
  const attempt = runSeconds(run.started_at, run.finished_at, now)
  if (!first || !run.started_at || Date.parse(first) >= Date.parse(run.started_at)) return { whole: attempt, attempt: null }
  return { whole: runSeconds(first, run.finished_at, now), attempt }
}

/**
 * An id short enough to read: its last 8 hex digits. Ids are UUIDv7, whose first 8 digits are the top of a millisecond
 * clock and stay the same for about a minute, so runs made together would all show the same prefix.
 */
export function shortId(id: string): string {
  return id.replace(/-/g, '').slice(-8)
}

/** A table cell's text: null as ∅ (an empty string stays blank, so the two differ), an object as its JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '∅'
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}
