import { describe, expect, it } from 'vitest'
import { enumLabel } from '@/i18n/enums'
import { STATUSES } from '@/stores/runs'
import { translator } from './translator'

describe('enumLabel', () => {
  it('names run statuses, kinds and triggers in zh-CN', () => {
    const zh = translator('zh-CN')
    expect(enumLabel(zh, 'runStatus', 'SUCCEEDED')).toBe('成功')
    expect(enumLabel(zh, 'runStatus', 'FAILED')).toBe('失败')
    expect(enumLabel(zh, 'runStatus', 'TIMED_OUT')).toBe('超时')
    expect(enumLabel(zh, 'runKind', 'ingest')).toBe('数据导入')
    expect(enumLabel(zh, 'runTrigger', 'schedule')).toBe('定时调度')
  })

  it('names them in en', () => {
    const en = translator('en')
    expect(enumLabel(en, 'runStatus', 'SUCCEEDED')).toBe('Succeeded')
    expect(enumLabel(en, 'runStatus', 'TIMED_OUT')).toBe('Timed out')
    expect(enumLabel(en, 'runKind', 'pipeline')).toBe('Pipeline')
    expect(enumLabel(en, 'runTrigger', 'backfill')).toBe('Backfill')
  })

  it('has a word, not the code, for every status the runs filter offers, in both locales', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const words = STATUSES.map((status) => enumLabel(translator(locale), 'runStatus', status))
      expect(words.filter((word, i) => word === STATUSES[i]), locale).toEqual([])
      expect(new Set(words).size, locale).toBe(STATUSES.length)
    }
  })

  it('shows a code it does not know (a newer API) as the code itself, never blank', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const i18n = translator(locale)
      expect(enumLabel(i18n, 'runStatus', 'PAUSED')).toBe('PAUSED')
      expect(enumLabel(i18n, 'runTrigger', 'webhook')).toBe('webhook')
      // A name every object has is no message either.
      expect(enumLabel(i18n, 'runStatus', 'toString')).toBe('toString')
    }
    expect(enumLabel(translator('en'), 'runStatus', '')).toBe('')
    expect(enumLabel(translator('en'), 'runStatus', null)).toBe('')
  })
})
