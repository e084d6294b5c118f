import { describe, expect, it } from 'vitest'
import { auditExportPath, auditQuery, auditResource, changeSummary, emptyAuditFilters, passwordAcceptable, passwordChecklist, tokenState } from '@/settings/logic'

const RULES = { min_length: 10, max_length: 1024, not_common: true, not_username: true, min_score: 3 }

describe('password checklist', () => {
  it('marks a short password and one holding the username as broken, and leaves guessability to the server', () => {
    const checks = passwordChecklist(RULES, 'xAlice1', 'alice')
    expect(checks.map((c) => [c.key, c.ok])).toEqual([
      ['minLength', false],
      ['maxLength', true],
      ['notUsername', false],
      ['notCommon', null],
      ['strength', null],
    ])
    expect(passwordAcceptable(checks)).toBe(false)
    expect(checks[0]?.params).toEqual({ n: 10 })
  })

  it('accepts a long password without the username, and skips the username rule when the policy has none', () => {
    expect(passwordAcceptable(passwordChecklist(RULES, 'quartz lantern orbit', 'alice'))).toBe(true)
    expect(passwordChecklist({ ...RULES, not_username: false }, 'alice-is-long-enough', 'alice').some((c) => c.key === 'notUsername')).toBe(false)
  })
})

describe('audit filters', () => {
  it('sends only the filters that are set, trimmed, with the time range in ISO 8601', () => {
    const filters = { ...emptyAuditFilters(), action: ' tokens.revoke ', outcome: 'denied' as const, range: [new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z')] as [Date, Date] }
    expect(auditQuery(filters)).toEqual({ action: 'tokens.revoke', outcome: 'denied', since: '2026-01-01T00:00:00.000Z', until: '2026-01-02T00:00:00.000Z' })
    expect(auditQuery(emptyAuditFilters())).toEqual({})
  })

  it('builds the export address with the format and the limit', () => {
    const path = auditExportPath({ ...emptyAuditFilters(), action: 'a b' }, 'csv', 500)
    expect(path).toBe('/api/v1/audit/export?action=a+b&format=csv&limit=500&bom=true')
    expect(auditExportPath(emptyAuditFilters(), 'ndjson', null)).toBe('/api/v1/audit/export?format=ndjson')
  })
})

describe('change summary', () => {
  it('lists only the fields that changed, with a dash for none', () => {
    expect(changeSummary({ before: { role: null, name: 'x' }, after: { role: 'operator', name: 'x' } })).toEqual([{ field: 'role', before: '—', after: 'operator' }])
    expect(changeSummary({ before: { is_disabled: false }, after: { is_disabled: true } })).toEqual([{ field: 'is_disabled', before: 'false', after: 'true' }])
    expect(changeSummary({ email: 'a@b' })).toEqual([])
    expect(changeSummary(null)).toEqual([])
  })
})

describe('token state', () => {
  const now = new Date('2026-06-01T00:00:00Z')
  it('is revoked before expired, and active otherwise', () => {
    expect(tokenState({ revoked_at: '2026-05-01T00:00:00Z', expires_at: '2026-05-02T00:00:00Z' }, now)).toBe('revoked')
    expect(tokenState({ revoked_at: null, expires_at: '2026-05-02T00:00:00Z' }, now)).toBe('expired')
    expect(tokenState({ revoked_at: null, expires_at: null }, now)).toBe('active')
  })
})

describe('audit resource', () => {
  it('names a resource from the entry, links it to its page, and falls back to a short id', () => {
    const id = '01a2434d-6ca0-7ce1-8b18-9edd8d7fb271'
    expect(auditResource({ resource_type: 'user', resource_id: id, details: { after: { username: 'wang', is_superuser: false } } }))
      .toEqual({ type: 'user', name: 'wang', to: null })
    expect(auditResource({ resource_type: 'deployment', resource_id: id, details: { after: { name: 'east-nightly' } } }))
      .toEqual({ type: 'deployment', name: 'east-nightly', to: `/deployments/${id}` })
    expect(auditResource({ resource_type: 'run', resource_id: id, details: { after: { status: 'RUNNING' } } }))
      .toEqual({ type: 'run', name: '9edd8d7fb271'.slice(-8), to: `/runs/${id}` })
    expect(auditResource({ resource_type: 'user', resource_id: id, details: { username: 'admin' } }).name).toBe('admin')
    expect(auditResource({ resource_type: null, resource_id: null, details: { detail: 'refused' } })).toEqual({ type: null, name: null, to: null })
  })
})
