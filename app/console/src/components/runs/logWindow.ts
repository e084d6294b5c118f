/**
 * The windowing maths of the live log: every line has the same height, so which lines are
 * visible follows from the scroll position alone, and only those (plus a small overscan) are
 * rendered — 10,000 lines cost as much DOM as 40.
 */

export interface LogWindow {
  /** Index of the first rendered line. */
  start: number
  /** Index one past the last rendered line. */
  end: number
  /** Pixels above the first rendered line (its offset inside the scrolled content). */
  offset: number
  /** Height of the whole log in pixels, so the scroll bar reflects every line. */
  height: number
}

/** The lines to render for a viewport of `viewport` px scrolled to `scrollTop`, with `overscan` lines either side. */
export function logWindow(scrollTop: number, viewport: number, lineHeight: number, total: number, overscan = 10): LogWindow {
  const height = total * lineHeight
  if (total === 0 || lineHeight <= 0) return { start: 0, end: 0, offset: 0, height: Math.max(height, 0) }
  const top = Math.min(Math.max(scrollTop, 0), Math.max(height - viewport, 0))
  const first = Math.floor(top / lineHeight)
  const visible = Math.ceil(Math.max(viewport, 0) / lineHeight) + 1
  const start = Math.max(first - overscan, 0)
  const end = Math.min(first + visible + overscan, total)
  return { start, end, offset: start * lineHeight, height }
}

/**
 * Whether a scroll position counts as "at the end" (then new lines are followed). A few pixels
 * of slack absorb sub-pixel scroll positions and zoom rounding.
 */
export function atEnd(scrollTop: number, viewport: number, scrollHeight: number, slack = 4): boolean {
  return scrollHeight - scrollTop - viewport <= slack
}
