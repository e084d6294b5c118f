/** One lazily loaded ECharts instance bound to an element: drawn when ready, resized with it, disposed with it. */
import { onBeforeUnmount, onMounted, ref, shallowRef, type Ref } from 'vue'

export type Chart = ReturnType<typeof import('./echarts')['init']>

export function useChart(host: Ref<HTMLDivElement | null>, draw: (chart: Chart) => void) {
  const chart = shallowRef<Chart | null>(null)
  /** True once ECharts has finished a render: the browser tests wait on it before reading pixels. */
  const drawn = ref(false)
  let observer: ResizeObserver | undefined

  function redraw(): void {
    if (chart.value) draw(chart.value)
  }

  onMounted(async () => {
    const { init } = await import('./echarts') // ECharts stays out of the entry chunk
    if (!host.value) return
    chart.value = init(host.value)
    // A resize renders too, and finishes, before any option is set: only a render with an option counts as drawn
    // (else a slow metrics answer let the dashboard say drawn over an empty chart).
    chart.value.on('finished', () => {
      if (chart.value?.getOption()) drawn.value = true
    })
    observer = new ResizeObserver(() => chart.value?.resize())
    observer.observe(host.value)
    redraw()
  })
  onBeforeUnmount(() => {
    observer?.disconnect()
    chart.value?.dispose()
  })
  return { drawn, redraw }
}
