import { describe, expect, it } from 'vitest'
import { DST_FOLD, DST_GAP, MISFIRE, OVERLAP, chinesePunctuation, cronInWords, emptyForm, fromDeployment, intervalParts, missingFields, scheduleInWords, toBody } from '@/deployments/schedule'
import type { Deployment } from '@/deployments/api'
import { translator } from './translator'

const t = (key: string, values?: Record<string, unknown>) => `${key}${values ? JSON.stringify(values) : ''}`

describe('schedules in words', () => {
  it('reads a daily cron with its time and zone, in English and Chinese', () => {
    expect(scheduleInWords({ kind: 'cron', cron: '30 2 * * *', timezone: 'Europe/Berlin' }, 'en', t)).toBe(
      'At 02:30, every day, Europe/Berlin',
    )
    expect(cronInWords('30 2 * * *', 'zh-CN')).toMatch(/02:30/)
    expect(cronInWords('30 2 * * *', 'zh-CN')).toMatch(/每天/)
  })

  it('writes Chinese with Chinese punctuation, not the English commas cronstrue joins its zh_CN words with', () => {
    expect(cronInWords('30 2 * * *', 'zh-CN')).toBe('在02:30，每天')
    expect(cronInWords('0 3 * * 1-5', 'zh-CN')).toBe('在03:00，星期一至星期五')
    expect(cronInWords('0-10 9 * * 1,3,5', 'zh-CN')).toBe('在 09:00 至 09:10 之间的每分钟，仅星期一，星期三和星期五')
    expect(cronInWords('0 0 1,15 * *', 'zh-CN')).toBe('在00:00，限每月 1 号 和 15 号')
    expect(scheduleInWords({ kind: 'cron', cron: '30 2 * * *', timezone: 'Asia/Shanghai' }, 'zh-CN', t)).toBe('在02:30，每天，Asia/Shanghai')
    for (const cron of ['*/5 * * * *', '15 10 * 1-6 MON-FRI', '0 */2 * * *', '0 0 1 1 *', '0 9 L * *', '0 9,18 * * *']) {
      expect(cronInWords(cron, 'zh-CN'), cron).not.toMatch(/,/)
    }
    expect(cronInWords('0 3 * * 1-5', 'en')).toBe('At 03:00, Monday through Friday') // English keeps its commas
    expect(chinesePunctuation('在 09:00 , 仅星期一, 星期三, 和 星期五')).toBe('在 09:00，仅星期一，星期三和星期五')
  })

  it('keeps "every 5 minutes" short and refuses what is not a 5-field cron', () => {
    expect(cronInWords('*/5 * * * *', 'en')).toBe('Every 5 minutes')
    expect(cronInWords('0 0 * *', 'en')).toBeNull()
    expect(cronInWords('61 * * * *', 'en')).toBeNull()
  })

  it('says an interval in its largest exact unit', () => {
    expect(intervalParts(7200)).toEqual({ every: 2, unit: 'h' })
    expect(intervalParts(90)).toEqual({ every: 90, unit: 's' })
    expect(intervalParts(86400 * 3)).toEqual({ every: 3, unit: 'd' })
    expect(scheduleInWords({ kind: 'interval', seconds: 300 }, 'en', t)).toBe(
      'deployments.everyInterval{"n":5,"unit":"deployments.units.min"}',
    )
  })
})

describe('the form and the API body', () => {
  it('builds each schedule kind and the DST policy', () => {
    const form = { ...emptyForm('Asia/Shanghai'), name: ' nightly ', pipeline: 'etl', cron: '0 3 * * 1-5' }
    const body = toBody(form, { day: '2026-01-01' }, 'team')
    expect(body).toMatchObject({
      name: 'nightly',
      namespace: 'team',
      schedule: { kind: 'cron', cron: '0 3 * * 1-5', timezone: 'Asia/Shanghai' },
      params: { day: '2026-01-01' },
      dst_policy: { nonexistent: 'shift', ambiguous: 'first' },
      start_at: null,
    })
    expect(toBody({ ...form, kind: 'interval', every: 5, unit: 'min' }, {}, null).schedule).toEqual({ kind: 'interval', seconds: 300 })
    expect(toBody({ ...form, kind: 'once', at: '2030-01-01T00:00:00Z' }, {}, null).namespace).toBe('default')
  })

  it('reads a stored deployment back into the form it was made from', () => {
    const stored = {
      ...toBody({ ...emptyForm(), name: 'x', pipeline: 'p', kind: 'interval', every: 2, unit: 'h' }, {}, null),
      id: '1', namespace_id: 'n', pipeline_id: 'pid', pipeline_name: 'p', pipeline_version: null, created_at: '',
      enabled: true, next_run_at: null, run_counts: {}, schedule: { kind: 'interval', seconds: 7200, anchor: '2026-01-01T00:00:00Z' },
      dst_policy: { nonexistent: 'skip', ambiguous: 'both' }, max_retries: 3, retry_jitter: null,
    } as unknown as Deployment
    const form = fromDeployment(stored)
    expect(form).toMatchObject({ kind: 'interval', every: 2, unit: 'h', pipeline: 'p', dst_nonexistent: 'skip', dst_ambiguous: 'both', max_retries: 3 })
    // editing keeps the interval's anchor, so the fire times do not move
    expect(toBody(form, {}, null).schedule).toEqual({ kind: 'interval', seconds: 7200, anchor: '2026-01-01T00:00:00Z' })
  })
})

describe('policy names', () => {
  it('names every misfire, overlap and DST policy as a word in both locales, with its sentence', () => {
    const groups = { misfire: MISFIRE, overlap: OVERLAP, gap: DST_GAP, fold: DST_FOLD }
    for (const locale of ['zh-CN', 'en'] as const) {
      const i18n = translator(locale)
      for (const [group, codes] of Object.entries(groups)) {
        const names = codes.map((code) => {
          expect(i18n.te(`deployments.policyName.${group}.${code}`), `${locale} ${group}.${code}`).toBe(true)
          expect(i18n.te(`deployments.policy.${group}.${code}`), `${locale} ${group}.${code} sentence`).toBe(true)
          return i18n.t(`deployments.policyName.${group}.${code}`)
        })
        expect(names.filter((name, i) => name === codes[i]), `${locale} ${group}`).toEqual([])
        expect(new Set(names).size, `${locale} ${group}`).toBe(codes.length)
      }
    }
    expect(translator('zh-CN').t('deployments.policyName.misfire.run_once')).toBe('合并为一次')
  })
})

describe('the deployment form', () => {
  it('flags every required field left empty at once, not only the first the API refuses', () => {
    expect(missingFields({ name: '每日 报表', pipeline: '' })).toEqual(['pipeline'])
    expect(missingFields({ name: '  ', pipeline: '' })).toEqual(['name', 'pipeline'])
    expect(missingFields({ name: 'daily', pipeline: 'report' })).toEqual([])
    expect(translator('zh-CN').t('deployments.form.missing.pipeline')).toBe('请选择流水线')
  })
})
