/**
 * Network loss: a fetch that fails without an answer marks the API unreachable; from then on a probe asks the API
 * again every few seconds until anything answers (even an error status means the network is back). The banner in
 * App.vue shows while `state.lost` holds.
 */
import { reactive } from 'vue'

export const RETRY_MS = 3000

export interface Timers {
  set: (run: () => void, ms: number) => unknown
  clear: (handle: unknown) => void
}

export interface NetworkWatch {
  readonly state: { lost: boolean; attempts: number }
  /** A call got no answer at all. */
  failed(): void
  /** A call got an answer (any status). */
  answered(): void
}

/** `probe` resolves when the API answers and rejects on a network error; `timers` is the clock (injected in tests). */
export function watchNetwork(
  probe: () => Promise<unknown>,
  retryMs: number = RETRY_MS,
  timers: Timers = { set: (run, ms) => setTimeout(run, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
): NetworkWatch {
  const state = reactive({ lost: false, attempts: 0 })
  let pending: unknown = null

  function schedule(): void {
    if (pending !== null) return
    pending = timers.set(() => {
      pending = null
      state.attempts += 1
      probe().then(answered, schedule)
    }, retryMs)
  }

  function failed(): void {
    state.lost = true
    schedule()
  }

  function answered(): void {
    state.lost = false
    state.attempts = 0
    if (pending !== null) timers.clear(pending)
    pending = null
  }

  return { state, failed, answered }
}

export const network = watchNetwork(() => fetch('/api/v1/healthz', { cache: 'no-store' }))
