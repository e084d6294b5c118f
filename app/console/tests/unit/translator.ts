/** The console's own messages in a locale, as the app loads them, behind the two calls the label functions use. */
import { createI18n } from 'vue-i18n'
import baseEn from '@/i18n/en'
import baseZhCN from '@/i18n/zh-CN'
import { withAreas } from '@/i18n/areas'
import type { Translator } from '@/i18n/enums'
import type { NamedTranslator } from '@/i18n/notices'

export function translator(locale: 'zh-CN' | 'en'): Translator {
  const named = namedTranslator(locale)
  return { t: (key) => named.t(key), te: named.te }
}

/** The same, with named parameters for sentences (`te` answers for this locale's own messages only). */
export function namedTranslator(locale: 'zh-CN' | 'en'): NamedTranslator {
  const i18n = createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'zh-CN',
    messages: { 'zh-CN': withAreas(baseZhCN, 'zh-CN'), en: withAreas(baseEn, 'en') },
  })
  return { t: (key, named) => i18n.global.t(key, named ?? {}), te: (key) => i18n.global.te(key, locale) }
}
