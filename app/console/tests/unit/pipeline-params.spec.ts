import { describe, expect, it } from 'vitest'
import { declaredInputs, paramFields, paramKind, paramValues } from '@/pipelines/params'

const spec = {
  inputs: { sales: { dataset: 'sales', version: 3 }, fx: { dataset: 'rates' } },
  params: {
    day: { type: 'date' },
    at: { type: 'datetime', default: '2026-01-01T00:00:00' },
    floor: { type: 'float', default: 0, description: 'smallest amount' },
    top: { type: 'integer' },
    regions: { type: 'list[string]', default: ['eu'] },
    ids: { type: 'list[integer]' },
    dry: { type: 'boolean' },
    who: { type: 'string', default: 'world' },
  },
}

describe('the run form from a spec', () => {
  it('has one field per param, in order, with the widget its type needs', () => {
    const fields = paramFields(spec)
    expect(fields.map((f) => [f.name, f.kind])).toEqual([
      ['day', 'date'],
      ['at', 'datetime'],
      ['floor', 'float'],
      ['top', 'integer'],
      ['regions', 'tags'],
      ['ids', 'tags'],
      ['dry', 'boolean'],
      ['who', 'text'],
    ])
    expect(paramKind('list[date]')).toBe('tags')
  })

  it('marks params without a default required and fills the default in', () => {
    const fields = Object.fromEntries(paramFields(spec).map((f) => [f.name, f]))
    expect(fields.day?.required).toBe(true)
    expect(fields.day?.initial).toBeNull()
    expect(fields.floor?.required).toBe(false)
    expect(fields.floor?.initial).toBe(0)
    expect(fields.floor?.description).toBe('smallest amount')
    expect(fields.regions?.initial).toEqual(['eu'])
    expect(fields.ids?.initial).toEqual([])
  })

  it('has no fields for a spec without params, or no spec', () => {
    expect(paramFields({ steps: [] })).toEqual([])
    expect(paramFields(null)).toEqual([])
  })

  it('turns the form into typed run params and leaves empty optional ones out', () => {
    const fields = paramFields(spec)
    const values = paramValues(fields, {
      day: '2026-11-22',
      at: '',
      floor: 90,
      top: null,
      regions: [],
      ids: ['1', '22', 'x'],
      dry: true,
      who: 'ops',
    })
    expect(values).toEqual({ day: '2026-11-22', floor: 90, ids: [1, 22, 'x'], dry: true, who: 'ops' })
  })

  it('lists the declared inputs with their default dataset and pinned version', () => {
    expect(declaredInputs(spec)).toEqual([
      { name: 'sales', dataset: 'sales', version: 3 },
      { name: 'fx', dataset: 'rates', version: null },
    ])
  })
})
