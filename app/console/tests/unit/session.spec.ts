import { describe, expect, it } from 'vitest'
import type { Me } from '@/api/types'
import { afterSignIn, can, refreshDelayMs } from '@/utils/session'

function me(roles: Me['roles'], superuser = false): Me {
  return {
    user: {
      id: 'u',
      username: 'vic',
      email: null,
      display_name: '',
      is_superuser: superuser,
      is_disabled: false,
      must_change_password: false,
      created_at: '2026-01-01T00:00:00Z',
      last_login_at: null,
    },
    roles,
    token_kind: 'access',
    permissions: ['self'],
  }
}

const viewer = me([{ namespace_id: 'n1', namespace: 'default', role: 'viewer', permissions: ['runs:read'] }])

describe('session rules', () => {
  it('refreshes well before the access token expires', () => {
    expect(refreshDelayMs(900)).toBe(720_000)
    expect(refreshDelayMs(60)).toBe(30_000)
    expect(refreshDelayMs(10)).toBe(5_000)
  })

  it('shows only what the role allows, in the chosen namespace', () => {
    expect(can(viewer, 'runs:read', 'default')).toBe(true)
    expect(can(viewer, 'runs:read', 'n1')).toBe(true)
    expect(can(viewer, 'runs:operate', 'default')).toBe(false)
    expect(can(viewer, 'runs:read', 'other')).toBe(false)
    expect(can(viewer, 'runs:read', null)).toBe(true)
    expect(can(viewer, 'self', 'other')).toBe(true)
    expect(can(me([], true), 'pipelines:write', 'anything')).toBe(true)
    expect(can(null, 'runs:read', null)).toBe(false)
  })

  it('goes back only to a page of this console after sign-in', () => {
    expect(afterSignIn('/runs/1?x=2')).toBe('/runs/1?x=2')
    expect(afterSignIn('//evil.example/')).toBe('/')
    expect(afterSignIn('https://evil.example/')).toBe('/')
    expect(afterSignIn(undefined)).toBe('/')
  })
})
