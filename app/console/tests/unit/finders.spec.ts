import { beforeEach, describe, expect, it, vi } from 'vitest'

const GET = vi.hoisted(() => vi.fn())
vi.mock('@/api/client', () => ({ api: { GET }, bearer: () => ({}) }))

const { findDatasets, findDeployments, findUsers } = await import('@/utils/finders')

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

  it('names users by their username', async () => {
    answers([{ id: 'u1', username: 'alice', email: 'a@example.com' }])
    expect(await findUsers('ali')).toEqual([{ id: 'u1', name: 'alice' }])
  })
})
