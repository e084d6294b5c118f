/** One run's page: the run, its events (oldest first, a page at a time), and the operator's actions on it. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Run, RunEvent } from '@/api/types'

export const FINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED'])
/** Events a page holds; a reload of the run shown asks for as many as are shown (the API's most: 500). */
const PAGE = 50

export const useRunStore = defineStore('run', () => {
  const run = ref<Run | null>(null)
  const events = ref<RunEvent[]>([])
  /** The next page of the events shown (null when they are all shown). */
  const eventsCursor = ref<string | null>(null)

  async function load(id: string): Promise<void> {
    const path = { run_id: id }
    const limit = run.value?.id === id ? Math.min(Math.max(events.value.length, PAGE), 500) : PAGE
    const [r, e] = await Promise.all([
      api.GET('/api/v1/runs/{run_id}', { params: { path } }),
      api.GET('/api/v1/runs/{run_id}/events', { params: { path, query: { limit } } }),
    ])
    run.value = unwrap(r)
    const page = unwrap(e)
    events.value = page.items
    eventsCursor.value = page.next_cursor ?? null
  }

  /** The run's next page of events, after those shown. */
  async function moreEvents(id: string): Promise<void> {
    if (!eventsCursor.value) return
    const query = { limit: PAGE, cursor: eventsCursor.value }
    const page = unwrap(await api.GET('/api/v1/runs/{run_id}/events', { params: { path: { run_id: id }, query } }))
    events.value = [...events.value, ...page.items]
    eventsCursor.value = page.next_cursor ?? null
  }

  async function cancel(id: string): Promise<void> {
    unwrap(await api.POST('/api/v1/runs/{run_id}/cancel', { params: { path: { run_id: id } } }))
    await load(id)
  }

  /** A new run with the same inputs; its id. */
  async function retry(id: string): Promise<string> {
    return unwrap(await api.POST('/api/v1/runs/{run_id}/retry', { params: { path: { run_id: id } } })).id
  }

  return { run, events, eventsCursor, load, moreEvents, cancel, retry }
})
