import { describe, expect, it } from 'vitest'
import type { Webhook } from '@/webhooks/api'
import { EVENT_TYPES, attemptOutcome, createBody, emptyForm, eventGroups, eventKey, eventLabel, formOf, formatLatency, patchBody, subscriptionState } from '@/webhooks/logic'
import { translator } from './translator'

const HOOK: Webhook = {
  id: 'w1',
  namespace_id: 'n1',
  url: 'https://example.com/hook',
  description: 'ops',
  event_types: ['run.failed', 'run.succeeded'],
  pipeline_id: 'p1',
  deployment_id: null,
  enabled: true,
  disabled_reason: null,
  failing_since: null,
  previous_secret_until: null,
  created_at: '2026-12-03T10:00:00Z',
  updated_at: '2026-12-03T10:00:00Z',
  last_delivery: null,
}

describe('event types', () => {
  it('are the API enum, grouped by subject in the API order', () => {
    expect(EVENT_TYPES).toHaveLength(8)
    expect(eventGroups().map((g) => [g.group, g.types.length])).toEqual([
      ['run', 4],
      ['dataset', 2],
      ['deployment', 2],
    ])
    expect(eventGroups()[1]?.types).toEqual(['dataset.ingested', 'dataset.import.failed'])
  })

  it('have message keys without dots', () => {
    expect(eventKey('dataset.import.failed')).toBe('webhooks.events.dataset_import_failed')
    expect(eventKey('webhook.test')).toBe('webhooks.events.webhook_test')
  })

  it('names event types in words, and a type it does not know as itself', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const i18n = translator(locale)
      for (const type of EVENT_TYPES) expect(eventLabel(i18n, type), `${locale} ${type}`).not.toBe(type)
      expect(eventLabel(i18n, 'deployment.paused')).toBe('deployment.paused')
    }
  })
})

describe('the form', () => {
  it('makes a create body with the URL trimmed and empty filters null', () => {
    const form = { ...emptyForm(), url: '  http://127.0.0.1:9/x ', description: ' d ' }
    expect(createBody(form, 'team')).toEqual({
      url: 'http://127.0.0.1:9/x',
      description: 'd',
      event_types: ['run.succeeded', 'run.failed'],
      namespace: 'team',
      pipeline_id: null,
      deployment_id: null,
      enabled: true,
    })
  })

  it('round-trips a subscription with the event types in API order', () => {
    const form = formOf(HOOK)
    expect(form.event_types).toEqual(['run.succeeded', 'run.failed'])
    expect(form.pipeline_id).toBe('p1')
    expect(form.deployment_id).toBe('')
    expect(patchBody(HOOK, form)).toEqual({})
  })

  it('patches only what changed; a cleared filter is null', () => {
    const form = { ...formOf(HOOK), pipeline_id: '', deployment_id: 'd1', event_types: ['run.failed' as const] }
    expect(patchBody(HOOK, form)).toEqual({ pipeline_id: null, deployment_id: 'd1', event_types: ['run.failed'] })
    expect(patchBody(HOOK, { ...formOf(HOOK), enabled: false, url: 'https://example.com/other' })).toEqual({ enabled: false, url: 'https://example.com/other' })
  })
})

describe('states', () => {
  it('a disabled subscription is disabled even while failing; an enabled one failing is failing', () => {
    expect(subscriptionState({ enabled: false, failing_since: '2026-12-03T10:00:00Z' }).state).toBe('disabled')
    expect(subscriptionState({ enabled: true, failing_since: '2026-12-03T10:00:00Z' })).toEqual({ state: 'failing', tag: 'warning' })
    expect(subscriptionState({ enabled: true, failing_since: null })).toEqual({ state: 'enabled', tag: 'success' })
  })

  it('an attempt shows its status code, or its error when there was no answer', () => {
    expect(attemptOutcome({ status_code: 204, error: null })).toEqual({ text: '204', ok: true })
    expect(attemptOutcome({ status_code: 302, error: 'redirect to x not followed' })).toEqual({ text: '302 · redirect to x not followed', ok: false })
    expect(attemptOutcome({ status_code: null, error: 'timeout' })).toEqual({ text: 'timeout', ok: false })
    expect(attemptOutcome({ status_code: 500, error: null }).ok).toBe(false)
  })

  it('latency reads in ms under a second, in seconds above, in the page\'s language as the dashboard\'s durations', () => {
    expect(formatLatency(12.4, 'en')).toBe('12 ms')
    expect(formatLatency(1350, 'en')).toBe('1.4 s')
    expect(formatLatency(12.4, 'zh-CN')).toBe('12毫秒')
    expect(formatLatency(1350, 'zh-CN')).toBe('1.4秒')
  })
})
