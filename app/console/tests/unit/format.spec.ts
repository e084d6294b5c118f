import { describe, expect, it } from 'vitest'
import { cellText, formatBytes, formatNumber, formatPercent, formatSeconds, runDurations, runSeconds, shortId } from '@/utils/format'
import { runQuery, runSubject } from '@/stores/runs'

describe('formats', () => {
  it('say numbers, ratios, sizes and durations for people', () => {
    expect(formatNumber(1234567, 'en')).toBe('1,234,567')
    expect(formatNumber(null, 'en')).toBe('—')
    expect(formatPercent(0.875, 'en')).toBe('87.5%')
    expect(formatBytes(1536, 'en')).toBe('1.5 KB')
    expect(formatSeconds(0.25, 'en')).toBe('250 ms')
    expect(formatSeconds(12.34, 'en')).toBe('12.3 s')
    expect(formatSeconds(245, 'en')).toBe('4 min 5 s')
    expect(formatSeconds(7380, 'en')).toBe('2 h 3 min')
    expect(formatSeconds(4_500_000, 'en')).toBe('1,250 h 0 min')
    expect(runSeconds('2026-01-01T00:00:00Z', '2026-01-01T00:00:03Z', 0)).toBe(3)
    expect(runSeconds(null, null, 0)).toBeNull()
  })

  it('time a retried run from its first start to its end, and its last attempt beside it', () => {
    const run = { started_at: '2026-01-01T00:00:09.988Z', finished_at: '2026-01-01T00:00:10Z' }
    const events = [
      { to_status: 'PENDING', created_at: '2026-01-01T00:00:00Z' },
      { to_status: 'RUNNING', created_at: '2026-01-01T00:00:01Z' },
      { to_status: 'RETRYING', created_at: '2026-01-01T00:00:02Z' },
      { to_status: 'RUNNING', created_at: '2026-01-01T00:00:05Z' },
      { to_status: 'RETRYING', created_at: '2026-01-01T00:00:06Z' },
      { to_status: 'RUNNING', created_at: '2026-01-01T00:00:09.988Z' },
      { to_status: 'FAILED', created_at: '2026-01-01T00:00:10Z' },
    ]
    expect(runDurations(run, events, 0)).toEqual({ whole: 9, attempt: 0.012 })
    // one attempt: the two are the same, so only the whole is shown
    expect(runDurations({ ...run, started_at: '2026-01-01T00:00:01Z' }, events.slice(0, 2), 0)).toEqual({ whole: 9, attempt: null })
    // running still: up to now
    expect(runDurations({ started_at: '2026-01-01T00:00:05Z', finished_at: null }, events.slice(0, 4), Date.parse('2026-01-01T00:00:07Z'))).toEqual({ whole: 6, attempt: 2 })
    expect(runDurations({ started_at: null, finished_at: null }, [], 0)).toEqual({ whole: null, attempt: null })
  })

  it('say durations in zh-CN words, not English units', () => {
    expect(formatSeconds(0.25, 'zh-CN')).toBe('250毫秒')
    expect(formatSeconds(12.34, 'zh-CN')).toBe('12.3秒')
    expect(formatSeconds(245, 'zh-CN')).toBe('4分钟5秒')
    expect(formatSeconds(7380, 'zh-CN')).toBe('2小时3分钟')
    expect(formatSeconds(null, 'zh-CN')).toBe('—')
  })
})

describe('runQuery', () => {
  it('sends only the filters that are set, with the namespace and cursor', () => {
    expect(runQuery({ status: [], kind: '', trigger: '', pipeline: ' ', deployment: '', dataset: '', range: null, search: '' }, null, null)).toEqual({ limit: 50 })
    expect(runQuery({ status: ['FAILED'], kind: 'pipeline', trigger: 'api', pipeline: 'daily', deployment: '', dataset: '', range: null, search: '' }, 'default', 'c1')).toEqual({
      limit: 50,
      status: ['FAILED'],
      kind: 'pipeline',
      trigger: 'api',
      pipeline: 'daily',
      namespace: 'default',
      cursor: 'c1',
    })
  })

  it('sends the deployment, the dataset and the created time range', () => {
    const range: [Date, Date] = [new Date('2026-12-01T00:00:00Z'), new Date('2026-12-02T00:00:00Z')]
    expect(runQuery({ status: [], kind: '', trigger: '', pipeline: '', deployment: ' d1 ', dataset: 'ds1', range, search: ' 日报 ' }, null, null)).toEqual({
      limit: 50,
      search: '日报',
      deployment_id: 'd1',
      dataset_id: 'ds1',
      created_after: '2026-12-01T00:00:00.000Z',
      created_before: '2026-12-02T00:00:00.000Z',
    })
  })
})

describe('shortId', () => {
  it('tells apart UUIDv7 ids made in the same minute (their first digits are the clock)', () => {
    const a = '019ae2c4-1b2f-7a31-8c55-0d7e3f1a2b3c'
    const b = '019ae2c4-1d04-7f10-9e21-44aa5c6d7e8f'
    expect(shortId(a)).toBe('3f1a2b3c')
    expect(shortId(b)).not.toBe(shortId(a))
  })
})

describe('cellText (one rule for a table cell, wherever rows are shown)', () => {
  it('shows null as ∅, unlike an empty string, and objects as JSON', () => {
    expect(cellText(null)).toBe('∅')
    expect(cellText(undefined)).toBe('∅')
    expect(cellText('')).toBe('')
    expect(cellText(0)).toBe('0')
    expect(cellText(false)).toBe('false')
    expect(cellText({ a: [1, null] })).toBe('{"a":[1,null]}')
  })
})

describe('runSubject (the runs list\'s pipeline column)', () => {
  const t = (key: string, named?: Record<string, unknown>) => `${key}${named ? ` ${JSON.stringify(named)}` : ''}`
  const names = (pipeline: string | null, dataset: string | null) => ({ pipeline, dataset, deployment: null })

  it("names a pipeline run's pipeline, and an import with its dataset, from the names the run carries", () => {
    expect(runSubject({ kind: 'pipeline', pipeline_id: 'p1', dataset_id: null, names: names('nightly', null) }, t)).toBe('nightly')
    expect(runSubject({ kind: 'ingest', pipeline_id: null, dataset_id: 'd-1', names: names(null, 'sales') }, t)).toBe('runs.importOf {"name":"sales"}')
  })

  it('shortens an id the run does not name, and says "import" without a dataset', () => {
    const unknown = '0194a3c2-0000-7000-8000-00000000abcd'
    expect(runSubject({ kind: 'ingest', pipeline_id: null, dataset_id: unknown, names: null }, t)).toBe('runs.importOf {"name":"0000abcd"}')
    expect(runSubject({ kind: 'pipeline', pipeline_id: unknown, dataset_id: null, names: names(null, null) }, t)).toBe('0000abcd')
    expect(runSubject({ kind: 'ingest', pipeline_id: null, dataset_id: null, names: null }, t)).toBe('runs.import')
    expect(runSubject({ kind: 'pipeline', pipeline_id: null, dataset_id: null, names: null }, t)).toBe('—')
  })
})
