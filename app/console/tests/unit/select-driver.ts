/**
 * Driving a real Element Plus select in a component test (happy-dom): searches the test answers when and in the order
 * it chooses, as a slow or loaded API would, and the user's clicks and typing.
 */
import { vi } from 'vitest'
import { createApp, nextTick, type App, type Component } from 'vue'
import { createI18n } from 'vue-i18n'

/** One search asked and not yet answered. */
interface Asked<T> { text: string; answer: (items: T) => void }

/** A search whose answers the test gives (`answerAll`), one text at a time. */
export function heldSearch<T>() {
  const asked: Asked<T>[] = []
  const search = (text: string) => new Promise<T>((answer) => asked.push({ text, answer }))
  const answerAll = (text: string, items: T) => asked.filter((a) => a.text === text).forEach((a) => a.answer(items))
  return { asked, search, answerAll, texts: () => asked.map((a) => a.text) }
}

/** Let the select wait out its remote debounce (300 ms) and the answers given reach the page (fake timers). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await vi.advanceTimersByTimeAsync(400)
    await nextTick()
  }
}

/** The ids (data-id) or labels of the options the open menu lists. */
export const shownIds = () => [...document.querySelectorAll('.el-select-dropdown__item')].map((o) => o.getAttribute('data-id'))
export const shownLabels = () => [...document.querySelectorAll('.el-select-dropdown__item')].map((o) => o.textContent?.trim())

const mounted: App[] = []

/**
 * Mounts `root` (with an i18n that answers keys as themselves, and whatever else `install` adds: a store, a router)
 * in a fresh element of the page (until `cleanUp`).
 */
export function mountIn(root: Component, install?: (app: App) => void): { app: App; element: HTMLElement } {
  const element = document.createElement('div')
  document.body.append(element)
  const app = createApp(root)
  app.use(createI18n({ legacy: false, locale: 'en', messages: { en: {} }, missingWarn: false, fallbackWarn: false }))
  install?.(app)
  app.mount(element)
  mounted.push(app)
  return { app, element }
}

/** After each test: what it mounted is gone, and time is real again. */
export function cleanUp(): void {
  mounted.splice(0).forEach((app) => app.unmount())
  document.body.innerHTML = ''
  vi.useRealTimers()
}

/** Open the select (a click on it), then type `text` into it (one input event, as a paste or fast typing). */
export async function openAndType(element: HTMLElement, text: string): Promise<void> {
  element.querySelector<HTMLElement>('.el-select__wrapper')?.click()
  await settle()
  const input = element.querySelector('input') as HTMLInputElement
  input.value = text
  input.dispatchEvent(new Event('input'))
  await settle()
}
