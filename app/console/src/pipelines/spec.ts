/**
 * The pure side of the pipeline editor: reading YAML or JSON text with positions, pointing a
 * field path from the API (`spec.steps[0].type`) at the text, and a light check against the
 * language's JSON Schema (unknown keys, unknown step types) so a typo shows while typing.
 */
import { isMap, isScalar, isSeq, parseDocument, stringify, type Document, type Node } from 'yaml'

export type SpecFormat = 'yaml' | 'json'

export interface Problem {
  from: number
  to: number
  message: string
}

export interface Parsed {
  spec: unknown
  doc: Document
  problems: Problem[]
}

/** JSON is read by the YAML parser too: one path to positions for both formats. */
export function parseSpecText(text: string): Parsed {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false })
  const problems = doc.errors.map((e) => ({
    from: e.pos[0],
    to: Math.max(e.pos[1], e.pos[0] + 1),
    message: e.message.split('\n')[0] ?? e.message,
  }))
  return { spec: problems.length ? null : doc.toJS(), doc, problems }
}

export function formatSpec(spec: unknown, format: SpecFormat): string {
  return format === 'json' ? JSON.stringify(spec ?? {}, null, 2) + '\n' : stringify(spec ?? {})
}

/** `spec.steps[0].type` → ['steps', 0, 'type']. */
export function fieldPath(field: string): (string | number)[] {
  const parts: (string | number)[] = []
  for (const piece of field.split('.')) {
    const match = /^([^[]*)((?:\[\d+\])*)$/.exec(piece)
    if (!match) {
      parts.push(piece)
      continue
    }
    if (match[1]) parts.push(match[1])
    for (const index of match[2]?.matchAll(/\[(\d+)\]/g) ?? []) parts.push(Number(index[1]))
  }
  return parts[0] === 'spec' ? parts.slice(1) : parts
}

function nodeRange(node: Node | null | undefined): [number, number] | null {
  return node?.range ? [node.range[0], Math.max(node.range[1], node.range[0] + 1)] : null
}

/** Where `field` is in the text: its value, or the nearest enclosing node that exists. */
export function locate(doc: Document, field: string): [number, number] {
  const path = fieldPath(field)
  for (let n = path.length; n > 0; n--) {
    const found = nodeRange(doc.getIn(path.slice(0, n), true) as Node | undefined)
    if (found) return found
  }
  return nodeRange(doc.contents as Node | null) ?? [0, 1]
}

type Schema = Record<string, unknown>

function defs(schema: Schema): Record<string, Schema> {
  return (schema.$defs ?? {}) as Record<string, Schema>
}

/** Each step type the language knows, with the keys it accepts. */
export function stepKinds(schema: Schema): Map<string, string[]> {
  const spec = defs(schema).PipelineSpec as Schema | undefined
  const steps = ((spec?.properties as Schema | undefined)?.steps as Schema | undefined)?.items as Schema | undefined
  const kinds = new Map<string, string[]>()
  for (const option of (steps?.anyOf ?? []) as Schema[]) {
    const ref = String(option.$ref ?? '').split('/').pop() ?? ''
    const step = defs(schema)[ref]
    const props = (step?.properties ?? {}) as Record<string, Schema>
    for (const kind of (props.type?.enum ?? []) as string[]) kinds.set(kind, Object.keys(props))
  }
  return kinds
}

export function topKeys(schema: Schema): string[] {
  return Object.keys(((defs(schema).PipelineSpec as Schema | undefined)?.properties ?? {}) as Schema)
}

/** Every property name and step type in the schema, for completion. */
export function vocabulary(schema: Schema): string[] {
  const words = new Set<string>()
  for (const def of Object.values(defs(schema))) {
    for (const key of Object.keys((def.properties ?? {}) as Schema)) words.add(key)
  }
  for (const kind of stepKinds(schema).keys()) words.add(kind)
  return [...words].sort()
}

/** Unknown top-level keys, unknown step types and unknown keys in a step, at their place in the text. */
export function schemaProblems(doc: Document, schema: Schema): Problem[] {
  const problems: Problem[] = []
  const root = doc.contents
  if (!isMap(root)) return problems
  const allowed = new Set(topKeys(schema))
  const kinds = stepKinds(schema)
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ''
    const at = nodeRange(pair.key as Node)
    if (at && allowed.size && !allowed.has(key)) problems.push({ from: at[0], to: at[1], message: `unknown key '${key}'` })
  }
  const steps = root.get('steps', true)
  if (!isSeq(steps)) return problems
  for (const step of steps.items) {
    if (!isMap(step)) continue
    const typeNode = step.get('type', true)
    const kind = isScalar(typeNode) ? String(typeNode.value) : undefined
    const keys = kind !== undefined ? kinds.get(kind) : undefined
    if (kind !== undefined && !keys && kinds.size) {
      const at = nodeRange(typeNode as Node) ?? [0, 1]
      problems.push({ from: at[0], to: at[1], message: `unknown step type '${kind}'; one of: ${[...kinds.keys()].join(', ')}` })
      continue
    }
    if (kind === undefined) {
      const at = nodeRange(step as Node) ?? [0, 1]
      problems.push({ from: at[0], to: at[0] + 1, message: "a step needs a 'type'" })
    }
    for (const pair of step.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : ''
      const at = nodeRange(pair.key as Node)
      if (at && keys && !keys.includes(key)) {
        problems.push({ from: at[0], to: at[1], message: `'${kind}' steps have no key '${key}'` })
      }
    }
  }
  return problems
}
