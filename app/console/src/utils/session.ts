/** Pure rules of the console's session: when to refresh, and what the caller may do where. */
import type { Me } from '@/api/types'

/** Refresh at 80 % of the access token's life, never later than 30 s before it ends, never sooner than 5 s. */
export function refreshDelayMs(expiresInSeconds: number): number {
  const seconds = Math.min(expiresInSeconds * 0.8, expiresInSeconds - 30)
  return Math.max(5, seconds) * 1000
}

/**
 * Whether `me` holds `permission` (e.g. "runs:operate") in the namespace `namespace` (its name or id), or in
 * some namespace when it is null; instance admins hold everything. The server stays the authority.
 */
export function can(me: Me | null, permission: string, namespace: string | null): boolean {
  if (!me) return false
  if (me.user.is_superuser) return true
  if ((me.permissions ?? []).includes(permission)) return true
  return me.roles.some(
    (role) => (namespace === null || role.namespace === namespace || role.namespace_id === namespace) && (role.permissions ?? []).includes(permission),
  )
}

/** Where to go after signing in: the page the user was sent away from, if it is one of ours. */
export function afterSignIn(redirect: unknown): string {
  return typeof redirect === 'string' && redirect.startsWith('/') && !redirect.startsWith('//') ? redirect : '/'
}
