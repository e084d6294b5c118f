// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { h, ref } from 'vue'
import type { DatasetPage, DatasetQuery } from '@/datasets/api'
import { cleanUp, heldSearch, mountIn, openAndType, settle, shownLabels } from './select-driver'

const held = heldSearch<DatasetPage>()
vi.mock('@/datasets/api', () => ({ listDatasets: (query: DatasetQuery) => held.search(query.search ?? '') }))
const { default: DatasetPicker } = await import('@/components/datasets/DatasetPicker.vue')

const page = (...names: string[]) => ({ items: names.map((name) => ({ id: `id-${name}`, name, current_version: 1 })), next_cursor: null }) as unknown as DatasetPage

afterEach(cleanUp)

describe("the run dialog's dataset picker", () => {
  it('shows what the typed text found, though the searches made before it answer after it', async () => {
    vi.useFakeTimers()
    const model = ref({ dataset: '', version: null as number | null })
    const { element } = mountIn({ render: () => h(DatasetPicker, { modelValue: model.value, label: 'input' }) })
    await openAndType(element, 'sales')
    expect(held.texts()).toContain('sales')
    held.answerAll('sales', page('nightly-sales'))
    held.answerAll('', page('newest', 'older'))
    await settle()
    expect(shownLabels()).toEqual(['nightly-sales'])
  })
})
