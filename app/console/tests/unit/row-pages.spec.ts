import { describe, expect, it } from 'vitest'
import type { Rows } from '@/datasets/api'
import { restOfPage, withRest } from '@/datasets/rowPages'

function answer(offset: number, limit: number, rows: unknown[][], next: number | null, cut: Rows['truncated'] = []): Rows {
  return {
    dataset_id: 'd', version: 1, offset, limit, rows, next_offset: next, total: 100, truncated: cut, cell_chars: 10_000,
    columns: [{ name: 'a', type: 'string' }],
  } as unknown as Rows
}

describe('the rest of a page the API stopped early (restOfPage)', () => {
  it('starts where the API stopped and ends where the page asked', () => {
    expect(restOfPage(answer(40, 20, [[1], [2], [3]], 43))).toEqual({ offset: 43, limit: 17 })
  })

  it('is nothing for a whole page, the last page, or a page the API did not cut', () => {
    expect(restOfPage(answer(40, 20, [], 60))).toBeNull()
    expect(restOfPage(answer(90, 20, [[1]], null))).toBeNull()
  })
})

describe('a page with its rest added (withRest)', () => {
  it('keeps the rows in order, renumbers the cut cells, and stops where the rest stopped', () => {
    const first = answer(40, 20, [['x'], ['y']], 42, [{ row: 1, column: 'a', chars: 900 }])
    const rest = answer(42, 18, [['z'], ['w']], 44, [{ row: 0, column: 'a', chars: 700 }])
    const both = withRest(first, rest)
    expect(both.rows).toEqual([['x'], ['y'], ['z'], ['w']])
    expect(both.truncated).toEqual([{ row: 1, column: 'a', chars: 900 }, { row: 2, column: 'a', chars: 700 }])
    expect([both.offset, both.limit, both.next_offset]).toEqual([40, 20, 44])
    expect(restOfPage(both)).toEqual({ offset: 44, limit: 16 })
    expect(restOfPage(withRest(both, answer(44, 16, [], 60)))).toBeNull()
  })
})
