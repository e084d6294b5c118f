/** Pure rules of the Webhooks pages: the event types as checkboxes, the form ↔ API bodies, states for tags. */
import type { Attempt, EventType, NewWebhook, Webhook, WebhookPatch } from './api'
import type { Translator } from '@/i18n/enums'
import { formatSeconds } from '@/utils/format'

// A Record over the API's enum: adding an event type to the server (and `npm run api:types`) fails type checking
// here until the console knows it, so the checkboxes always offer exactly what the API accepts.
const KNOWN: Record<EventType, true> = {
  'run.succeeded': true,
  'run.failed': true,
  'run.timed_out': true,
  'run.cancelled': true,
  'dataset.ingested': true,
  'dataset.import.failed': true,
  'deployment.misfired': true,
  'deployment.run_skipped': true,
}
export const EVENT_TYPES = Object.keys(KNOWN) as EventType[]

/** The event types grouped by what they are about (`run`, `dataset`, `deployment`), in the API's order. */
export function eventGroups(types: readonly EventType[] = EVENT_TYPES): { group: string; types: EventType[] }[] {
  const groups: { group: string; types: EventType[] }[] = []
  for (const type of types) {
    const group = type.slice(0, type.indexOf('.'))
    const found = groups.find((g) => g.group === group)
    if (found) found.types.push(type)
    else groups.push({ group, types: [type] })
  }
  return groups
}

/** The i18n key of an event type's label (`webhooks.events.run_timed_out`); `webhook.test` has one too. */
export function eventKey(type: string): string {
  return `webhooks.events.${type.replaceAll('.', '_')}`
}

/** An event type's label; a type this console has no word for (a newer API) reads as itself, not as a message key. */
export function eventLabel(i18n: Translator, type: string): string {
  const key = eventKey(type)
  return i18n.te(key) ? i18n.t(key) : type
}

export interface WebhookForm {
  url: string
  description: string
  event_types: EventType[]
  /** '' for no filter. */
  pipeline_id: string
  deployment_id: string
  enabled: boolean
}

export function emptyForm(): WebhookForm {
  return { url: '', description: '', event_types: ['run.succeeded', 'run.failed'], pipeline_id: '', deployment_id: '', enabled: true }
}

export function formOf(hook: Webhook): WebhookForm {
  return {
    url: hook.url,
    description: hook.description,
    event_types: EVENT_TYPES.filter((t) => hook.event_types.includes(t)),
    pipeline_id: hook.pipeline_id ?? '',
    deployment_id: hook.deployment_id ?? '',
    enabled: hook.enabled,
  }
}

/** The create body: the URL trimmed, empty filters left out; the server checks the rest (422 at the field). */
export function createBody(form: WebhookForm, namespace: string): NewWebhook {
  return {
    url: form.url.trim(),
    description: form.description.trim(),
    event_types: [...form.event_types],
    namespace,
    pipeline_id: form.pipeline_id || null,
    deployment_id: form.deployment_id || null,
    enabled: form.enabled,
  }
}

/** The PATCH body: only what the form changed (a cleared filter is `null`, which removes it). */
export function patchBody(before: Webhook, form: WebhookForm): WebhookPatch {
  const after = createBody(form, '')
  const patch: WebhookPatch = {}
  if (after.url !== before.url) patch.url = after.url
  if (after.description !== before.description) patch.description = after.description
  const sameTypes = after.event_types.length === before.event_types.length && after.event_types.every((t) => before.event_types.includes(t))
  if (!sameTypes) patch.event_types = after.event_types
  if ((after.pipeline_id ?? null) !== (before.pipeline_id ?? null)) patch.pipeline_id = after.pipeline_id
  if ((after.deployment_id ?? null) !== (before.deployment_id ?? null)) patch.deployment_id = after.deployment_id
  if (after.enabled !== before.enabled) patch.enabled = after.enabled
  return patch
}

export type TagType = 'success' | 'danger' | 'warning' | 'info' | 'primary'

/** A subscription's state: disabled wins; enabled but every attempt failing since some time is `failing`. */
export function subscriptionState(hook: Pick<Webhook, 'enabled' | 'failing_since'>): { state: 'enabled' | 'disabled' | 'failing'; tag: TagType } {
  if (!hook.enabled) return { state: 'disabled', tag: 'info' }
  if (hook.failing_since) return { state: 'failing', tag: 'warning' }
  return { state: 'enabled', tag: 'success' }
}

export const DELIVERY_TAGS: Record<string, TagType> = { succeeded: 'success', failed: 'danger', pending: 'warning' }

/** What an attempt got, for the log: the HTTP status (`200`), or the error when there was no answer. */
export function attemptOutcome(attempt: Pick<Attempt, 'status_code' | 'error'>): { text: string; ok: boolean } {
  const ok = attempt.status_code !== null && attempt.status_code >= 200 && attempt.status_code < 300
  if (attempt.status_code !== null) {
    return { text: attempt.error ? `${attempt.status_code} · ${attempt.error}` : String(attempt.status_code), ok }
  }
  return { text: attempt.error ?? '—', ok: false }
}

/** Latency in milliseconds in the page's language, as every duration in the console reads ("12毫秒", "1.4秒"; "12 ms"). */
export function formatLatency(ms: number, locale: string): string {
  return formatSeconds(ms / 1000, locale)
}
