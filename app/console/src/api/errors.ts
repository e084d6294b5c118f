/** API errors are application/problem+json with a stable `code`; this turns them into one class. */
import { i18n } from '@/i18n'

export interface FieldError {
  field: string
  message: string
}

/** The schema checker's words for a name outside the API's name rule, e.g. Expected `str` matching regex '^(?:[A-Za-z0-9][A-Za-z0-9_.\-]*)$(?!\n)'. */
const NAME_RULE = /^Expected `str` matching regex '\^\(\?:\[A-Za-z0-9\]\[A-Za-z0-9([^\]]*)\]\*\)\$/

/** The cron parser's field names (app/scheduling/cron.py), as errors.cronFields.* keys. */
const CRON_FIELDS: Record<string, string> = {
  second: 'second', minute: 'minute', hour: 'hour', 'day of month': 'dayOfMonth', month: 'month', 'day of week': 'dayOfWeek',
}
const FIELD = `(?<field>${Object.keys(CRON_FIELDS).join('|')})`
/** The cron parser's commonest refusals (app/scheduling/cron.py raises them in English), each worded in errors.cron.*. */
const CRON_RULES: [RegExp, string][] = [
  [/^expected 5 fields \(minute hour day month weekday\) or 6 with seconds, got (?<count>\d+)$/, 'fieldCount'],
  [new RegExp(`^${FIELD}: (?<value>\\d+) is outside (?<low>\\d+)-(?<high>\\d+)$`), 'outside'],
  [new RegExp(`^${FIELD} ['"](?<value>.*)['"] must be a number from (?<low>\\d+) to (?<high>\\d+)$`), 'outside'],
  [new RegExp(`^${FIELD}: ['"](?<value>.*)['"] is not a number or a known name$`), 'unknownName'],
  [new RegExp(`^${FIELD}: range ['"](?<value>.*)['"] runs backwards$`), 'backwards'],
  [new RegExp(`^${FIELD}: step must be at least 1$`), 'stepZero'],
  [new RegExp(`^${FIELD}: an empty item in the list ['"](?<value>.*)['"]$`), 'emptyItem'],
]

/**
 * A field error as a person reads it: a name refused by the API's name rule (a regular expression, in English) says
 * which characters a name may hold, and a cron expression's usual faults (a value out of range, a wrong number of
 * fields) say what is wrong, in the page's language; any other message is the API's own.
 */
export function readableMessage(message: string, t: (key: string, named: Record<string, unknown>) => string): string {
  const rule = NAME_RULE.exec(message)
  if (rule) return t('errors.nameRule', { others: [...(rule[1] ?? '').replace(/\\/g, '')].join(' ') })
  for (const [pattern, key] of CRON_RULES) {
    const groups = pattern.exec(message)?.groups
    if (!groups) continue
    const field = groups.field ? t(`errors.cronFields.${CRON_FIELDS[groups.field] ?? ''}`, {}) : ''
    return t(`errors.cron.${key}`, { ...groups, field })
  }
  return message
}

/** The page's words for a problem `code` (errors.codes.*), or null for a code without any: then the API's text shows. */
export function codeWords(code: string): string | null {
  const key = `errors.codes.${code}`
  return i18n.global.te(key) ? i18n.global.t(key) : null
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly errors: FieldError[]

  constructor(status: number, body: unknown) {
    const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    const code = typeof problem.code === 'string' ? problem.code : `http_${status}`
    // "the request body is not valid" (English, from the API): in the page's language, the fields say what is wrong.
    // A code with words of its own (a name already taken, a user that does not exist) says them, detail and field alike.
    const word = codeWords(code)
    const detail =
      code === 'validation_failed'
        ? i18n.global.t('errors.invalidInput')
        : (word ?? (typeof problem.detail === 'string' ? problem.detail : `HTTP ${status}`))
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.detail = detail
    this.code = code
    this.errors = Array.isArray(problem.errors)
      ? problem.errors
          .filter((e): e is FieldError => typeof e === 'object' && e !== null && typeof (e as FieldError).field === 'string')
          .map((e) => ({ field: e.field, message: word ?? readableMessage(String(e.message), (key, named) => i18n.global.t(key, named)) }))
      : []
  }

  /** The message of the first error on `field`, to show next to that input. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message
  }
}

/** openapi-fetch's result, or an ApiError thrown when the API answered with an error. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, result.error)
  }
  return result.data as T
}
