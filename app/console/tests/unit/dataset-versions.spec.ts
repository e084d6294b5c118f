import { describe, expect, it } from 'vitest'
import type { Dataset, DatasetVersion, DatasetVersionPage, DatasetVersionQuery } from '@/datasets/api'
import { embeddedVersions, moreVersions, versionNotices, versionOfRun, VERSIONS_PAGE } from '@/datasets/versions'
import { createI18n } from 'vue-i18n'
import baseZhCN from '@/i18n/zh-CN'
import { withAreas } from '@/i18n/areas'
import { noticeText, type NamedTranslator } from '@/i18n/notices'

const version = (n: number): DatasetVersion => ({
  version: n, run_id: `run-${n}`, created_at: '2026-01-01T00:00:00Z', row_count: n, size_bytes: 1, source_bytes: 1,
  rejected_rows: 0, columns: [], config: {}, warnings: [], notices: null, lineage: null, made_by: null,
})

/** A dataset of `total` versions as the API answers: the newest 20 embedded, the rest paged by version number. */
function server(total: number): { dataset: Dataset; asked: DatasetVersionQuery[]; fetchPage: (id: string, q: DatasetVersionQuery) => Promise<DatasetVersionPage> } {
  const all = Array.from({ length: total }, (_, i) => version(total - i))
  const asked: DatasetVersionQuery[] = []
  const fetchPage = (_id: string, q: DatasetVersionQuery): Promise<DatasetVersionPage> => {
    asked.push(q)
    if (q.run_id) return Promise.resolve({ items: all.filter((v) => v.run_id === q.run_id), next_cursor: null })
    const below = Number(q.cursor)
    const rest = all.filter((v) => v.version < below)
    const items = rest.slice(0, q.limit ?? 50)
    return Promise.resolve({ items, next_cursor: rest.length > items.length ? String(items.at(-1)?.version) : null })
  }
  const embedded = all.slice(0, 20)
  const dataset = {
    versions: embedded, version_count: total, versions_next_cursor: total > 20 ? String(embedded.at(-1)?.version) : null,
  } as unknown as Dataset
  return { dataset, asked, fetchPage }
}

describe('dataset versions', () => {
  it('starts from the embedded newest versions and pages in every older one once, down to the first', async () => {
    const { dataset, asked, fetchPage } = server(130)
    let loaded = embeddedVersions(dataset)
    expect([loaded.items.length, loaded.total]).toEqual([20, 130])
    while (loaded.next !== null) loaded = await moreVersions('d', loaded, fetchPage)
    expect(loaded.items.map((v) => v.version)).toEqual(Array.from({ length: 130 }, (_, i) => 130 - i))
    expect(asked.map((q) => q.limit)).toEqual([VERSIONS_PAGE, VERSIONS_PAGE, VERSIONS_PAGE])
    expect(await moreVersions('d', loaded, fetchPage)).toBe(loaded) // all loaded: nothing asked
    expect(asked).toHaveLength(3)
  })

  it('asks nothing more for a dataset whose versions all came embedded', () => {
    const { dataset } = server(3)
    expect(embeddedVersions(dataset)).toEqual({ items: [version(3), version(2), version(1)], next: null, total: 3 })
  })

  it("finds an import's version by its run, however many came after it", async () => {
    const { fetchPage } = server(500)
    expect((await versionOfRun('d', 'run-7', fetchPage))?.version).toBe(7)
    expect(await versionOfRun('d', 'run-none', fetchPage)).toBeNull()
  })
})

describe('a version\'s warnings (versionNotices, worded by noticeText)', () => {
  const i18n = createI18n({ legacy: false, locale: 'zh-CN', messages: { 'zh-CN': withAreas(baseZhCN, 'zh-CN') } })
  const words: NamedTranslator = { t: (key, named) => i18n.global.t(key, named ?? {}), te: (key) => i18n.global.te(key) }
  const warned: DatasetVersion = {
    ...version(2),
    warnings: ["duplicate column name 'name' (column 2); renamed it 'name_2'"],
    notices: [{ code: 'duplicate_column', message: "duplicate column name 'name' (column 2); renamed it 'name_2'", name: 'name', column: 2, renamed: 'name_2' }],
  }

  it('words a version\'s notices in the page\'s language, not the stored English', () => {
    expect(versionNotices(warned).map((n) => noticeText(words, n))).toEqual(['列名“name”重复（第 2 列），已改名为“name_2”'])
  })

  it('shows an older version\'s English text as written (it has no notices)', () => {
    const old: DatasetVersion = { ...version(1), warnings: ['an old warning'], notices: null }
    expect(versionNotices(old).map((n) => noticeText(words, n))).toEqual(['an old warning'])
    expect(versionNotices(version(3))).toEqual([])
  })
})
