import { beforeEach, describe, expect, it, vi } from 'vitest'

const GET = vi.hoisted(() => vi.fn())
vi.mock('@/api/client', () => ({ api: { GET }, bearer: () => ({}) }))

const { NAMED_RESOURCES, findDatasets, findDeployments, findPipelines, findResources, findRuns, findTokens, findUploads, findUsers, findWebhooks } = await import(
  '@/utils/finders'
)

/** The API answering a list call with these items. */
function answers(items: Record<string, unknown>[]): void {
  GET.mockResolvedValueOnce({ data: { items, next_cursor: null }, response: new Response(null, { status: 200 }) })
}

const nightly = { id: '0190f5e2-0000-7000-8000-000000000001', name: 'nightly-sales', enabled: true }

describe('the searches behind the pickers', () => {
  beforeEach(() => GET.mockReset())

  it('asks the API for deployments by part of their name, not a first page searched in the browser', async () => {
    answers([nightly])
    expect(await findDeployments('  Nightly ', 'team')).toEqual([{ id: nightly.id, name: 'nightly-sales' }])
    expect(GET).toHaveBeenCalledWith('/api/v1/deployments', { params: { query: { limit: 20, search: 'Nightly', namespace: 'team' } } })
  })

  it('sends no empty search: an empty box lists the newest', async () => {
    answers([])
    await findDeployments('  ')
    answers([])
    await findDatasets('')
    expect(GET.mock.calls.map((c) => (c[1] as { params: { query: Record<string, unknown> } }).params.query.search)).toEqual([undefined, undefined])
  })

  it('asks the API for pipelines by part of their name, in any case (not an exact-case prefix)', async () => {
    answers([{ id: 'p1', name: 'nightly-sales' }])
    expect(await findPipelines(' SALES ', 'team')).toEqual([{ id: 'p1', name: 'nightly-sales' }])
    expect(GET).toHaveBeenCalledWith('/api/v1/pipelines', { params: { query: { limit: 20, search: 'SALES', namespace: 'team' } } })
  })

  it('asks the API for webhooks by part of their address or description, past its first page', async () => {
    answers([{ id: 'w1', url: 'https://example.com/h', description: '夜间报表' }])
    expect(await findWebhooks('报表', 'team')).toEqual([{ id: 'w1', name: '夜间报表' }])
    expect(GET).toHaveBeenCalledWith('/api/v1/webhooks', { params: { query: { limit: 20, search: '报表', namespace: 'team' } } })
  })

  it('finds runs by the names of what they ran, tokens by name and uploads by file name, on the server', async () => {
    answers([{ id: 'r1', names: { pipeline: 'sales', deployment: 'nightly', dataset: null } }, { id: 'r2', names: { pipeline: null, deployment: null, dataset: '日报' } }])
    expect(await findRuns('SAL', 'team')).toEqual([{ id: 'r1', name: 'sales / nightly' }, { id: 'r2', name: '日报' }])
    expect(GET).toHaveBeenLastCalledWith('/api/v1/runs', { params: { query: { limit: 20, search: 'SAL', namespace: 'team' } } })
    answers([{ id: 't1', name: 'CI' }])
    expect(await findTokens(' c ')).toEqual([{ id: 't1', name: 'CI' }])
    expect(GET).toHaveBeenLastCalledWith('/api/v1/tokens', { params: { query: { limit: 20, search: 'c', namespace: undefined } } })
    answers([{ id: 'u1', filename: '销售.csv' }])
    expect(await findUploads('销售')).toEqual([{ id: 'u1', name: '销售.csv' }])
    expect(GET).toHaveBeenLastCalledWith('/api/v1/uploads', { params: { query: { limit: 20, search: '销售', namespace: undefined } } })
  })

  it('names users by their username', async () => {
    answers([{ id: 'u1', username: 'alice', email: 'a@example.com' }])
    expect(await findUsers('ali')).toEqual([{ id: 'u1', name: 'alice' }])
  })
})

describe('the audit log\'s resource, found by name (findResources)', () => {
  beforeEach(() => GET.mockReset())
  const namespaces = [{ id: 'n1', name: 'default' }, { id: 'n2', name: 'finance' }]
  /** The API's answer to each list by its path, whatever it is asked. */
  const byPath = (lists: Record<string, Record<string, unknown>[]>) =>
    GET.mockImplementation((path: string) =>
      Promise.resolve({ data: { items: lists[path] ?? [], next_cursor: null }, response: new Response(null, { status: 200 }) }),
    )

  it('searches only the chosen type, by name, in the chosen namespace, and marks what it found with its kind', async () => {
    byPath({ '/api/v1/deployments': [nightly] })
    expect(await findResources('deployment', 'night', namespaces, 'finance')).toEqual([{ id: nightly.id, name: 'nightly-sales', kind: 'deployment' }])
    expect(GET).toHaveBeenCalledTimes(1)
    expect(GET).toHaveBeenCalledWith('/api/v1/deployments', { params: { query: { limit: 20, search: 'night', namespace: 'finance' } } })
  })

  it('with no type chosen searches every named type, and one that fails (a 403) takes nothing from the others', async () => {
    GET.mockImplementation((path: string) => {
      if (path === '/api/v1/users') return Promise.resolve({ error: { code: 'forbidden' }, response: new Response(null, { status: 403 }) })
      const items = path === '/api/v1/deployments' ? [nightly] : path === '/api/v1/webhooks' ? [{ id: 'w1', url: 'https://example.com/fin', description: '' }] : []
      return Promise.resolve({ data: { items, next_cursor: null }, response: new Response(null, { status: 200 }) })
    })
    const found = await findResources('', 'fin', namespaces)
    expect(found).toEqual([
      { id: nightly.id, name: 'nightly-sales', kind: 'deployment' },
      { id: 'w1', name: 'https://example.com/fin', kind: 'webhook' },
      { id: 'n2', name: 'finance', kind: 'namespace' },
    ])
    expect(new Set(GET.mock.calls.map((c) => c[0]))).toEqual(
      new Set(['/api/v1/pipelines', '/api/v1/deployments', '/api/v1/datasets', '/api/v1/runs', '/api/v1/webhooks', '/api/v1/users', '/api/v1/tokens', '/api/v1/uploads']),
    )
    expect(NAMED_RESOURCES).not.toContain('invite')
  })

  it('offers nothing to search for a type without names (an invite: its id is pasted)', async () => {
    byPath({})
    expect(await findResources('invite', 'x', namespaces)).toEqual([])
    expect(GET).not.toHaveBeenCalled()
  })
})
