import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

const GET = vi.hoisted(() => vi.fn())
vi.mock('@/api/client', () => ({ api: { GET }, bearer: () => ({}) }))

const { activeFilters, useRunsStore } = await import('@/stores/runs')

/** A list answer the test releases when it likes, to make answers arrive out of order. */
function later(ids: string[]): (() => void) {
  let release = (): void => undefined
  GET.mockImplementationOnce(
    () =>
      new Promise((done) => {
        release = () => done({ data: { items: ids.map((id) => ({ id })), next_cursor: null }, response: new Response(null, { status: 200 }) })
      }),
  )
  return () => release()
}

describe('the runs list', () => {
  it('counts the filters set, a time range as one, for the phone\'s 筛选 button', () => {
    const runs = (setActivePinia(createPinia()), useRunsStore())
    expect(activeFilters(runs.filters)).toBe(0)
    Object.assign(runs.filters, { status: ['FAILED', 'RUNNING'], search: ' ', range: [new Date(0), new Date(1)], pipeline: 'daily' })
    expect(activeFilters(runs.filters)).toBe(3)
  })

  beforeEach(() => {
    GET.mockReset()
    setActivePinia(createPinia())
  })

  it('shows the newest list asked for when an older one answers after it', async () => {
    const runs = useRunsStore()
    const first = later(['sales', 'hourly']) // the page's first load, slow
    const opening = runs.load(null)
    runs.filters.search = 'SALES'
    const searched = later(['sales'])
    const searching = runs.load(null)
    searched()
    await searching
    first()
    await opening
    expect(runs.items.map((r) => r.id)).toEqual(['sales'])
    expect(runs.loading).toBe(false)
  })
})
