/** The rows table's filters: `column:op:value` strings as GET /datasets/{id}/rows takes them, built from a small UI. */

export const OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains', 'starts_with', 'is_null', 'not_null'] as const
export type Op = (typeof OPS)[number]
/** Operators that take no value. */
export const UNARY: readonly Op[] = ['is_null', 'not_null']

export interface Filter {
  column: string
  op: Op
  value: string
}

/** The query value of one filter, or null when it is incomplete (no column, or a value missing). */
export function filterParam(filter: Filter): string | null {
  if (!filter.column) return null
  if (UNARY.includes(filter.op)) return `${filter.column}:${filter.op}`
  if (filter.value === '') return null
  return `${filter.column}:${filter.op}:${filter.value}`
}

export function filterParams(filters: Filter[]): string[] {
  return filters.map(filterParam).filter((f): f is string => f !== null)
}

/** Reads one `column:op:value` back (column names may not hold ':'; the value may). */
export function parseFilter(text: string): Filter | null {
  const [column, op, ...rest] = text.split(':')
  if (!column || !op || !(OPS as readonly string[]).includes(op)) return null
  return { column, op: op as Op, value: rest.join(':') }
}

/** `order_by` for the API from the table's sort state (`-name` is descending). */
export function orderParam(column: string | null, order: 'ascending' | 'descending' | null): string | undefined {
  if (!column || !order) return undefined
  return order === 'descending' ? `-${column}` : column
}
