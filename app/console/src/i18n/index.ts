/** vue-i18n with zh-CN first (the default) and en; the choice is remembered in localStorage. */
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'
import { withAreas } from './areas'

export const LOCALES = ['zh-CN', 'en'] as const
export type Locale = (typeof LOCALES)[number]
const STORAGE_KEY = 'conveyor.locale'

export function initialLocale(stored: string | null): Locale {
  return (LOCALES as readonly string[]).includes(stored ?? '') ? (stored as Locale) : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE_KEY)),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': withAreas(zhCN, 'zh-CN'), en: withAreas(en, 'en') },
})

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(STORAGE_KEY, locale)
  document.documentElement.lang = locale
}
