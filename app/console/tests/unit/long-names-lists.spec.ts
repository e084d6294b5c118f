// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Component } from 'vue'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import PipelinesView from '@/views/pipelines/PipelinesView.vue'
import DatasetsView from '@/views/datasets/DatasetsView.vue'
import RunsView from '@/views/runs/RunsView.vue'
import TokensView from '@/views/settings/TokensView.vue'
import AuditView from '@/views/settings/AuditView.vue'
import { cleanUp, mountIn, settle } from './select-driver'

const LONG = 'e2e_pipeline_lists_1796479494574'
const WHEN = '2026-12-05T15:00:00Z'

/** What each list's API answers: one row named LONG (the API's client is mocked, the views' own code is not). */
const PAGES: Record<string, unknown> = {
  '/api/v1/pipelines': { items: [{ id: 'p1', name: LONG, namespace_id: 'n1', version: 1, steps: 2, description: null, created_at: WHEN }], next_cursor: null },
  '/api/v1/datasets': { items: [{ id: 'ds1', name: LONG, namespace_id: 'n1', source: 'generated', status: 'ready', size_bytes: 1, row_count: 1, latest_version: 1, updated_at: WHEN }], next_cursor: null },
  '/api/v1/runs': { items: [{ id: 'r1', kind: 'pipeline', status: 'succeeded', trigger: 'api', pipeline_id: 'p1', names: { pipeline: LONG }, created_at: WHEN, started_at: null, finished_at: null }], next_cursor: null },
  '/api/v1/tokens': { items: [{ id: 't1', name: LONG, namespace_id: 'n1', role: 'viewer', expires_at: null, revoked_at: null, created_at: WHEN }], next_cursor: null },
  '/api/v1/namespaces': [{ id: 'n1', name: 'default' }],
  // the audit log's actor: a CLI actor read "command line (conveyor users create)" on five lines
  '/api/v1/audit': { items: [{ id: 1, action: 'user.create', actor_name: LONG, actor_token_id: null, actor_user_id: null, at: WHEN, client_address: null, details: {}, error_code: null, namespace_id: null, outcome: 'success', request_id: null, resource_id: null, resource_type: 'user', status_code: 201, user_agent: null }], next_cursor: null },
}

vi.mock('@/api/client', () => ({
  api: { GET: (path: string) => Promise.resolve({ data: PAGES[path], response: { ok: true, status: 200 } }) },
  bearer: () => ({}),
  useAuth: () => undefined,
}))

afterEach(cleanUp)

describe('the lists of pipelines, datasets, runs, tokens and the audit log', () => {
  // Element Plus's cells break an overflowing word wherever it overflows (overflow-wrap: break-word), so a generated
  // name read "…179647949457" / "4", as in the deployments list (deployments-list.spec.ts). A column with
  // show-overflow-tooltip keeps its cell on one line (class el-tooltip: nowrap, ellipsis), the whole name on hover.
  const views: [string, Component, string | null][] = [
    ['pipelines', PipelinesView, '/pipelines/p1'],
    ['datasets', DatasetsView, '/datasets/ds1'],
    ['runs', RunsView, null],
    ['tokens', TokensView, null],
    ['audit', AuditView, null],
  ]
  it.each(views)('cuts a long name in the %s list with an ellipsis and shows it whole in a tooltip', async (_, view, link) => {
    vi.useFakeTimers()
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', component: { render: () => null } }] })
    const { element } = mountIn(view, (a) => a.use(createPinia()).use(router))
    await settle()
    const cell = [...element.querySelectorAll<HTMLElement>('td .cell')].find((c) => c.textContent?.trim() === LONG)
    expect(cell?.classList.contains('el-tooltip')).toBe(true)
    // The name still links to its page where it did.
    if (link) expect(cell?.querySelector('a')?.getAttribute('href')).toBe(link)
  }, 20_000) // the runs list's filters take seconds to mount on a loaded machine
})
