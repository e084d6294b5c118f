/**
 * The API's enum codes as words a person reads (run status, kind, trigger), in the page's locale.
 * The words live in ./areas/enums.ts; the code stays the truth: components put it in `title` and `data-status`,
 * filters send it to the API, charts key their colours by it.
 */
import { useI18n } from 'vue-i18n'
import type { Run, RunStatus } from '@/api/types'

/** What each group's codes are: a group is one top-level key under `enums` in the messages. */
export interface EnumGroups {
  runStatus: RunStatus
  runKind: Run['kind']
  runTrigger: Run['trigger']
}
export type EnumGroup = keyof EnumGroups
/** One locale's words: every code of every group (the compiler checks the messages against the API's enums). */
export type EnumWords = { [G in EnumGroup]: Record<EnumGroups[G], string> }

/** The two calls of vue-i18n the label needs (a Composer has them; a test may pass its own). */
export interface Translator {
  t: (key: string) => string
  te: (key: string) => boolean
}

/** The word for `code` in `group`; a code with no word (a newer API's value) reads as itself, never as blank. */
export function enumLabel(i18n: Translator, group: EnumGroup, code: string | null | undefined): string {
  if (!code) return code ?? ''
  const key = `enums.${group}.${code}`
  return i18n.te(key) ? i18n.t(key) : code
}

/** enumLabel bound to the component's i18n, so a template re-renders when the locale switches. */
export function useEnumLabel(): <G extends EnumGroup>(group: G, code: EnumGroups[G] | string | null | undefined) => string {
  const { t, te } = useI18n()
  return (group, code) => enumLabel({ t, te }, group, code)
}
