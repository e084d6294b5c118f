/** The dashboard's figures: the summary and the trend, re-read every 15 s while the page is open. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Summary, TimeSeries } from '@/api/types'

export const WINDOWS = {
  '24h': { hours: 24, bucket: '1h' },
  '7d': { hours: 24 * 7, bucket: '1h' },
  '30d': { hours: 24 * 30, bucket: '1d' },
} as const
export type WindowName = keyof typeof WINDOWS
export const REFRESH_MS = 15_000

export const useDashboardStore = defineStore('dashboard', () => {
  const windowName = ref<WindowName>('24h')
  const summary = ref<Summary | null>(null)
  const trend = ref<TimeSeries | null>(null)
  const updatedAt = ref<Date | null>(null)
  const error = ref<string | null>(null)

  /** Reads both; the old figures stay on screen until the new ones arrive (no flicker). */
  async function load(): Promise<void> {
    const { hours, bucket } = WINDOWS[windowName.value]
    const to = new Date()
    const from = new Date(to.getTime() - hours * 3600_000)
    const query = { from: from.toISOString(), to: to.toISOString() }
    try {
      const [s, t] = await Promise.all([
        api.GET('/api/v1/metrics/summary', { params: { query } }),
        api.GET('/api/v1/metrics/timeseries', { params: { query: { ...query, metric: 'runs', bucket, by: 'status' } } }),
      ])
      summary.value = unwrap(s) as unknown as Summary
      trend.value = unwrap(t) as unknown as TimeSeries
      updatedAt.value = to
      error.value = null
    } catch (exc) {
      error.value = exc instanceof Error ? exc.message : String(exc)
    }
  }

  return { windowName, summary, trend, updatedAt, error, load }
})
