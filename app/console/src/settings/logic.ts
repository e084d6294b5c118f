/** Pure rules of the Settings pages: the password checklist, audit filters and export address, change summaries. */
import type { AuditEntry, AuditQuery, PasswordRules } from './api'
import { shortId } from '@/utils/format'

export type RuleKey = 'minLength' | 'maxLength' | 'notUsername' | 'notCommon' | 'strength'
/** One line of the password checklist: met (true), broken (false) or judged by the server on submit (null). */
export interface RuleCheck {
  key: RuleKey
  ok: boolean | null
  params: Record<string, number>
}

/** The password policy as a checklist for `password`; commonness and guessability are the server's to judge. */
export function passwordChecklist(rules: PasswordRules, password: string, username: string): RuleCheck[] {
  const checks: RuleCheck[] = [
    { key: 'minLength', ok: password.length >= rules.min_length, params: { n: rules.min_length } },
    { key: 'maxLength', ok: password.length <= rules.max_length, params: { n: rules.max_length } },
  ]
  if (rules.not_username) {
    checks.push({ key: 'notUsername', ok: !username || !password.toLowerCase().includes(username.toLowerCase()), params: {} })
  }
  if (rules.not_common) checks.push({ key: 'notCommon', ok: null, params: {} })
  checks.push({ key: 'strength', ok: null, params: { score: rules.min_score } })
  return checks
}

/** Whether the checklist lets the form submit: nothing known to be broken. */
export function passwordAcceptable(checks: RuleCheck[]): boolean {
  return checks.every((c) => c.ok !== false)
}

export interface AuditFilters {
  user_id: string
  action: string
  resource_type: string
  resource_id: string
  namespace_id: string
  outcome: '' | 'success' | 'failure' | 'denied'
  /** [from, to] as Dates, or null for no time bound. */
  range: [Date, Date] | null
}

/** The resource types the API writes to the audit log (`audit.record(resource_type=...)`), offered by the type filter. */
export const AUDIT_RESOURCE_TYPES = ['pipeline', 'deployment', 'dataset', 'run', 'webhook', 'user', 'namespace', 'token', 'invite', 'upload'] as const

export function emptyAuditFilters(): AuditFilters {
  return { user_id: '', action: '', resource_type: '', resource_id: '', namespace_id: '', outcome: '', range: null }
}

/** The audit list's query parameters: only the filters that are set, trimmed; times as ISO 8601. */
export function auditQuery(filters: AuditFilters): AuditQuery {
  const query: Record<string, string> = {}
  for (const key of ['user_id', 'action', 'resource_type', 'resource_id', 'namespace_id', 'outcome'] as const) {
    const value = filters[key].trim()
    if (value) query[key] = value
  }
  if (filters.range) {
    query.since = filters.range[0].toISOString()
    query.until = filters.range[1].toISOString()
  }
  return query as AuditQuery
}

/** The export's address for these filters, format and row limit (CSV with a BOM: Excel then reads Chinese right). */
export function auditExportPath(filters: AuditFilters, format: 'csv' | 'ndjson', limit: number | null): string {
  const params = new URLSearchParams({ ...(auditQuery(filters) as Record<string, string>), format })
  if (limit !== null) params.set('limit', String(limit))
  if (format === 'csv') params.set('bom', 'true')
  return `/api/v1/audit/export?${params.toString()}`
}

export interface Change {
  field: string
  before: string
  after: string
}

function show(value: unknown): string {
  if (value === undefined) return ''
  if (value === null) return '—'
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** The fields an entry's `details.before` / `details.after` differ in, sorted; unchanged fields are left out. */
export function changeSummary(details: Record<string, unknown> | null | undefined): Change[] {
  const asObject = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {})
  const before = asObject(details?.before)
  const after = asObject(details?.after)
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
  return fields
    .filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]))
    .map((field) => ({ field, before: show(before[field]), after: show(after[field]) }))
}

/** An API token's state at `now`: revoked wins over expired. */
export function tokenState(token: { revoked_at?: string | null; expires_at?: string | null }, now: Date): 'active' | 'revoked' | 'expired' {
  if (token.revoked_at) return 'revoked'
  if (token.expires_at && new Date(token.expires_at).getTime() <= now.getTime()) return 'expired'
  return 'active'
}

/** Console pages of the audit log's resource types, where one exists (a user or a token has none of its own). */
const RESOURCE_PAGES: Record<string, string> = {
  run: '/runs/', dataset: '/datasets/', deployment: '/deployments/', pipeline: '/pipelines/', webhook: '/settings/webhooks/',
}

/** An audit entry's resource as a person reads it: its type, its name when the entry's details carry one (else a short id), its page. */
export interface AuditResource {
  type: string | null
  name: string | null
  to: string | null
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value ? value : null
}

export function auditResource(entry: Pick<AuditEntry, 'resource_type' | 'resource_id' | 'details'>): AuditResource {
  const details = (entry.details ?? {}) as Record<string, unknown>
  const after = (typeof details.after === 'object' && details.after !== null ? details.after : {}) as Record<string, unknown>
  const named = text(after.name) ?? text(after.username) ?? text(details.name) ?? text(details.username)
  const id = entry.resource_id
  const page = entry.resource_type ? RESOURCE_PAGES[entry.resource_type] : undefined
  return { type: entry.resource_type, name: named ?? (id ? shortId(id) : null), to: page && id ? `${page}${id}` : null }
}
