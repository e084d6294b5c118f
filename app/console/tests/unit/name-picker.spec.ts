// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, ref, type App } from 'vue'
import NamePicker from '@/components/NamePicker.vue'
import type { Named } from '@/utils/pick'

/** A search whose answers the test gives, one text at a time, in the order it chooses (a slow or loaded API). */
function heldSearch() {
  const asked: { text: string; answer: (items: Named[]) => void }[] = []
  const search = (text: string) => new Promise<Named[]>((answer) => asked.push({ text, answer }))
  const answerAll = (text: string, items: Named[]) => asked.filter((a) => a.text === text).forEach((a) => a.answer(items))
  return { asked, search, answerAll }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await vi.advanceTimersByTimeAsync(400) // past the select's remote debounce (300 ms)
    await nextTick()
  }
}

const shown = () => [...document.querySelectorAll('.el-select-dropdown__item')].map((o) => o.getAttribute('data-id'))

let app: App | null = null

/** The picker mounted with `search`, its model held in `model` as a parent's v-model would hold it. */
function mountPicker(search: (text: string) => Promise<Named[]>) {
  const root = document.createElement('div')
  document.body.append(root)
  const model = ref('')
  const props = () => ({ modelValue: model.value, 'onUpdate:modelValue': (id: string) => (model.value = id), search, placeholder: 'p', label: 'l' })
  app = createApp({ render: () => h(NamePicker, props()) })
  app.mount(root)
  return { root, model }
}
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  vi.useRealTimers()
})

describe('a name picker', () => {
  it('shows what the typed text found, though the search made on opening answers after it', async () => {
    vi.useFakeTimers()
    const { asked, search, answerAll } = heldSearch()
    const { root } = mountPicker(search)

    // Opened, then typed into before the opening search answered: the select hides its empty menu while it waits
    // out its debounce and shows it again once the typed search starts.
    root.querySelector<HTMLElement>('.el-select__wrapper')?.click()
    await settle()
    const input = root.querySelector('input') as HTMLInputElement
    input.value = 'nightly'
    input.dispatchEvent(new Event('input'))
    await settle()
    expect(asked.map((a) => a.text)).toContain('nightly')

    answerAll('nightly', [{ id: 'n1', name: 'nightly-sales' }])
    answerAll('', [{ id: 'x1', name: 'newest' }, { id: 'x2', name: 'older' }])
    await settle()
    expect(shown()).toEqual(['n1'])
    expect(asked.map((a) => a.text)).toEqual(['', 'nightly']) // one search on opening, one for the typed text
  })

  it('searches afresh each time it opens, after a pick too', async () => {
    vi.useFakeTimers()
    const { asked, search, answerAll } = heldSearch()
    const { root, model } = mountPicker(search)
    root.querySelector<HTMLElement>('.el-select__wrapper')?.click()
    await settle()
    answerAll('', [{ id: 'x1', name: 'newest' }])
    await settle()
    document.querySelector<HTMLElement>('.el-select-dropdown__item[data-id=x1]')?.click()
    await settle()
    expect(model.value).toBe('x1')

    root.querySelector<HTMLElement>('.el-select__wrapper')?.click()
    await settle()
    expect(asked.map((a) => a.text)).toEqual(['', ''])
    answerAll('', [{ id: 'x2', name: 'newer still' }, { id: 'x1', name: 'newest' }])
    await settle()
    expect(shown()).toEqual(['x2', 'x1'])
  })
})
