/** The runs list: the API's filters, and keyset pages appended by "load more". */
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Run, RunQuery, RunStatus } from '@/api/types'
import { shortId } from '@/utils/format'
import { LoadMore } from '@/utils/pages'

export const STATUSES: RunStatus[] = [
  'PENDING', 'QUEUED', 'RUNNING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED',
]
export const PAGE_SIZE = 50

export interface RunFilters {
  status: RunStatus[]
  kind: RunQuery['kind'] | ''
  trigger: RunQuery['trigger'] | ''
  /** A pipeline's id (or name). */
  pipeline: string
  /** A deployment's id. */
  deployment: string
  /** A dataset's id: the imports into it. */
  dataset: string
  /** Created in [from, to), or any time when null. */
  range: [Date, Date] | null
  /** Part of the name of the run's pipeline, deployment or dataset (any case; the API searches). */
  search: string
}

/** The query the API takes for these filters (empty ones left out). */
export function runQuery(filters: RunFilters, namespace: string | null, cursor: string | null): RunQuery {
  const query: RunQuery = { limit: PAGE_SIZE }
  if (filters.status.length) query.status = filters.status
  if (filters.kind) query.kind = filters.kind
  if (filters.trigger) query.trigger = filters.trigger
  if (filters.pipeline.trim()) query.pipeline = filters.pipeline.trim()
  if (filters.deployment.trim()) query.deployment_id = filters.deployment.trim()
  if (filters.dataset.trim()) query.dataset_id = filters.dataset.trim()
  if (filters.search.trim()) query.search = filters.search.trim()
  if (filters.range) {
    query.created_after = filters.range[0].toISOString()
    query.created_before = filters.range[1].toISOString()
  }
  if (namespace) query.namespace = namespace
  if (cursor) query.cursor = cursor
  return query
}

/** How many filters are set (a time range is one), for the 筛选 button that hides them on a phone. */
export function activeFilters(filters: RunFilters): number {
  const set = Object.keys(runQuery(filters, null, null))
  return set.filter((key) => key !== 'limit' && key !== 'created_before').length
}

export const useRunsStore = defineStore('runs', () => {
  const filters = reactive<RunFilters>({ status: [], kind: '', trigger: '', pipeline: '', deployment: '', dataset: '', range: null, search: '' })
  const items = ref<Run[]>([])
  const cursor = ref<string | null>(null)
  const loading = ref(false)
  const done = ref(false)
  const pages = new LoadMore<RunQuery>()

  /** The newest load: one asked earlier that answers later (the page's first list, slow under load, after a search
   * typed at once) is dropped, or it replaced the searched list with the unsearched one. */
  let asked = 0

  async function load(namespace: string | null, more = false): Promise<void> {
    const mine = ++asked
    loading.value = true
    try {
      const page = unwrap(
        await api.GET('/api/v1/runs', { params: { query: pages.query(runQuery(filters, namespace, null), more, cursor.value) } }),
      )
      if (mine !== asked) return
      items.value = more ? [...items.value, ...page.items] : page.items
      cursor.value = page.next_cursor
      done.value = page.next_cursor === null
    } finally {
      if (mine === asked) loading.value = false
    }
  }

  return { filters, items, cursor, loading, done, load }
})

/**
 * What a run worked on, for the runs list's pipeline column: its pipeline's name, or for an import "Import: <dataset>"
 * (`t` words it). The run carries the names (`names`, read by the API for the runs it lists, however many pipelines
 * there are); an id without a name (a run read from an older API) shows shortened, a run of neither shows "—".
 */
export function runSubject(
  run: Pick<Run, 'kind' | 'pipeline_id' | 'dataset_id' | 'names'>,
  t: (key: string, named?: Record<string, unknown>) => string,
): string {
  if (run.pipeline_id) return run.names?.pipeline ?? shortId(run.pipeline_id)
  if (run.kind !== 'ingest') return '—'
  if (!run.dataset_id) return t('runs.import')
  return t('runs.importOf', { name: run.names?.dataset ?? shortId(run.dataset_id) })
}
