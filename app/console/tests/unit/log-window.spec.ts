import { describe, expect, it } from 'vitest'
import { atEnd, logWindow } from '@/components/runs/logWindow'

describe('logWindow', () => {
  it('renders only the lines in view plus the overscan', () => {
    // 10,000 lines of 18 px in a 360 px box scrolled to line 1,000.
    const view = logWindow(18_000, 360, 18, 10_000, 10)
    expect(view).toEqual({ start: 990, end: 1_031, offset: 990 * 18, height: 180_000 })
    expect(view.end - view.start).toBeLessThan(50)
  })

  it('starts at 0 at the top and stops at the last line at the bottom', () => {
    expect(logWindow(0, 360, 18, 10_000, 5)).toMatchObject({ start: 0, end: 26, offset: 0 })
    const bottom = logWindow(180_000 - 360, 360, 18, 10_000, 5)
    expect(bottom.end).toBe(10_000)
    expect(bottom.start).toBe(10_000 - 20 - 5)
  })

  it('clamps a scroll position beyond the content (the log shrank, or overscroll)', () => {
    expect(logWindow(1e9, 360, 18, 100, 0)).toEqual({ start: 80, end: 100, offset: 80 * 18, height: 1_800 })
    expect(logWindow(-50, 360, 18, 100, 0)).toMatchObject({ start: 0, offset: 0 })
  })

  it('renders every line of a log shorter than the box', () => {
    expect(logWindow(0, 360, 18, 7)).toEqual({ start: 0, end: 7, offset: 0, height: 126 })
    expect(logWindow(0, 360, 18, 0)).toEqual({ start: 0, end: 0, offset: 0, height: 0 })
  })
})

describe('atEnd', () => {
  it('is true at the bottom, within the slack, and false once the user scrolled up', () => {
    expect(atEnd(1_640, 360, 2_000)).toBe(true)
    expect(atEnd(1_637, 360, 2_000)).toBe(true)
    expect(atEnd(1_600, 360, 2_000)).toBe(false)
    expect(atEnd(0, 360, 200)).toBe(true) // content shorter than the box
  })
})
