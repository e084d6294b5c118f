import { describe, expect, it } from 'vitest'
import { REASON_CODES, reasonText, type ReasonCode } from '@/i18n/reasons'
import { namedTranslator } from './translator'

const zh = namedTranslator('zh-CN')
const en = namedTranslator('en')

const occurrence = (reason_code: ReasonCode, reason = 'the English detail') => ({ reason_code, reason, fire_times: 1 })

describe('reasonText (why a fire time made no run, in the page\'s language)', () => {
  it('has words for every reason code in both languages, never the English detail', () => {
    for (const code of REASON_CODES) {
      for (const i18n of [zh, en]) {
        expect(i18n.te(`deployments.reasons.${code}`), code).toBe(true)
        expect(reasonText(i18n, occurrence(code, code === 'unspecified' ? '' : 'x')), code).not.toBe('x')
      }
    }
  })

  it('words an overlap skip in Chinese, with the English detail left for the hover', () => {
    expect(reasonText(zh, occurrence('overlap_limit', 'max_concurrent_runs=1 reached'))).toBe('已达到最大并发运行数，按重叠策略未运行')
    expect(reasonText(en, occurrence('paused'))).toBe('The deployment was paused')
  })

  it('reads a code it has no words for (a newer API\'s), or an unspecified one, as the API\'s reason', () => {
    expect(reasonText(zh, { reason_code: 'from_a_newer_api' as ReasonCode, reason: 'some reason', fire_times: 1 })).toBe('some reason')
    expect(reasonText(zh, occurrence('unspecified', 'written by hand'))).toBe('written by hand')
    expect(reasonText(zh, occurrence('unspecified', ''))).toBe('未记录原因')
  })
})
