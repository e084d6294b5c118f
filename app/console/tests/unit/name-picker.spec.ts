// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { h, nextTick, ref } from 'vue'
import NamePicker from '@/components/NamePicker.vue'
import type { Named } from '@/utils/pick'
import { cleanUp, heldSearch, mountIn, openAndType, settle, shownIds } from './select-driver'

afterEach(cleanUp)

const DATASET = '0190f5e2-0000-7000-8000-000000000001'

/** The picker mounted with `search`, its model held in `model` as a parent's v-model would hold it, its picks in `picked`. */
function mountPicker(search: (text: string) => Promise<Named[]>) {
  const model = ref('')
  const picked: (Named | null)[] = []
  const props = () => ({
    modelValue: model.value, 'onUpdate:modelValue': (id: string) => (model.value = id), onPick: (o: Named | null) => picked.push(o), search, placeholder: 'p', label: 'l',
  })
  return { element: mountIn({ render: () => h(NamePicker, props()) }).element, model, picked }
}

describe('a name picker', () => {
  it('shows what the typed text found, though the search made on opening answers after it', async () => {
    vi.useFakeTimers()
    const { search, answerAll, texts } = heldSearch<Named[]>()
    const { element } = mountPicker(search)

    // Opened, then typed into before the opening search answered: the select hides its empty menu while it waits
    // out its debounce and shows it again once the typed search starts.
    await openAndType(element, 'nightly')
    expect(texts()).toContain('nightly')
    answerAll('nightly', [{ id: 'n1', name: 'nightly-sales' }])
    answerAll('', [{ id: 'x1', name: 'newest' }, { id: 'x2', name: 'older' }])
    await settle()
    expect(shownIds()).toEqual(['n1'])
    expect(texts()).toEqual(['', 'nightly']) // one search on opening, one for the typed text
  })

  it('offers a pasted id as itself at once, not with the kind the search before gave it', async () => {
    vi.useFakeTimers()
    const { search, answerAll } = heldSearch<Named[]>()
    const { element, picked } = mountPicker(search)
    element.querySelector<HTMLElement>('.el-select__wrapper')?.click()
    await settle()
    answerAll('', [{ id: DATASET, name: 'sales', kind: 'dataset' }, { id: 'd1', name: 'nightly', kind: 'deployment' }])
    await settle()

    // Pasted and picked at once, within the select's debounce (a quick click, or a click on a loaded machine).
    const input = element.querySelector('input') as HTMLInputElement
    input.value = ` ${DATASET.toUpperCase()} `
    input.dispatchEvent(new Event('input', { bubbles: true }))
    await nextTick()
    expect(shownIds()).toEqual([DATASET])
    document.querySelector<HTMLElement>(`.el-select-dropdown__item[data-id="${DATASET}"]`)?.click()
    await settle()
    expect(picked).toEqual([{ id: DATASET, name: DATASET }]) // no kind: the audit log's type filter stays as it was
  })

  it('searches afresh each time it opens, after a pick too', async () => {
    vi.useFakeTimers()
    const { search, answerAll, texts } = heldSearch<Named[]>()
    const { element, model } = mountPicker(search)
    element.querySelector<HTMLElement>('.el-select__wrapper')?.click()
    await settle()
    answerAll('', [{ id: 'x1', name: 'newest' }])
    await settle()
    document.querySelector<HTMLElement>('.el-select-dropdown__item[data-id=x1]')?.click()
    await settle()
    expect(model.value).toBe('x1')

    element.querySelector<HTMLElement>('.el-select__wrapper')?.click()
    await settle()
    expect(texts()).toEqual(['', ''])
    answerAll('', [{ id: 'x2', name: 'newer still' }, { id: 'x1', name: 'newest' }])
    await settle()
    expect(shownIds()).toEqual(['x2', 'x1'])
  })
})
