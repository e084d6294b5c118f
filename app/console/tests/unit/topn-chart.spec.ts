// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, ref, type App } from 'vue'
import { createI18n } from 'vue-i18n'
import TopNChart from '@/components/dashboard/TopNChart.vue'

// ECharts does not draw in happy-dom: what the chart says is its aria-label, which the tooltip and axis words share.
vi.mock('@/components/dashboard/useChart', () => ({ useChart: () => ({ drawn: ref(false), redraw: () => undefined }) }))

let app: App | null = null
afterEach(() => {
  app?.unmount()
  document.body.innerHTML = ''
})

async function said(locale: 'zh-CN' | 'en', value: number, seconds: boolean): Promise<string | null> {
  const element = document.createElement('div')
  document.body.append(element)
  app = createApp({ render: () => h(TopNChart, { bars: [{ key: 'p1', label: 'nightly', value }], name: 'x', color: '#000', seconds }) })
  app.use(createI18n({ legacy: false, locale, messages: { [locale]: {} }, missingWarn: false, fallbackWarn: false }))
  app.mount(element)
  await nextTick()
  return element.querySelector('[data-test=topn-x]')?.getAttribute('aria-label') ?? null
}

describe('a TopN chart says its figures in the page language', () => {
  it('durations in zh-CN words, as the run log says them', async () => {
    expect(await said('zh-CN', 245, true)).toBe('nightly: 4分钟5秒')
    expect(await said('zh-CN', 0.32, true)).toBe('nightly: 320毫秒')
  })

  it('durations in English symbols', async () => {
    expect(await said('en', 245, true)).toBe('nightly: 4 min 5 s')
  })

  it('counts with thousands separators', async () => {
    expect(await said('en', 12345, false)).toBe('nightly: 12,345')
    expect(await said('zh-CN', 12345, false)).toBe('nightly: 12,345')
  })
})
