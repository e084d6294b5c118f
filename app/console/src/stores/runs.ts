/** The runs list: the API's filters, and keyset pages appended by "load more". */
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Run, RunQuery, RunStatus } from '@/api/types'

export const STATUSES: RunStatus[] = [
  'PENDING', 'QUEUED', 'RUNNING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED',
]
export const PAGE_SIZE = 50

export interface RunFilters {
  status: RunStatus[]
  kind: RunQuery['kind'] | ''
  trigger: RunQuery['trigger'] | ''
  pipeline: string
  /** A deployment's id. */
  deployment: string
  /** Created in [from, to), or any time when null. */
  range: [Date, Date] | null
}

/** The query the API takes for these filters (empty ones left out). */
export function runQuery(filters: RunFilters, namespace: string | null, cursor: string | null): RunQuery {
  const query: RunQuery = { limit: PAGE_SIZE }
  if (filters.status.length) query.status = filters.status
  if (filters.kind) query.kind = filters.kind
  if (filters.trigger) query.trigger = filters.trigger
  if (filters.pipeline.trim()) query.pipeline = filters.pipeline.trim()
  if (filters.deployment.trim()) query.deployment_id = filters.deployment.trim()
  if (filters.range) {
    query.created_after = filters.range[0].toISOString()
    query.created_before = filters.range[1].toISOString()
  }
  if (namespace) query.namespace = namespace
  if (cursor) query.cursor = cursor
  return query
}

export const useRunsStore = defineStore('runs', () => {
  const filters = reactive<RunFilters>({ status: [], kind: '', trigger: '', pipeline: '', deployment: '', range: null })
  /** Pipeline names by id, for the list's pipeline column (runs carry only the id). */
  const pipelineNames = ref<Record<string, string>>({})
  const items = ref<Run[]>([])
  const cursor = ref<string | null>(null)
  const loading = ref(false)
  const done = ref(false)

  async function load(namespace: string | null, more = false): Promise<void> {
    loading.value = true
    try {
      const page = unwrap(
        await api.GET('/api/v1/runs', { params: { query: runQuery(filters, namespace, more ? cursor.value : null) } }),
      )
      items.value = more ? [...items.value, ...page.items] : page.items
      cursor.value = page.next_cursor
      done.value = page.next_cursor === null
      await learnPipelineNames(namespace)
    } finally {
      loading.value = false
    }
  }

  /** Reads the pipelines' names once a run shows a pipeline not named yet (one page of up to 500 pipelines). */
  async function learnPipelineNames(namespace: string | null): Promise<void> {
    if (items.value.every((run) => !run.pipeline_id || run.pipeline_id in pipelineNames.value)) return
    const page = unwrap(await api.GET('/api/v1/pipelines', { params: { query: { limit: 500, ...(namespace ? { namespace } : {}) } } }))
    pipelineNames.value = { ...pipelineNames.value, ...Object.fromEntries(page.items.map((p) => [p.id, p.name])) }
  }

  return { filters, items, cursor, loading, done, pipelineNames, load }
})
