import { describe, expect, it } from 'vitest'
import { paramNote } from '@/components/runs/paramNote'

describe('a run report parameter\'s note (paramNote)', () => {
  it('leaves out the English that only repeats the source word (未声明 / 缺失)', () => {
    expect(paramNote({ source: 'undeclared', message: 'not declared' })).toBe('')
    expect(paramNote({ source: 'missing', message: 'required, not given' })).toBe('')
  })

  it('keeps why a given value did not fit its type', () => {
    expect(paramNote({ source: 'given', message: "invalid literal for int() with base 10: 'x'" })).toBe("invalid literal for int() with base 10: 'x'")
    expect(paramNote({ source: 'default', message: '' })).toBe('')
  })
})
