/**
 * The searches behind the filters that take an id (NamePicker): each asks the API for the things whose name holds
 * what was typed (any case: app/domain/name_search.py), in `namespace` when one is given, so a thing past the first
 * page of a list is found too.
 */
import { listDatasets, listUploads } from '@/datasets/api'
import { listDeployments } from '@/deployments/api'
import { listPipelines } from '@/pipelines/api'
import { listTokens, listUsers } from '@/settings/api'
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import { listWebhooks } from '@/webhooks/api'
import { named, type Named } from './pick'

/** A search of one kind of thing by (part of) its name. */
export type Finder = (text: string, namespace?: string) => Promise<Named[]>

/** How many a search of one kind offers. */
const SHOWN = 20

const only = (items: Named[]): Named[] => items.map(({ id, name }) => ({ id, name }))

export const findPipelines: Finder = async (text, namespace) =>
  only((await listPipelines({ search: text.trim() || undefined, namespace, limit: SHOWN })).items)

export const findDeployments: Finder = async (text, namespace) =>
  only((await listDeployments({ search: text.trim() || undefined, namespace, limit: SHOWN })).items)

export const findDatasets: Finder = async (text, namespace) =>
  only((await listDatasets({ search: text.trim() || undefined, namespace, limit: SHOWN })).items)

/** Users by part of their username or email (every namespace: users belong to none). */
export const findUsers: Finder = async (text) => (await listUsers(text.trim())).items.map((u) => ({ id: u.id, name: u.username }))

/** Webhooks by part of their description or address. */
export const findWebhooks: Finder = async (text, namespace) =>
  (await listWebhooks({ search: text.trim() || undefined, namespace, limit: SHOWN })).items.map((w) => ({ id: w.id, name: w.description || w.url }))

/** Runs by part of the name of their pipeline, deployment or dataset, each named by those (the picker adds its id). */
export const findRuns: Finder = async (text, namespace) => {
  const page = unwrap(await api.GET('/api/v1/runs', { params: { query: { search: text.trim() || undefined, namespace, limit: SHOWN } } }))
  return page.items.map((r) => ({ id: r.id, name: [r.names?.pipeline ?? r.names?.dataset, r.names?.deployment].filter(Boolean).join(' / ') || r.id }))
}

/** API tokens by part of their name: every token of `namespace` when one is given (namespace admins), else one's own. */
export const findTokens: Finder = async (text, namespace) =>
  (await listTokens({ search: text.trim() || undefined, namespace, limit: SHOWN })).items.map((t) => ({ id: t.id, name: t.name ?? t.id }))

/** Uploads by part of their file name. */
export const findUploads: Finder = async (text, namespace) =>
  (await listUploads({ search: text.trim() || undefined, namespace, limit: SHOWN })).items.map((u) => ({ id: u.id, name: u.filename }))

/** The audit log's resource types a person can find by name; the others (an invite) are found by a pasted id. */
export const NAMED_RESOURCES = ['pipeline', 'deployment', 'dataset', 'run', 'webhook', 'user', 'namespace', 'token', 'upload'] as const

/** How many of each kind a search of every kind offers, so one kind does not crowd out the others. */
const SHOWN_PER_KIND = 8

/**
 * The audit log's resources whose name holds `text`: of `type` only when one is chosen (none when it is a type
 * with no names), else of every named type, each marked with its `kind` so picking one may set the type filter
 * too. Namespaces are those the page knows (`namespaces`); a kind whose search fails offers nothing, not an error.
 */
export async function findResources(type: string, text: string, namespaces: Named[], namespace?: string): Promise<Named[]> {
  const finders: Record<(typeof NAMED_RESOURCES)[number], Finder> = {
    pipeline: findPipelines,
    deployment: findDeployments,
    dataset: findDatasets,
    run: findRuns,
    webhook: findWebhooks,
    user: findUsers,
    token: findTokens,
    upload: findUploads,
    namespace: async (typed) => named(namespaces, typed),
  }
  const kinds = type ? NAMED_RESOURCES.filter((k) => k === type) : NAMED_RESOURCES
  const found = await Promise.all(
    kinds.map(async (kind) => {
      const items = await finders[kind](text, namespace).catch((): Named[] => [])
      return (type ? items : items.slice(0, SHOWN_PER_KIND)).map(({ id, name }) => ({ id, name, kind }))
    }),
  )
  return found.flat()
}
