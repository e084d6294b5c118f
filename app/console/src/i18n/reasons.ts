/**
 * Why a fire time became what it did, worded in the page's locale from the occurrence's `reason_code`.
 * The words live in ./areas/deployments.ts under `reasons`, one per code of REASON_CODES (the compiler checks both
 * locales); `unspecified`, or a code this console has no words for (a newer API's), reads as the API's English
 * `reason`, which stays the detail (numbers, a database error) shown on hover.
 */
import type { components } from '@/api/schema'
import type { NamedTranslator } from './notices'

export type ReasonCode = components['schemas']['ReasonCode']
type Occurrence = Pick<components['schemas']['OccurrenceOut'], 'reason' | 'reason_code' | 'fire_times'>

/**
 * Every code of app/scheduling/reasons.py's ReasonCode; tests/unit/test_console_codes.py checks this list against
 * the enum, and the type below checks it against the API's.
 */
export const REASON_CODES = [
  'ran', 'buffered', 'dst_gap', 'misfire_grace', 'coalesced', 'max_catch_up', 'overlap_limit', 'superseded', 'paused',
  'paused_unsent', 'schedule_changed', 'plan_failed', 'timeout_too_long', 'unspecified',
] as const satisfies readonly ReasonCode[]

/** Both ways: every code of the schema is in the list (a new API code fails the type-check until it is worded). */
type Missing = Exclude<ReasonCode, (typeof REASON_CODES)[number]>
export const NOTHING_MISSING: Missing extends never ? true : Missing = true

/** One locale's words: a sentence per code (`{n}`: how many fire times the occurrence stands for). */
export type ReasonWords = Record<ReasonCode, string>

/** The occurrence's reason in the page's locale: its code's sentence, else the API's English `reason`. */
export function reasonText(i18n: NamedTranslator, occurrence: Occurrence): string {
  const key = `deployments.reasons.${occurrence.reason_code}`
  if ((occurrence.reason_code === 'unspecified' && occurrence.reason) || !i18n.te(key)) return occurrence.reason
  return i18n.t(key, { n: occurrence.fire_times })
}
