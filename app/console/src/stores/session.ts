/**
 * The signed-in session. The access token lives in memory only; the refresh token is an httpOnly
 * cookie the page cannot read, sent only to POST /auth/refresh. A reload restores the session by
 * refreshing; a timer refreshes silently before the access token expires.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, useAuth } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Me, Tokens } from '@/api/types'
import { can, refreshDelayMs } from '@/utils/session'

export const useSessionStore = defineStore('session', () => {
  const token = ref<string | null>(null)
  const me = ref<Me | null>(null)
  const expired = ref(false)
  let timer: ReturnType<typeof setTimeout> | undefined
  let refreshing: Promise<boolean> | null = null
  let restored: Promise<boolean> | null = null

  const signedIn = computed(() => token.value !== null && me.value !== null)
  const mustChangePassword = computed(() => me.value?.user.must_change_password ?? false)

  function accept(tokens: Tokens): void {
    token.value = tokens.access_token
    expired.value = false
    clearTimeout(timer)
    timer = setTimeout(() => void refresh(), refreshDelayMs(tokens.expires_in))
  }

  function forget(): void {
    clearTimeout(timer)
    token.value = null
    me.value = null
  }

  async function loadMe(): Promise<void> {
    me.value = unwrap(await api.GET('/api/v1/auth/me'))
  }

  async function signIn(username: string, password: string): Promise<void> {
    const tokens = unwrap(
      await api.POST('/api/v1/auth/login', { body: { username, password, refresh_cookie: true } }),
    )
    accept(tokens)
    await loadMe()
  }

  /** Swap the cookie for a new access token; false when there is no valid session any more. */
  function refresh(): Promise<boolean> {
    refreshing ??= (async () => {
      try {
        const result = await api.POST('/api/v1/auth/refresh', { body: {} })
        if (!result.response.ok || !result.data) {
          forget()
          return false
        }
        accept(result.data)
        return true
      } catch {
        return false // network loss: keep the token we have, the next call tells
      } finally {
        refreshing = null
      }
    })()
    return refreshing
  }

  /** Once per page load: is there a session to resume (the cookie from an earlier sign-in)? */
  function restore(): Promise<boolean> {
    restored ??= (async () => {
      if (!(await refresh())) return false
      try {
        await loadMe()
        return true
      } catch {
        forget()
        return false
      }
    })()
    return restored
  }

  async function signOut(): Promise<void> {
    try {
      await api.POST('/api/v1/auth/logout')
    } finally {
      forget()
    }
  }

  async function changePassword(current: string, next: string): Promise<void> {
    unwrap(await api.POST('/api/v1/auth/password', { body: { current_password: current, new_password: next } }))
    await loadMe()
  }

  function may(permission: string, namespace: string | null): boolean {
    return can(me.value, permission, namespace)
  }

  useAuth({
    token: () => token.value,
    expired: () => {
      if (token.value !== null) {
        forget()
        expired.value = true
      }
    },
  })

  return { token, me, expired, signedIn, mustChangePassword, signIn, signOut, refresh, restore, changePassword, may }
})
