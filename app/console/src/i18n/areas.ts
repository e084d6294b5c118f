/**
 * Message areas: each file in ./areas/ holds one top-level key's messages in both languages,
 * so pages added side by side (data center, deployments, settings…) never edit the same file.
 */
export interface MessageArea {
  /** The top-level key the messages live under, e.g. 'datasets' for $t('datasets.title'). */
  key: string
  'zh-CN': Record<string, unknown>
  en: Record<string, unknown>
}

const modules = import.meta.glob<{ default: MessageArea }>('./areas/*.ts', { eager: true })

export const AREAS: MessageArea[] = Object.values(modules).map((module) => module.default)

/** The base messages with every area added under its key; a key clash is a programming error. */
export function withAreas<T extends object>(base: T, locale: 'zh-CN' | 'en'): T {
  const merged = { ...base } as Record<string, unknown>
  for (const area of AREAS) {
    if (area.key in merged) throw new Error(`i18n area "${area.key}" clashes with an existing key`)
    merged[area.key] = area[locale]
  }
  return merged as T
}
