/** The namespace the console shows; null means every namespace the caller may see. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Namespace } from '@/api/types'

const STORAGE_KEY = 'conveyor.namespace'

export const useNamespaceStore = defineStore('namespace', () => {
  const current = ref<string | null>(localStorage.getItem(STORAGE_KEY))
  const all = ref<Namespace[]>([])

  async function load(): Promise<void> {
    all.value = unwrap(await api.GET('/api/v1/namespaces'))
    if (current.value && !all.value.some((n) => n.name === current.value)) choose(null)
  }

  function choose(name: string | null): void {
    current.value = name
    if (name) localStorage.setItem(STORAGE_KEY, name)
    else localStorage.removeItem(STORAGE_KEY)
  }

  return { current, all, load, choose }
})
