/** One run's page: the run, its events, and the operator's actions on it. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Run, RunEvent } from '@/api/types'

export const FINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED'])

export const useRunStore = defineStore('run', () => {
  const run = ref<Run | null>(null)
  const events = ref<RunEvent[]>([])

  async function load(id: string): Promise<void> {
    const path = { run_id: id }
    const [r, e] = await Promise.all([
      api.GET('/api/v1/runs/{run_id}', { params: { path } }),
      api.GET('/api/v1/runs/{run_id}/events', { params: { path } }),
    ])
    run.value = unwrap(r)
    events.value = unwrap(e)
  }

  async function cancel(id: string): Promise<void> {
    unwrap(await api.POST('/api/v1/runs/{run_id}/cancel', { params: { path: { run_id: id } } }))
    await load(id)
  }

  /** A new run with the same inputs; its id. */
  async function retry(id: string): Promise<string> {
    return unwrap(await api.POST('/api/v1/runs/{run_id}/retry', { params: { path: { run_id: id } } })).id
  }

  return { run, events, load, cancel, retry }
})
