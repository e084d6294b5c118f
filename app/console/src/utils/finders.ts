/**
 * The searches behind the filters that take an id (NamePicker): each asks the API for the things whose name holds
 * what was typed (a pipeline's: starts with it), in `namespace` when one is given, so a thing past the first page
 * of a list is found too.
 */
import { listDatasets } from '@/datasets/api'
import { listDeployments } from '@/deployments/api'
import { listPipelines } from '@/pipelines/api'
import { listUsers } from '@/settings/api'
import type { Named } from './pick'

/** A search of one kind of thing by (part of) its name. */
export type Finder = (text: string, namespace?: string) => Promise<Named[]>

/** How many a search of one kind offers. */
const SHOWN = 20

const only = (items: Named[]): Named[] => items.map(({ id, name }) => ({ id, name }))

export const findPipelines: Finder = async (text, namespace) => only((await listPipelines(text.trim(), undefined, namespace)).items)

export const findDeployments: Finder = async (text, namespace) =>
  only((await listDeployments({ search: text.trim() || undefined, namespace, limit: SHOWN })).items)

export const findDatasets: Finder = async (text, namespace) =>
  only((await listDatasets({ search: text.trim() || undefined, namespace, limit: SHOWN })).items)

/** Users by part of their username or email (every namespace: users belong to none). */
export const findUsers: Finder = async (text) => (await listUsers(text.trim())).items.map((u) => ({ id: u.id, name: u.username }))
