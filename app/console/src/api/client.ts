/**
 * The one HTTP client of the console: openapi-fetch over the generated `paths`, sending the
 * in-memory access token and telling the session when the API says it is no longer valid.
 */
import createClient, { type Middleware } from 'openapi-fetch'
import { network } from './network'
import type { paths } from './schema'

export interface Auth {
  token: () => string | null
  /** Called when an authenticated call answers 401: the session is over. */
  expired: () => void
}

let auth: Auth = { token: () => null, expired: () => undefined }

export function useAuth(next: Auth): void {
  auth = next
}

export function bearer(): Record<string, string> {
  const token = auth.token()
  return token ? { Authorization: `Bearer ${token}` } : {}
}

const authorize: Middleware = {
  onRequest({ request }) {
    const token = auth.token()
    if (token && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${token}`)
    }
    return request
  },
  onResponse({ request, response }) {
    network.answered()
    if (response.status === 401 && request.headers.has('Authorization')) {
      auth.expired()
    }
    return response
  },
  onError({ error }) {
    // fetch rejects with a TypeError when no answer came at all (offline, server gone, connection reset)
    if (error instanceof TypeError) network.failed()
    throw error
  },
}

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' })
api.use(authorize)
