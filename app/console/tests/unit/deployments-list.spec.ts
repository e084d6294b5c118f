// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import DeploymentsView from '@/views/deployments/DeploymentsView.vue'
import type { Deployment } from '@/deployments/api'
import { cleanUp, mountIn, settle } from './select-driver'

const LONG = 'e2e_pipeline_deployments_1796479494574'

vi.mock('@/deployments/api', () => ({
  listDeployments: () => Promise.resolve({
    items: [{
      id: 'd1', name: `${LONG}_nightly`, namespace_id: 'n1', pipeline_id: 'p1', pipeline_name: LONG, enabled: true,
      schedule: { kind: 'interval', every_seconds: 3600 }, next_run_at: null, last_run: null, run_counts: {},
    } as unknown as Deployment],
    next_cursor: null,
  }),
  deleteDeployment: vi.fn(), pauseDeployment: vi.fn(), resumeDeployment: vi.fn(), triggerDeployment: vi.fn(),
}))

afterEach(cleanUp)

describe('the deployments list', () => {
  it('cuts a long deployment or pipeline name with an ellipsis and shows it whole in a tooltip, never breaking it mid-word', async () => {
    // Element Plus's cells break an overflowing word wherever it overflows (overflow-wrap: break-word): a generated
    // pipeline name read "…179647949457" / "4". A column with show-overflow-tooltip keeps its cell on one line
    // (class el-tooltip: nowrap, ellipsis) and shows the whole text on hover, as the other lists' long texts do.
    vi.useFakeTimers()
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', component: { render: () => null } }] })
    const { element } = mountIn(DeploymentsView, (a) => a.use(createPinia()).use(router))
    await settle()
    const cellOf = (text: string) => [...element.querySelectorAll<HTMLElement>('td .cell')].find((c) => c.textContent?.trim() === text)
    for (const name of [LONG, `${LONG}_nightly`]) {
      expect(cellOf(name)?.classList.contains('el-tooltip'), name).toBe(true)
    }
  })
})
