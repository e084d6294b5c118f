import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

const GET = vi.hoisted(() => vi.fn())
vi.mock('@/api/client', () => ({ api: { GET }, bearer: () => ({}) }))

const { useRunStore } = await import('@/stores/run')

const ok = (data: unknown) => Promise.resolve({ data, response: new Response(null, { status: 200 }) })
const event = (id: number) => ({ id, to_status: 'QUEUED', reason: 'submitted', actor: 'api', created_at: '2026-12-05T00:00:00Z' })
const run = { id: 'r1', status: 'RUNNING' }

describe("a run's timeline, a page of events at a time", () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    GET.mockReset()
  })

  it('shows the first page, then the next one after it with the cursor, and as many again when it reloads', async () => {
    // 70 events, served as the API pages them: `limit` after the cursor's, which is the last id sent
    const all = Array.from({ length: 70 }, (_, i) => event(i + 1))
    GET.mockImplementation((path: string, init: { params: { query?: { cursor?: string; limit?: number } } }) => {
      if (path === '/api/v1/runs/{run_id}') return ok(run)
      const { cursor, limit = 50 } = init.params.query ?? {}
      const start = cursor ? Number(cursor) : 0
      const items = all.slice(start, start + limit)
      return ok({ items, next_cursor: start + limit < all.length ? String(start + limit) : null })
    })
    const store = useRunStore()
    await store.load('r1')
    expect(store.events.map((e) => e.id)).toEqual(all.slice(0, 50).map((e) => e.id))
    expect(store.eventsCursor).toBe('50')

    await store.moreEvents('r1')
    expect(GET).toHaveBeenLastCalledWith('/api/v1/runs/{run_id}/events', { params: { path: { run_id: 'r1' }, query: { limit: 50, cursor: '50' } } })
    expect(store.events).toHaveLength(70)
    expect(store.eventsCursor).toBeNull()

    await store.load('r1') // the poll: the events shown stay shown
    expect(GET).toHaveBeenLastCalledWith('/api/v1/runs/{run_id}/events', { params: { path: { run_id: 'r1' }, query: { limit: 70 } } })
    expect(store.events).toHaveLength(70)
  })
})
