/** The Run dialog's parameter form, generated from the spec's typed params, and its values turned into the run body. */

export type ParamKind = 'text' | 'integer' | 'float' | 'boolean' | 'date' | 'datetime' | 'tags'

export interface ParamField {
  name: string
  type: string
  kind: ParamKind
  required: boolean
  description: string
  initial: unknown
}

const KINDS: Record<string, ParamKind> = {
  string: 'text',
  integer: 'integer',
  float: 'float',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
}

export function paramKind(type: string): ParamKind {
  return type.startsWith('list[') ? 'tags' : (KINDS[type] ?? 'text')
}

/** One form field per declared parameter, in the spec's order; the default fills it in. */
export function paramFields(spec: unknown): ParamField[] {
  const params = (spec as { params?: Record<string, { type?: string; default?: unknown; description?: string }> } | null)?.params
  return Object.entries(params ?? {}).map(([name, p]) => {
    const type = p.type ?? 'string'
    const kind = paramKind(type)
    const hasDefault = p.default !== undefined
    let initial: unknown = hasDefault ? p.default : kind === 'tags' ? [] : kind === 'boolean' ? false : null
    if (kind === 'tags' && Array.isArray(initial)) initial = initial.map(String)
    return { name, type, kind, required: !hasDefault, description: p.description ?? '', initial }
  })
}

function item(type: string, text: string): unknown {
  const inner = type.slice(5, -1)
  if (inner === 'integer' || inner === 'float') {
    const n = Number(text)
    return Number.isNaN(n) ? text : n
  }
  if (inner === 'boolean') return text === 'true' ? true : text === 'false' ? false : text
  return text
}

/**
 * The `params` of the run body: empty optional fields are left out (the default applies), list
 * tags become typed items; a value the server would refuse is sent as typed so its 422 names the field.
 */
export function paramValues(fields: ParamField[], form: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const field of fields) {
    const value = form[field.name]
    if (value === null || value === undefined || value === '') continue
    if (field.kind === 'tags') {
      if (!Array.isArray(value) || (value.length === 0 && !field.required)) continue
      out[field.name] = value.map((v) => item(field.type, String(v)))
    } else if (field.kind === 'integer' || field.kind === 'float') {
      out[field.name] = typeof value === 'number' ? value : Number(value)
    } else {
      out[field.name] = value
    }
  }
  return out
}

/** The inputs a spec declares, with what it names by default (a dataset id or name, maybe a pinned version). */
export function declaredInputs(spec: unknown): { name: string; dataset: string; version: number | null }[] {
  const inputs = (spec as { inputs?: Record<string, { dataset?: string; version?: number }> } | null)?.inputs
  return Object.entries(inputs ?? {}).map(([name, ref]) => ({
    name,
    dataset: ref.dataset ?? '',
    version: ref.version ?? null,
  }))
}
