import { describe, expect, it } from 'vitest'
import { named, pastedId, pickOptions } from '@/utils/pick'

const id = '0190f5e2-0000-7000-8000-000000000001'
const nightly = { id, name: 'nightly' }
const hourly = { id: '0190f5e2-0000-7000-8000-000000000002', name: 'Hourly 报表' }

describe('filters that take an id, chosen by name', () => {
  it('reads a pasted id (spaces around it, capitals) and nothing else as one', () => {
    expect(pastedId(`  ${id.toUpperCase()} `)).toBe(id)
    expect(pastedId('nightly')).toBeNull()
    expect(pastedId(id.slice(0, 30))).toBeNull()
  })

  it('finds by part of the name, any case, in a list the API cannot search', () => {
    expect(named([nightly, hourly], 'HOUR')).toEqual([hourly])
    expect(named([nightly, hourly], '报表')).toEqual([hourly])
    expect(named([nightly, hourly], ' ')).toEqual([nightly, hourly])
  })

  it('offers a pasted id as itself when no search found it, and keeps the picked one listed', () => {
    const other = '0190f5e2-0000-7000-8000-0000000000ff'
    expect(pickOptions([], other, null)).toEqual([{ id: other, name: other }])
    expect(pickOptions([nightly], id, null)).toEqual([nightly]) // found by its id: shown by name, once
    expect(pickOptions([hourly], 'hou', nightly)).toEqual([hourly, nightly])
    expect(pickOptions([nightly], '', nightly)).toEqual([nightly])
  })
})
