import { describe, expect, it } from 'vitest'
import { fieldPath, formatSpec, locate, parseSpecText, schemaProblems, stepKinds, vocabulary } from '@/pipelines/spec'
import { sideBySide } from '@/pipelines/diff'

const schema = {
  $defs: {
    PipelineSpec: {
      properties: {
        params: {},
        steps: { items: { anyOf: [{ $ref: '#/$defs/LogStep' }, { $ref: '#/$defs/SleepStep' }] } },
        output: {},
      },
    },
    LogStep: { properties: { type: { enum: ['log'] }, id: {}, message: {} } },
    SleepStep: { properties: { type: { enum: ['sleep'] }, seconds: {} } },
  },
}

describe('the editor reads a spec', () => {
  it('gives the spec of YAML and JSON text, and syntax problems with their place', () => {
    expect(parseSpecText('steps:\n  - {type: log, message: hi}\n').spec).toEqual({ steps: [{ type: 'log', message: 'hi' }] })
    expect(parseSpecText('{"steps": []}').spec).toEqual({ steps: [] })
    const bad = parseSpecText('steps: [\n')
    expect(bad.spec).toBeNull()
    expect(bad.problems.length).toBeGreaterThan(0)
  })

  it('turns API field paths into document paths', () => {
    expect(fieldPath('spec.steps[2].sql')).toEqual(['steps', 2, 'sql'])
    expect(fieldPath('spec.params.floor.default')).toEqual(['params', 'floor', 'default'])
    expect(fieldPath('spec')).toEqual([])
  })

  it('places a field error on its value, or on the nearest node that exists', () => {
    const text = 'steps:\n  - type: lgo\n    message: hi\n'
    const doc = parseSpecText(text).doc
    const [from, to] = locate(doc, 'spec.steps[0].type')
    expect(text.slice(from, to)).toBe('lgo')
    const [from2] = locate(doc, 'spec.steps[0].nothing')
    expect(text.slice(from2).startsWith('type: lgo')).toBe(true)
  })

  it('finds unknown step types and keys against the schema, at their place', () => {
    expect([...stepKinds(schema).keys()]).toEqual(['log', 'sleep'])
    const text = 'stepz: []\nsteps:\n  - {type: lgo, message: hi}\n  - {type: sleep, secs: 1}\n  - {message: x}\n'
    const found = schemaProblems(parseSpecText(text).doc, schema)
    expect(found.map((p) => text.slice(p.from, p.to))).toEqual(['stepz', 'lgo', 'secs', '{'])
    expect(found[1]?.message).toContain("unknown step type 'lgo'")
    expect(schemaProblems(parseSpecText('steps:\n  - {type: log, message: hi}\n').doc, schema)).toEqual([])
  })

  it('offers the schema words for completion and writes either format', () => {
    expect(vocabulary(schema)).toEqual(['id', 'log', 'message', 'output', 'params', 'seconds', 'sleep', 'steps', 'type'])
    expect(JSON.parse(formatSpec({ a: [1] }, 'json'))).toEqual({ a: [1] })
    expect(parseSpecText(formatSpec({ a: [1] }, 'yaml')).spec).toEqual({ a: [1] })
  })
})

describe('a diff side by side', () => {
  it('pairs removed and added lines and keeps the unchanged ones on both sides', () => {
    const unified = '--- v1\n+++ v2\n@@ -1,5 +1,6 @@\n {\n-  "a": 1,\n+  "a": 2,\n+  "b": 3,\n   "steps": [\n'
    const rows = sideBySide(unified)
    expect(rows.map((r) => [r.left?.kind ?? null, r.left?.n ?? null, r.right?.kind ?? null, r.right?.n ?? null])).toEqual([
      ['same', 1, 'same', 1],
      ['removed', 2, 'added', 2],
      [null, null, 'added', 3],
      ['same', 3, 'same', 4],
    ])
    expect(rows[1]?.left?.text).toBe('  "a": 1,')
    expect(sideBySide('')).toEqual([])
  })
})
