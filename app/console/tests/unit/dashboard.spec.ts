import { describe, expect, it } from 'vitest'
import { bars } from '@/stores/dashboard'

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

  it('leaves out items without the figure, and names a null key', () => {
    expect(bars([{ key: null, label: null, value: 2 }, { key: 'x', value: null }], 'value')).toEqual([{ key: null, label: '—', value: 2 }])
  })
})
