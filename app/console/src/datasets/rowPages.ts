import type { Rows } from '@/datasets/api'

/**
 * The rows a page still lacks when the API stopped it early (its rows passed the bytes a page may take): where
 * the rest starts and how many rows it is, or null when the page is whole. The API says where with `next_offset`.
 */
export function restOfPage(page: Rows): { offset: number; limit: number } | null {
  const end = page.offset + page.limit
  if (page.next_offset === null || page.next_offset >= end) return null
  return { offset: page.next_offset, limit: end - page.next_offset }
}

/**
 * A page with the rest of its rows added: the rows after the ones it had, their cut cells renumbered to their
 * place in the page, and where the page now stops. The page keeps its own offset and limit (what a person asked).
 */
export function withRest(page: Rows, rest: Rows): Rows {
  const before = page.rows.length
  return {
    ...page,
    rows: [...page.rows, ...rest.rows],
    truncated: [...page.truncated, ...rest.truncated.map((c) => ({ ...c, row: c.row + before }))],
    cell_chars: Math.min(page.cell_chars, rest.cell_chars),
    next_offset: rest.next_offset,
    total: rest.total,
  }
}
