/** The namespace the console shows; null means every namespace the caller may see. */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Namespace } from '@/api/types'

const STORAGE_KEY = 'conveyor.namespace'

export const useNamespaceStore = defineStore('namespace', () => {
  const current = ref<string | null>(localStorage.getItem(STORAGE_KEY))
  const all = ref<Namespace[]>([])
  /** Where something new (a pipeline, a deployment, an upload) is made: the namespace shown, `default` under all of them. */
  const home = computed(() => current.value ?? 'default')

  async function load(): Promise<void> {
    all.value = unwrap(await api.GET('/api/v1/namespaces'))
    if (current.value && !all.value.some((n) => n.name === current.value)) choose(null)
  }

  function choose(name: string | null): void {
    current.value = name
    if (name) localStorage.setItem(STORAGE_KEY, name)
    else localStorage.removeItem(STORAGE_KEY)
  }

  /** The name of the namespace with this id (an id when it is not one the caller sees). */
  function nameOf(id: string): string {
    return all.value.find((n) => n.id === id)?.name ?? id
  }

  return { current, all, home, load, choose, nameOf }
})
