/** The account endpoints the Settings pages call, over the one API client. */
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Ok, Query, Role } from '@/api/types'

export type User = Ok<'/api/v1/users/{user_id}', 'get'>
export type UserPage = Ok<'/api/v1/users', 'get'>
export type InvitePage = Ok<'/api/v1/invites', 'get'>
export type Invite = InvitePage['items'][number]
export type CreatedInvite = Ok<'/api/v1/invites', 'post'>
export type MemberPage = Ok<'/api/v1/namespaces/{namespace}/members', 'get'>
export type Member = MemberPage['items'][number]
export type TokenPage = Ok<'/api/v1/tokens', 'get'>
export type ApiToken = TokenPage['items'][number]
export type TokenQuery = Query<'/api/v1/tokens', 'get'>
export type CreatedToken = Ok<'/api/v1/tokens', 'post'>
export type PasswordRules = Ok<'/api/v1/auth/password-rules', 'get'>
export type AuditPage = Ok<'/api/v1/audit', 'get'>
export type AuditEntry = AuditPage['items'][number]
export type AuditQuery = Query<'/api/v1/audit', 'get'>
export type { Role }
/** Each role's rank, lowest first: a Record, so a role the API adds to its enum fails type-checking until it is here. */
const RANK: Record<Role, number> = { viewer: 1, operator: 2, editor: 3, admin: 4 }
/** The API's roles (its RoleName enum), lowest first. */
export const ROLES = (Object.keys(RANK) as Role[]).sort((a, b) => RANK[a] - RANK[b])

export async function passwordRules(): Promise<PasswordRules> {
  return unwrap(await api.GET('/api/v1/auth/password-rules'))
}

export async function updateProfile(body: { display_name?: string | null; email?: string | null }): Promise<User> {
  return unwrap(await api.PATCH('/api/v1/auth/me', { body }))
}

export async function listUsers(search: string, cursor?: string): Promise<UserPage> {
  return unwrap(await api.GET('/api/v1/users', { params: { query: { search: search || undefined, cursor, limit: 100 } } }))
}

export async function createUser(body: { username: string; password: string; email?: string | null; display_name: string; is_superuser: boolean }): Promise<User> {
  return unwrap(await api.POST('/api/v1/users', { body }))
}

export async function setDisabled(id: string, disabled: boolean): Promise<User> {
  const params = { path: { user_id: id } }
  return unwrap(disabled ? await api.POST('/api/v1/users/{user_id}/disable', { params }) : await api.POST('/api/v1/users/{user_id}/enable', { params }))
}

export async function resetPassword(id: string): Promise<string> {
  return unwrap(await api.POST('/api/v1/users/{user_id}/reset-password', { params: { path: { user_id: id } } })).temporary_password
}

/** A page of invites, newest first: the first without `cursor`, the next with the page before's `next_cursor`. */
export async function listInvites(cursor?: string, limit = 50): Promise<InvitePage> {
  return unwrap(await api.GET('/api/v1/invites', { params: { query: { cursor, limit } } }))
}

export async function createInvite(body: { email?: string | null; namespace?: string | null; role?: Role | null; expires_in_days: number }): Promise<CreatedInvite> {
  return unwrap(await api.POST('/api/v1/invites', { body }))
}

export async function revokeInvite(id: string): Promise<void> {
  unwrap(await api.DELETE('/api/v1/invites/{invite_id}', { params: { path: { invite_id: id } } }))
}

/** A page of a namespace's members, newest first (the next with the page before's `next_cursor`). */
export async function listMembers(namespace: string, cursor?: string, limit = 50): Promise<MemberPage> {
  return unwrap(await api.GET('/api/v1/namespaces/{namespace}/members', { params: { path: { namespace }, query: { cursor, limit } } }))
}

export async function addMember(namespace: string, username: string, role: Role): Promise<Member> {
  return unwrap(await api.POST('/api/v1/namespaces/{namespace}/members', { params: { path: { namespace } }, body: { username, role } }))
}

export async function setMember(namespace: string, userId: string, role: Role): Promise<Member> {
  return unwrap(await api.PUT('/api/v1/namespaces/{namespace}/members/{user_id}', { params: { path: { namespace, user_id: userId } }, body: { role } }))
}

export async function removeMember(namespace: string, userId: string): Promise<void> {
  unwrap(await api.DELETE('/api/v1/namespaces/{namespace}/members/{user_id}', { params: { path: { namespace, user_id: userId } } }))
}

export async function createNamespace(name: string, description: string): Promise<void> {
  unwrap(await api.POST('/api/v1/namespaces', { body: { name, description } }))
}

/**
 * A page of one's API tokens, newest first (with `namespace`: every token there, for its admins), only those whose
 * name holds `search` (any case; the API searches) when one is given; the next page with the same query and `cursor`.
 */
export async function listTokens(query: TokenQuery = {}): Promise<TokenPage> {
  return unwrap(await api.GET('/api/v1/tokens', { params: { query } }))
}

export async function createToken(body: { name: string; namespace: string; role: Role; expires_in_days?: number | null }): Promise<CreatedToken> {
  return unwrap(await api.POST('/api/v1/tokens', { body }))
}

export async function revokeToken(id: string): Promise<void> {
  unwrap(await api.DELETE('/api/v1/tokens/{token_id}', { params: { path: { token_id: id } } }))
}

export async function listAudit(query: AuditQuery): Promise<AuditPage> {
  return unwrap(await api.GET('/api/v1/audit', { params: { query } }))
}
