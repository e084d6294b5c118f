/**
 * The deployment form's pure logic: schedules in words (cronstrue for cron, in zh-CN or English),
 * the form's state to and from the API body, and the colours the occurrence outcomes are drawn in.
 */
import cronstrue from 'cronstrue'
import 'cronstrue/locales/zh_CN' // registers the zh_CN locale only (the all-locales build is 200 KB)
import type { Deployment, DeploymentBody, Outcome } from './api'

export type Kind = 'cron' | 'interval' | 'once'
export type Unit = 's' | 'min' | 'h' | 'd'
export const UNIT_SECONDS: Record<Unit, number> = { s: 1, min: 60, h: 3600, d: 86400 }
export const MISFIRE = ['skip', 'run_once', 'catch_up'] as const
export const OVERLAP = ['skip', 'buffer_one', 'buffer_all', 'cancel_running', 'allow'] as const
export const DST_GAP = ['shift', 'skip'] as const
export const DST_FOLD = ['first', 'last', 'both'] as const
export const OUTCOMES: Outcome[] = [
  'run', 'misfire_skipped', 'coalesced', 'overlap_skipped', 'paused', 'dst_skipped', 'buffered', 'plan_failed',
] as Outcome[]

/** The timeline's colour of each outcome: green ran, grey paused, orange/red for the reasons there was no run. */
export const OUTCOME_COLORS: Record<string, string> = {
  run: '#67c23a',
  buffered: '#409eff',
  coalesced: '#b88230',
  misfire_skipped: '#e6a23c',
  overlap_skipped: '#f56c6c',
  paused: '#909399',
  dst_skipped: '#9b59b6',
  plan_failed: '#c45656',
}

export interface DeploymentForm {
  name: string
  pipeline: string
  description: string
  kind: Kind
  cron: string
  timezone: string
  every: number
  unit: Unit
  /** An interval's anchor, kept when an existing deployment is edited (a new one is anchored when created). */
  anchor: string | null
  at: string | null
  start_at: string | null
  end_at: string | null
  misfire_policy: (typeof MISFIRE)[number]
  misfire_grace_seconds: number
  max_catch_up: number
  max_concurrent_runs: number
  overlap_policy: (typeof OVERLAP)[number]
  dst_nonexistent: (typeof DST_GAP)[number]
  dst_ambiguous: (typeof DST_FOLD)[number]
  max_retries: number | null
  retry_backoff_seconds: number | null
  retry_backoff_max_seconds: number | null
  timeout_seconds: number | null
}

export function emptyForm(timezone = 'UTC'): DeploymentForm {
  return {
    name: '', pipeline: '', description: '', kind: 'cron', cron: '0 2 * * *', timezone, every: 1, unit: 'h', anchor: null, at: null,
    start_at: null, end_at: null, misfire_policy: 'run_once', misfire_grace_seconds: 60, max_catch_up: 10,
    max_concurrent_runs: 1, overlap_policy: 'skip', dst_nonexistent: 'shift', dst_ambiguous: 'first',
    max_retries: null, retry_backoff_seconds: null, retry_backoff_max_seconds: null, timeout_seconds: null,
  }
}

/** The largest unit that divides the interval exactly, so 7200 s reads "2 h" and 90 s stays "90 s". */
/**
 * The form's required fields left empty. The API refuses a body at its first wrong field, so a save with a bad name
 * and no pipeline was told only of the name: the form flags these itself, beside whatever the API says.
 */
export function missingFields(form: Pick<DeploymentForm, 'name' | 'pipeline'>): ('name' | 'pipeline')[] {
  return (['name', 'pipeline'] as const).filter((field) => !form[field].trim())
}

export function intervalParts(seconds: number): { every: number; unit: Unit } {
  for (const unit of ['d', 'h', 'min'] as Unit[]) {
    if (seconds >= UNIT_SECONDS[unit] && seconds % UNIT_SECONDS[unit] === 0) return { every: seconds / UNIT_SECONDS[unit], unit }
  }
  return { every: seconds, unit: 's' }
}

/** The API body of create (and, less name/pipeline/namespace, of change). */
export function toBody(form: DeploymentForm, params: Record<string, unknown>, namespace: string | null): DeploymentBody {
  const schedule: DeploymentBody['schedule'] =
    form.kind === 'cron'
      ? { kind: 'cron', cron: form.cron.trim(), timezone: form.timezone }
      : form.kind === 'interval'
        ? { kind: 'interval', seconds: form.every * UNIT_SECONDS[form.unit], ...(form.anchor ? { anchor: form.anchor } : {}) }
        : { kind: 'once', at: form.at ?? '' }
  return {
    name: form.name.trim(),
    pipeline: form.pipeline,
    namespace: namespace ?? 'default',
    description: form.description,
    schedule,
    params,
    start_at: form.start_at || null,
    end_at: form.end_at || null,
    misfire_policy: form.misfire_policy,
    misfire_grace_seconds: form.misfire_grace_seconds,
    max_catch_up: form.max_catch_up,
    max_concurrent_runs: form.max_concurrent_runs,
    overlap_policy: form.overlap_policy,
    dst_policy: { nonexistent: form.dst_nonexistent, ambiguous: form.dst_ambiguous },
    max_retries: form.max_retries,
    retry_backoff_seconds: form.retry_backoff_seconds,
    retry_backoff_max_seconds: form.retry_backoff_max_seconds,
    timeout_seconds: form.timeout_seconds,
    enabled: true,
  }
}

/** A stored deployment as the form that edits it. */
export function fromDeployment(d: Deployment): DeploymentForm {
  const s = d.schedule as { kind: Kind; cron?: string; timezone?: string; seconds?: number; anchor?: string; at?: string }
  const parts = intervalParts(s.seconds ?? 3600)
  return {
    ...emptyForm(),
    name: d.name,
    pipeline: d.pipeline_name ?? d.pipeline_id,
    description: d.description,
    kind: s.kind,
    cron: s.cron ?? '0 2 * * *',
    timezone: s.timezone ?? 'UTC',
    every: parts.every,
    unit: parts.unit,
    anchor: s.anchor ?? null,
    at: s.at ?? null,
    start_at: d.start_at,
    end_at: d.end_at,
    misfire_policy: d.misfire_policy,
    misfire_grace_seconds: d.misfire_grace_seconds,
    max_catch_up: d.max_catch_up,
    max_concurrent_runs: d.max_concurrent_runs,
    overlap_policy: d.overlap_policy,
    dst_nonexistent: d.dst_policy.nonexistent,
    dst_ambiguous: d.dst_policy.ambiguous,
    max_retries: d.max_retries,
    retry_backoff_seconds: d.retry_backoff_seconds,
    retry_backoff_max_seconds: d.retry_backoff_max_seconds,
    timeout_seconds: d.timeout_seconds,
  }
}

const FIXED = /^\d+$/

const isChinese = (locale: string) => locale.startsWith('zh')

/**
 * cronstrue's zh_CN words with Chinese punctuation: it joins clauses and list items with the English ", " whatever
 * the locale ("在02:30, 每天"), so they take "，" ("在02:30，每天"), a comma before the last item's "和" goes, and the
 * double spaces of its templates ("1 号 和  15 号") are made single.
 */
export function chinesePunctuation(words: string): string {
  return words.replace(/\s*,\s*和\s*/g, '和').replace(/\s*,\s*/g, '，').replace(/ {2,}/g, ' ').trim()
}

/** A cron expression in words, or null when cronstrue cannot read it (the API's 422 then says why). */
export function cronInWords(cron: string, locale: string): string | null {
  const fields = cron.trim().split(/\s+/)
  if (fields.length !== 5) return null
  // "At 02:30, every day" reads better than "At 02:30" for a daily time; verbose is noise for "every 5 minutes".
  const daily = FIXED.test(fields[0] ?? '') && FIXED.test(fields[1] ?? '') && fields.slice(2).every((f) => f === '*')
  try {
    const words = cronstrue.toString(cron, {
      locale: isChinese(locale) ? 'zh_CN' : 'en',
      use24HourTimeFormat: true,
      verbose: daily,
      throwExceptionOnParseError: true,
    })
    return isChinese(locale) ? chinesePunctuation(words) : words
  } catch {
    return null
  }
}

type Translate = (key: string, values?: Record<string, unknown>) => string

/** A schedule in words: "At 02:30, every day, Europe/Berlin" ("在02:30，每天，Europe/Berlin"), "every 2 h", "once at …". */
export function scheduleInWords(schedule: Record<string, unknown>, locale: string, t: Translate): string {
  if (schedule.kind === 'cron') {
    const cron = String(schedule.cron ?? '')
    return `${cronInWords(cron, locale) ?? cron}${isChinese(locale) ? '，' : ', '}${String(schedule.timezone ?? 'UTC')}`
  }
  if (schedule.kind === 'interval') {
    const { every, unit } = intervalParts(Number(schedule.seconds))
    return t('deployments.everyInterval', { n: every, unit: t(`deployments.units.${unit}`) })
  }
  return t('deployments.onceAt', { time: formatIn(String(schedule.at), 'UTC', locale) })
}

/** An instant shown in a given time zone (fire times read best in the schedule's own zone). */
export function formatIn(iso: string | null | undefined, timeZone: string, locale: string): string {
  if (!iso) return '—'
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium', timeZone, hour12: false }).format(new Date(iso))
}

/** Every IANA zone the browser knows, UTC first. */
export function timeZones(): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []
  return ['UTC', ...all.filter((z) => z !== 'UTC')]
}
