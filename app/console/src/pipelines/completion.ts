/**
 * Context-aware completion for the spec editor, from the language's JSON Schema (GET /pipelines/schema):
 * after `type:` in a step the step types, inside a step that step type's own keys, after `type:` under
 * `params` the parameter types, after `rule:` the rule names, and so on for every enum of the schema.
 *
 * The text being typed is often not valid YAML or JSON, so the cursor's place is read from the text itself:
 * block YAML by indentation, flow mappings and JSON by their brackets. Pure: unit-tested without an editor.
 */

type Schema = Record<string, unknown>

export interface Suggestion {
  label: string
  type: 'property' | 'enum'
  detail?: string
}

export interface Completions {
  /** Where the word being completed starts. */
  from: number
  options: Suggestion[]
}

/**
 * One mapping on the way from the document's root to the cursor: how it is reached from the mapping before it
 * (`['steps', '[]']`: an item of the list under `steps`; the root has `[]`) and the keys it has, with their
 * scalar values (`type: log` picks the step's schema).
 */
interface Frame {
  path: string[]
  keys: Record<string, string>
}

interface Place {
  frames: Frame[]
  /** The key whose value is being typed, or null when a key is being typed. */
  valueOf: string | null
  word: string
  from: number
}

const KEY = /^([A-Za-z_][\w-]*)\s*:(?:\s+(.*))?$/
const WORD = /[\w[\]-]*$/

function unquote(value: string): string {
  return value.replace(/\s+#.*$/, '').trim().replace(/^["']|["']$/g, '')
}

/** The column of a line's key (after any `- `), the column of its dash if it starts a list item, the rest. */
function shape(line: string): { col: number; dash: number | null; rest: string } {
  const m = /^(\s*)(-\s+)?/.exec(line)
  const indent = m?.[1]?.length ?? 0
  const col = indent + (m?.[2]?.length ?? 0)
  return { col, dash: m?.[2] ? indent : null, rest: line.slice(col) }
}

function collect(frame: Frame, rest: string): void {
  const kv = KEY.exec(rest)
  if (kv?.[1]) frame.keys[kv[1]] = unquote(kv[2] ?? '')
}

/**
 * The mappings (block YAML) enclosing a key at column `col` of line `at` (whose dash, if the line starts a list
 * item, is at `dash`), root first; empty when the lines above do not lead to the root.
 */
function blockFrames(lines: string[], at: number, col: number, dash: number | null): Frame[] {
  let current: Frame = { path: [], keys: {} }
  const frames: Frame[] = [current] // innermost first while walking up
  let target = col
  let listParent = false // looking for the key that holds a list: it may sit at the dash's own column
  if (dash !== null) {
    current.path = ['[]']
    target = dash
    listParent = true
  } else {
    // keys of the same mapping below the cursor count too: a key already there is not offered again
    for (let i = at + 1; i < lines.length; i++) {
      const s = shape(lines[i] ?? '')
      if (!s.rest.trim() || s.rest.startsWith('#')) continue
      if (s.col < col || (s.col === col && s.dash !== null)) break
      if (s.col === col) collect(current, s.rest)
    }
  }
  for (let i = at - 1; i >= 0; i--) {
    const s = shape(lines[i] ?? '')
    if (!s.rest.trim() || s.rest.startsWith('#')) continue
    if (!listParent && s.col === target) {
      collect(current, s.rest) // a sibling key
      if (s.dash !== null) {
        current.path.unshift('[]')
        target = s.dash
        listParent = true
      }
    } else if (s.col < target || (listParent && s.col === target)) {
      const kv = KEY.exec(s.rest)
      if (!kv?.[1] || unquote(kv[2] ?? '')) return [] // not a `key:` opening a block: lost
      current.path.unshift(kv[1])
      const parent: Frame = { path: [], keys: { [kv[1]]: '' } }
      frames.unshift(parent)
      current = parent
      target = s.col
      listParent = false
      if (s.dash !== null) {
        parent.path = ['[]'] // `- key:` opens a block inside a list item
        target = s.dash
        listParent = true
      }
    }
  }
  if (listParent || current.path.length) return []
  return frames
}

/** The open mappings of flow text (JSON, or a YAML `{...}`) before the cursor, outermost first. */
function flowFrames(text: string): { frames: Frame[]; valueOf: string | null } | null {
  interface Open { list: boolean; frame: Frame; key: string | null; afterColon: boolean; pending: string[] }
  const stack: Open[] = []
  let token = ''
  let quote: string | null = null
  const top = (): Open | undefined => stack[stack.length - 1]
  const flush = (): void => {
    const open = top()
    const value = unquote(token)
    token = ''
    if (!open || open.list) return
    if (!open.afterColon) open.key = value || open.key
    else if (open.key) open.frame.keys[open.key] = value
  }
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null
      else token += ch
      continue
    }
    const open = top()
    if (ch === '"' || ch === "'") quote = ch
    else if (ch === '{' || ch === '[') {
      const via = !open ? [] : open.list ? [...open.pending, '[]'] : open.key ? [open.key] : []
      if (open && !open.list && open.key) open.frame.keys[open.key] = ''
      token = ''
      if (ch === '[') stack.push({ list: true, frame: { path: [], keys: {} }, key: null, afterColon: false, pending: via })
      else stack.push({ list: false, frame: { path: via, keys: {} }, key: null, afterColon: false, pending: [] })
    } else if (ch === '}' || ch === ']') {
      stack.pop()
      token = ''
    } else if (ch === ':' && open && !open.list && !open.afterColon) {
      flush()
      open.afterColon = true
    } else if (ch === ',') {
      flush()
      if (open) Object.assign(open, { key: null, afterColon: false })
    } else token += ch
  }
  const open = top()
  if (!open || open.list) return null
  if (!open.afterColon) open.key = null
  return { frames: stack.filter((o) => !o.list).map((o) => o.frame), valueOf: open.afterColon ? open.key : null }
}

/** Where the cursor is: the mappings around it, and whether a key or a value is being typed. */
export function placeAt(text: string, pos: number): Place | null {
  const before = text.slice(0, pos)
  const word = WORD.exec(before)?.[0] ?? ''
  const from = pos - word.length
  if (/^\s*[{[]/.test(before)) {
    const flow = flowFrames(before) // JSON
    return flow ? { ...flow, word, from } : null
  }
  const lines = before.split('\n')
  const all = text.split('\n')
  const at = lines.length - 1
  const line = lines[at] ?? ''
  const open = line.indexOf('{')
  if (open >= 0) {
    // a flow mapping on this line: `- {type: lo` or `who: {ty`
    const s = shape(line.slice(0, open))
    const kv = /^([A-Za-z_][\w-]*)\s*:\s*$/.exec(s.rest)
    if (s.rest.trim() && !kv) return null
    const flow = flowFrames(line.slice(open))
    if (!flow) return null
    const [first] = flow.frames
    if (!first) return null
    let outer: Frame[]
    if (kv?.[1]) {
      outer = blockFrames(all, at, s.col, s.dash)
      const holder = outer[outer.length - 1]
      if (holder) holder.keys[kv[1]] = ''
      first.path = [kv[1]]
    } else {
      if (s.dash === null) return null
      outer = blockFrames(all, at, s.col, s.dash)
      const item = outer.pop() // the flow mapping is that list item itself
      if (item) first.path = item.path
    }
    return outer.length ? { frames: [...outer, ...flow.frames], valueOf: flow.valueOf, word, from } : null
  }
  const s = shape(line)
  const value = /^([A-Za-z_][\w-]*)\s*:\s*["']?([\w[\]-]*)$/.exec(s.rest)
  if (!value && !/^([A-Za-z_][\w-]*)?$/.test(s.rest)) return null
  const frames = blockFrames(all, at, s.col, s.dash)
  if (!frames.length) return null
  return { frames, valueOf: value?.[1] ?? null, word, from }
}

// ---- the schema side ----

function defs(schema: Schema): Record<string, Schema> {
  return (schema.$defs ?? {}) as Record<string, Schema>
}

function deref(schema: Schema, node: Schema | undefined): Schema | undefined {
  let current = node
  for (let i = 0; current && typeof current.$ref === 'string' && i < 10; i++) {
    current = defs(schema)[current.$ref.split('/').pop() ?? '']
  }
  return current
}

/** The alternatives of a node (anyOf / oneOf), each dereferenced; a plain node is its own only one. */
function options(schema: Schema, node: Schema | undefined): Schema[] {
  const n = deref(schema, node)
  if (!n) return []
  const alts = (n.anyOf ?? n.oneOf) as Schema[] | undefined
  return alts ? alts.flatMap((a) => options(schema, a)) : [n]
}

function props(node: Schema): Record<string, Schema> {
  return (node.properties ?? {}) as Record<string, Schema>
}

/** The alternatives a mapping with these keys can be: those whose enum-valued keys agree with what is typed. */
function narrow(schema: Schema, alts: Schema[], keys: Record<string, string>): Schema[] {
  const fitting = alts.filter((alt) =>
    Object.entries(props(alt)).every(([name, p]) => {
      const given = keys[name]
      const allowed = enumOf(schema, p)
      return !given || !allowed.length || allowed.includes(given)
    }),
  )
  return fitting.length ? fitting : alts
}

function enumOf(schema: Schema, node: Schema | undefined): string[] {
  return options(schema, node).flatMap((n) => [
    ...((n.enum ?? []) as unknown[]).filter((v): v is string => typeof v === 'string'),
    ...(typeof n.const === 'string' ? [n.const] : []),
  ])
}

/** The schema alternatives of the innermost of `frames`, each narrowed by the keys typed so far. */
function mappingAt(schema: Schema, frames: Frame[], narrowLast = true): Schema[] {
  let alts = options(schema, defs(schema).PipelineSpec)
  frames.forEach((frame, index) => {
    for (const step of frame.path) {
      alts = alts.flatMap((alt) => {
        if (step === '[]') return options(schema, alt.items as Schema | undefined)
        const p = props(alt)[step] ?? (typeof alt.additionalProperties === 'object' ? (alt.additionalProperties as Schema) : undefined)
        return options(schema, p)
      })
    }
    if (narrowLast || index < frames.length - 1) alts = narrow(schema, alts, frame.keys)
  })
  return alts.filter((alt) => alt.properties)
}

function describe(node: Schema | undefined): string | undefined {
  return typeof node?.description === 'string' ? node.description.split('\n')[0] : undefined
}

/** What to offer at `pos` of `text`, or null when nothing fits. */
export function completeAt(text: string, pos: number, schema: Schema): Completions | null {
  const place = placeAt(text, pos)
  if (!place) return null
  const here = place.frames[place.frames.length - 1]?.keys ?? {}
  const seen = new Map<string, Suggestion>()
  if (place.valueOf !== null) {
    // every alternative counts here: after `type:` all the step types, not only the one typed so far
    for (const alt of mappingAt(schema, place.frames, false)) {
      const p = props(alt)[place.valueOf]
      const values = enumOf(schema, p)
      for (const value of values) {
        if (!seen.has(value)) seen.set(value, { label: value, type: 'enum', detail: values.length === 1 ? describe(alt) : describe(p) })
      }
    }
  } else {
    for (const alt of mappingAt(schema, place.frames)) {
      for (const [name, p] of Object.entries(props(alt))) {
        if (name in here || seen.has(name)) continue
        seen.set(name, { label: name, type: 'property', detail: describe(p) })
      }
    }
  }
  const list = [...seen.values()].filter((s) => s.label.startsWith(place.word))
  return list.length ? { from: place.from, options: list } : null
}
