import { describe, expect, it } from 'vitest'
import { LoadMore } from '@/utils/pages'

describe('LoadMore', () => {
  it('asks the next page with the filters shown, not with ones edited since', () => {
    const pages = new LoadMore<{ search?: string; namespace?: string }>()
    expect(pages.query({ search: 'orders' }, false, null)).toEqual({ search: 'orders' })
    // the user types a new search but clicks "load more" before applying it
    expect(pages.query({ search: 'ord' }, true, 'c1')).toEqual({ search: 'orders', cursor: 'c1' })
  })

  it('takes the filters of a first page as the ones shown from then on', () => {
    const pages = new LoadMore<{ search?: string }>()
    pages.query({ search: 'a' }, false, null)
    expect(pages.query({ search: 'b' }, false, null)).toEqual({ search: 'b' })
    expect(pages.query({ search: 'c' }, true, 'c2')).toEqual({ search: 'b', cursor: 'c2' })
  })

  it('asks a first page when "more" comes before any page', () => {
    const pages = new LoadMore<{ search?: string }>()
    expect(pages.query({ search: 'x' }, true, 'stale')).toEqual({ search: 'x' })
  })
})
