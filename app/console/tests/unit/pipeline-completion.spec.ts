import { describe, expect, it } from 'vitest'
import { completeAt } from '@/pipelines/completion'

/** The shape of GET /pipelines/schema (msgspec's JSON Schema), cut down to a few steps and rules. */
const schema = {
  $ref: '#/$defs/PipelineSpec',
  $defs: {
    PipelineSpec: {
      properties: {
        params: { type: 'object', additionalProperties: { $ref: '#/$defs/ParamSpec' } },
        steps: {
          type: 'array',
          items: {
            anyOf: [{ $ref: '#/$defs/LogStep' }, { $ref: '#/$defs/SleepStep' }, { $ref: '#/$defs/ValidateStep' }],
            discriminator: { propertyName: 'type' },
          },
        },
        output: { $ref: '#/$defs/OutputSpec' },
      },
    },
    ParamSpec: { properties: { type: { enum: ['date', 'integer', 'string'] }, default: {}, description: {} } },
    LogStep: { description: 'Write a line to the log.', properties: { type: { enum: ['log'] }, id: {}, message: {} } },
    SleepStep: { properties: { type: { enum: ['sleep'] }, id: {}, seconds: { description: 'How long.' } } },
    ValidateStep: {
      properties: {
        type: { enum: ['validate'] },
        id: {},
        rules: { type: 'array', items: { anyOf: [{ $ref: '#/$defs/NotNullRule' }, { $ref: '#/$defs/RowCountRule' }] } },
      },
    },
    NotNullRule: { properties: { rule: { enum: ['not_null'] }, severity: { enum: ['fail', 'warn'] }, columns: {} } },
    RowCountRule: { properties: { rule: { enum: ['row_count'] }, severity: { enum: ['fail', 'warn'] }, min: {}, max: {} } },
    OutputSpec: { properties: { dataset: {} } },
  },
}

/** The labels offered with the cursor at `|`. */
function offered(text: string): string[] {
  const pos = text.indexOf('|')
  const found = completeAt(text.replace('|', ''), pos, schema)
  return found ? found.options.map((o) => o.label).sort() : []
}

describe('completion in the spec editor follows the cursor', () => {
  it('offers the step types after `type:` in a step, and the parameter types under params', () => {
    expect(offered('steps:\n  - type: |')).toEqual(['log', 'sleep', 'validate'])
    expect(offered('steps:\n  - type: sl|')).toEqual(['sleep'])
    expect(offered('params:\n  day:\n    type: |\nsteps: []\n')).toEqual(['date', 'integer', 'string'])
    expect(offered('params:\n  day: {type: |}\n')).toEqual(['date', 'integer', 'string'])
  })

  it('offers a step type its own keys, leaving out those already there', () => {
    expect(offered('steps:\n  - type: sleep\n    |')).toEqual(['id', 'seconds'])
    expect(offered('steps:\n  - {type: log, |}')).toEqual(['id', 'message'])
    expect(offered('steps:\n  - type: log\n    message: hi\n  - type: sleep\n    s|')).toEqual(['seconds'])
    expect(offered('steps:\n- type: log\n- ty|')).toEqual(['type'])
  })

  it('goes into nested lists: rule names after `rule:`, then that rule`s keys', () => {
    const rules = 'steps:\n  - type: validate\n    rules:\n      - rule: |'
    expect(offered(rules)).toEqual(['not_null', 'row_count'])
    expect(offered('steps:\n  - type: validate\n    rules:\n      - rule: row_count\n        |')).toEqual(['max', 'min', 'severity'])
    expect(offered('steps:\n  - type: validate\n    rules:\n      - {rule: not_null, severity: |}')).toEqual(['fail', 'warn'])
  })

  it('offers top-level keys not yet written, and works in JSON too', () => {
    expect(offered('|\nsteps: []\n')).toEqual(['output', 'params'])
    expect(offered('{"steps": [{"type": "|')).toEqual(['log', 'sleep', 'validate'])
    expect(offered('{"steps": [{"type": "sleep", "|')).toEqual(['id', 'seconds'])
  })

  it('says what a step type is, and offers nothing where the schema knows no words', () => {
    const found = completeAt('steps:\n  - type: lo', 'steps:\n  - type: lo'.length, schema)
    expect(found?.options[0]).toMatchObject({ label: 'log', type: 'enum', detail: 'Write a line to the log.' })
    expect(found?.from).toBe('steps:\n  - type: '.length)
    expect(offered('steps:\n  - message: |')).toEqual([])
    expect(offered('params:\n  |')).toEqual([]) // parameter names are the author's own
  })
})
