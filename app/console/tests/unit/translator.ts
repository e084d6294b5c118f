/** The console's own messages in a locale, as the app loads them, behind the two calls the label functions use. */
import { createI18n } from 'vue-i18n'
import baseEn from '@/i18n/en'
import baseZhCN from '@/i18n/zh-CN'
import { withAreas } from '@/i18n/areas'
import type { Translator } from '@/i18n/enums'

export function translator(locale: 'zh-CN' | 'en'): Translator {
  const i18n = createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'zh-CN',
    messages: { 'zh-CN': withAreas(baseZhCN, 'zh-CN'), en: withAreas(baseEn, 'en') },
  })
  return { t: (key) => i18n.global.t(key), te: (key) => i18n.global.te(key) }
}
