// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { h, ref } from 'vue'
import NamePicker from '@/components/NamePicker.vue'
import type { Named } from '@/utils/pick'
import { cleanUp, heldSearch, mountIn, openAndType, settle, shownIds } from './select-driver'

afterEach(cleanUp)

/** The picker mounted with `search`, its model held in `model` as a parent's v-model would hold it. */
function mountPicker(search: (text: string) => Promise<Named[]>) {
  const model = ref('')
  const props = () => ({ modelValue: model.value, 'onUpdate:modelValue': (id: string) => (model.value = id), search, placeholder: 'p', label: 'l' })
  return { element: mountIn({ render: () => h(NamePicker, props()) }).element, model }
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
