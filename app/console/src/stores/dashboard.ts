/** The dashboard's figures: the summary and the trend, re-read every 15 s while the page is open. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { MetricBucket, MetricDimension, Run, Summary, TimeSeries } from '@/api/types'
import { enumLabel, type Translator } from '@/i18n/enums'

export const WINDOWS = {
  '24h': { hours: 24, bucket: '1h' },
  '7d': { hours: 24 * 7, bucket: '1h' },
  '30d': { hours: 24 * 30, bucket: '1d' },
} as const satisfies Record<string, { hours: number; bucket: MetricBucket }>
export type WindowName = keyof typeof WINDOWS
export const REFRESH_MS = 15_000

/** One bar of a TopN chart: what it is (a name, or the key when it has none; '' when the console must name it) and its figure. */
export interface Bar {
  key: string | null
  label: string
  value: number
}
/** The key of the row that sums every value past the top N. */
export const OTHER = 'other'
/** The TopN charts, each from its own endpoint: a path, its query, and which figure of an item is the bar. */
const TOPN = {
  slowest: { path: '/api/v1/metrics/slowest-pipelines', query: {}, figure: 'duration_p95' },
  failing: { path: '/api/v1/metrics/failing-deployments', query: {}, figure: 'runs_failed' },
  pipeline: { path: '/api/v1/metrics/breakdown', query: { by: 'pipeline' }, figure: 'value' },
  user: { path: '/api/v1/metrics/breakdown', query: { by: 'user' }, figure: 'value' },
  error: { path: '/api/v1/metrics/breakdown', query: { by: 'error' }, figure: 'value' },
} as const satisfies Record<string, { path: string; query: { by?: MetricDimension }; figure: string }>
export type TopName = keyof typeof TOPN
export const TOP_NAMES = Object.keys(TOPN) as TopName[]

/**
 * Bars from an item list of the metrics API ({key, label, <figure>}); items without the figure are left out. A null or
 * empty key (runs of no pipeline, no user, no error) and the "other" row get label '' for `named` to fill in.
 */
export function bars(items: readonly Record<string, unknown>[], figure: string): Bar[] {
  return items
    .filter((item) => typeof item[figure] === 'number')
    .map((item) => {
      const key = typeof item.key === 'string' && item.key ? item.key : null
      const name = typeof item.label === 'string' && item.label ? item.label : null
      const label = name ?? (key === null || key === OTHER ? '' : key)
      return { key, label, value: item[figure] as number }
    })
}

/**
 * The bars with words for those the API does not name: "other", runs of no pipeline (imports) or no user, and error
 * codes (the API sends the code; the chart's tooltip still shows it, as the bar's key).
 */
export function named(list: readonly Bar[], name: TopName, i18n: Translator): Bar[] {
  return list.map((b) => {
    if (name === 'error' && b.key !== null && b.key !== OTHER) return { ...b, label: enumLabel(i18n, 'runError', b.key) }
    return b.label ? b : { ...b, label: i18n.t(b.key === OTHER ? 'topn.other' : `topn.none.${name}`) }
  })
}

/** Charts whose bars without a key are left out: runs of no deployment are no failing deployment, runs without an error no error. */
const KEYED_ONLY: readonly TopName[] = ['failing', 'error']

export const useDashboardStore = defineStore('dashboard', () => {
  const windowName = ref<WindowName>('24h')
  const summary = ref<Summary | null>(null)
  const trend = ref<TimeSeries | null>(null)
  const updatedAt = ref<Date | null>(null)
  const error = ref<string | null>(null)
  const top = ref<Partial<Record<TopName, Bar[]>>>({})
  const failures = ref<Run[]>([])

  /** Reads both for `namespace` (null: every one the caller may see); the old figures stay on screen until the new ones arrive (no flicker). */
  async function load(namespace: string | null = null): Promise<void> {
    const { hours, bucket } = WINDOWS[windowName.value]
    const to = new Date()
    const from = new Date(to.getTime() - hours * 3600_000)
    const query = { from: from.toISOString(), to: to.toISOString(), ...(namespace ? { namespace } : {}) }
    try {
      const [s, t] = await Promise.all([
        api.GET('/api/v1/metrics/summary', { params: { query } }),
        api.GET('/api/v1/metrics/timeseries', { params: { query: { ...query, metric: 'runs', bucket, by: 'status' } } }),
      ])
      summary.value = unwrap(s)
      trend.value = unwrap(t) as TimeSeries // openapi-fetch reads each point [at, value] as an array, not a pair
      await loadExtras(query)
      updatedAt.value = to
      error.value = null
    } catch (exc) {
      error.value = exc instanceof Error ? exc.message : String(exc)
    }
  }

  /** The TopN charts and the recent failures; replaced all at once so nothing blinks on a refresh. */
  async function loadExtras(query: { from: string; to: string; namespace?: string }): Promise<void> {
    const answers = await Promise.all(
      TOP_NAMES.map(async (name) => {
        const { path, query: extra, figure } = TOPN[name]
        // The paths differ in their declared bodies; all answer {items: [...]}.
        const answer = unwrap(await api.GET(path as '/api/v1/metrics/breakdown', { params: { query: { ...query, ...extra, top: 5 } } }))
        const items = (answer as unknown as { items?: Record<string, unknown>[] }).items ?? []
        const shown = bars(items, figure)
        return [name, KEYED_ONLY.includes(name) ? shown.filter((b) => b.key !== null) : shown] as const
      }),
    )
    const recent = unwrap(await api.GET('/api/v1/metrics/recent-failures', { params: { query: { ...query, limit: 8 } } }))
    top.value = Object.fromEntries(answers)
    failures.value = recent as unknown as Run[]
  }

  return { windowName, summary, trend, updatedAt, error, top, failures, load }
})
