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

/**
 * `run` again while it fails without an answer from the API (a network error, a chunk that did not load), at most
 * `tries` times in all, `waitMs` apart; `onLost` is told before each wait. An ApiError (the API answered) ends it
 * at once: a wrong password is not tried again. `sleep` is the clock (injected in tests).
 */
export async function untilAnswered<T>(
  run: () => Promise<T>,
  isAnswer: (error: unknown) => boolean,
  onLost: () => void,
  { tries = 4, waitMs = RETRY_MS, sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms)) } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run()
    } catch (error) {
      if (isAnswer(error) || attempt >= tries) throw error
      onLost()
      await sleep(waitMs)
    }
  }
}
