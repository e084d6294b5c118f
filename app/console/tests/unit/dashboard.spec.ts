import { describe, expect, it } from 'vitest'
import { bars, named } from '@/stores/dashboard'
import { translator } from './translator'

describe('bars (TopN items of the metrics API)', () => {
  it('takes the figure and prefers the name over the key', () => {
    const items = [
      { key: 'a1', label: 'nightly import', duration_p95: 12.5, runs: 3 },
      { key: 'b2', label: null, duration_p95: 4 },
    ]
    expect(bars(items, 'duration_p95')).toEqual([
      { key: 'a1', label: 'nightly import', value: 12.5 },
      { key: 'b2', label: 'b2', value: 4 },
    ])
  })

  it('leaves out items without the figure, and leaves a null key unnamed', () => {
    expect(bars([{ key: null, label: null, value: 2 }, { key: 'x', value: null }], 'value')).toEqual([{ key: null, label: '', value: 2 }])
  })

  it("reads the error breakdown's empty key (runs without an error) as no key", () => {
    expect(bars([{ key: '', label: null, value: 303 }], 'value')).toEqual([{ key: null, label: '', value: 303 }])
  })
})

describe('named (words for the bars the API does not name)', () => {
  const items = [
    { key: 'a1', label: 'nightly', value: 9 },
    { key: null, label: null, value: 4 },
    { key: 'other', label: null, value: 7 },
  ]

  it('calls runs of no pipeline imports, and the rest past the top N "other", in the chosen language', () => {
    const zh = translator('zh-CN')
    expect(named(bars(items, 'value'), 'pipeline', zh).map((b) => b.label)).toEqual(['nightly', '数据导入', '其他'])
    const en = translator('en')
    expect(named(bars(items, 'value'), 'pipeline', en).map((b) => b.label)).toEqual(['nightly', 'Imports', 'Other'])
    expect(named(bars(items, 'value'), 'user', en).map((b) => b.label)).toEqual(['nightly', 'None (scheduled)', 'Other'])
  })

  it('names error codes in the chosen language, keeping the code as the key; an unknown code stays itself', () => {
    const errors = [
      { key: 'invalid_pipeline_spec', label: null, value: 3 },
      { key: 'some_new_code', label: null, value: 2 },
      { key: 'other', label: null, value: 1 },
    ]
    const zh = named(bars(errors, 'value'), 'error', translator('zh-CN'))
    expect(zh.map((b) => b.label)).toEqual(['流水线定义无效', 'some_new_code', '其他'])
    expect(zh.map((b) => b.key)).toEqual(['invalid_pipeline_spec', 'some_new_code', 'other'])
    expect(named(bars(errors, 'value'), 'error', translator('en'))[0]?.label).toBe('Invalid pipeline spec')
  })
})
