/**
 * A dataset's versions as the console shows them: GET of one dataset embeds only its newest few (and how many there
 * are in all, and the cursor to the rest); the rest come page by page from GET .../versions.
 */
import { listVersions, type Dataset, type DatasetVersion, type DatasetVersionPage, type DatasetVersionQuery } from '@/datasets/api'
import type { ImportNotice } from '@/i18n/notices'

/** The versions loaded so far, newest first; `next` is the cursor to the older ones (null: all are loaded). */
export interface LoadedVersions {
  items: DatasetVersion[]
  next: string | null
  total: number
}

type FetchPage = (id: string, query: DatasetVersionQuery) => Promise<DatasetVersionPage>

/** How many versions a "load more" asks for. */
export const VERSIONS_PAGE = 50

/** What the dataset's own answer holds: its newest versions, their total and the cursor to the rest. */
export function embeddedVersions(dataset: Dataset): LoadedVersions {
  const items = dataset.versions ?? []
  return { items, next: dataset.versions_next_cursor ?? null, total: dataset.version_count ?? items.length }
}

/** The next page of older versions after those loaded (unchanged when all are loaded). */
export async function moreVersions(id: string, loaded: LoadedVersions, fetchPage: FetchPage = listVersions): Promise<LoadedVersions> {
  if (loaded.next === null) return loaded
  const page = await fetchPage(id, { cursor: loaded.next, limit: VERSIONS_PAGE })
  const known = new Set(loaded.items.map((v) => v.version))
  return { items: [...loaded.items, ...page.items.filter((v) => !known.has(v.version))], next: page.next_cursor, total: loaded.total }
}

/** The version run `runId` wrote into the dataset, however many came after it; null when it wrote none. */
export async function versionOfRun(id: string, runId: string, fetchPage: FetchPage = listVersions): Promise<DatasetVersion | null> {
  return (await fetchPage(id, { run_id: runId, limit: 1 })).items[0] ?? null
}

/**
 * What a version warned of, as notices to word in the page's language: its `notices` (codes and parameters), or, for
 * a version written before they were kept, its English `warnings` as `other` (read as written).
 */
export function versionNotices(version: DatasetVersion): ImportNotice[] {
  return version.notices ?? version.warnings.map((message) => ({ code: 'other' as const, message }))
}
