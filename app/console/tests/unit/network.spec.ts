import { describe, expect, it } from 'vitest'
import { untilAnswered, watchNetwork, type Timers } from '@/api/network'

/** A clock the test moves by hand: `tick()` runs what is due. */
function manualTimers(): Timers & { tick: () => void; due: number } {
  let queue: (() => void)[] = []
  return {
    set(run) {
      queue.push(run)
      return run
    },
    clear(handle) {
      queue = queue.filter((run) => run !== handle)
    },
    tick() {
      const now = queue
      queue = []
      now.forEach((run) => run())
    },
    get due() {
      return queue.length
    },
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('watchNetwork', () => {
  it('shows the loss, probes until the API answers, then hides it', async () => {
    const timers = manualTimers()
    let reachable = false
    const watch = watchNetwork(() => (reachable ? Promise.resolve('ok') : Promise.reject(new TypeError('Failed to fetch'))), 3000, timers)
    watch.failed()
    watch.failed() // a second failed call does not start a second probe
    expect(watch.state.lost).toBe(true)
    expect(timers.due).toBe(1)

    timers.tick() // probe 1: still unreachable, so another is scheduled
    await settle()
    expect(watch.state).toEqual({ lost: true, attempts: 1 })
    expect(timers.due).toBe(1)

    reachable = true
    timers.tick() // probe 2: the API answers
    await settle()
    expect(watch.state).toEqual({ lost: false, attempts: 0 })
    expect(timers.due).toBe(0)
  })

  it('an answer from any call ends the loss and the probing', () => {
    const timers = manualTimers()
    const watch = watchNetwork(() => Promise.reject(new TypeError('x')), 3000, timers)
    watch.failed()
    watch.answered()
    expect(watch.state.lost).toBe(false)
    expect(timers.due).toBe(0)
  })
})

describe('untilAnswered (a call sent again while the API gives no answer)', () => {
  class Answer extends Error {}
  const noWait = { sleep: () => Promise.resolve() }

  it('sends it again after a network error and tells each loss', async () => {
    let calls = 0
    let lost = 0
    const result = await untilAnswered(
      async () => {
        calls += 1
        if (calls < 3) throw new TypeError('Failed to fetch')
        return 'signed in'
      },
      (e) => e instanceof Answer,
      () => (lost += 1),
      noWait,
    )
    expect([result, calls, lost]).toEqual(['signed in', 3, 2])
  })

  it('stops at once when the API answered, and after its tries when it never does', async () => {
    let calls = 0
    const refused = untilAnswered(async () => { calls += 1; throw new Answer('wrong password') }, (e) => e instanceof Answer, () => {}, noWait)
    await expect(refused).rejects.toThrow('wrong password')
    expect(calls).toBe(1)
    calls = 0
    const gone = untilAnswered(async () => { calls += 1; throw new TypeError('Failed to fetch') }, (e) => e instanceof Answer, () => {}, { ...noWait, tries: 4 })
    await expect(gone).rejects.toThrow('Failed to fetch')
    expect(calls).toBe(4)
  })
})
