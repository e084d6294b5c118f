import { describe, expect, it } from 'vitest'
import { chosenScale, shownBound, shownCell } from '@/datasets/bounds'

describe('a column\'s min and max as shown (shownBound)', () => {
  it('reads a decimal stored at the default scale as the data has it, not padded to nine digits', () => {
    expect(shownBound('12.500000000', 'decimal', 'zh-CN')).toBe('12.5')
    expect(shownBound('40.000000000', 'decimal', 'en')).toBe('40')
    expect(shownBound('-0.250000000', 'decimal', 'en')).toBe('-0.25')
  })

  it('keeps the scale a person chose for the column', () => {
    expect(shownBound('12.50', 'decimal', 'en', 2)).toBe('12.50')
    expect(shownBound('3.000', 'decimal', 'en', 3)).toBe('3.000')
  })

  it('groups thousands the locale\'s way without losing a digit of a wide number', () => {
    expect(shownBound('1234567', 'integer', 'zh-CN')).toBe('1,234,567')
    expect(shownBound('12345678901234567890123.450000000', 'decimal', 'en')).toBe('12,345,678,901,234,567,890,123.45')
    expect(shownBound('1234.5', 'float', 'de-DE')).toBe('1.234,5')
  })

  it('leaves what is not a plain number as it is', () => {
    expect(shownBound('1e-07', 'float', 'en')).toBe('1e-07')
    expect(shownBound('2026-01-02', 'date', 'en')).toBe('2026-01-02')
    expect(shownBound('00123', 'string', 'en')).toBe('00123')
    expect(shownBound(null, 'decimal', 'en')).toBe('—')
  })
})

describe('chosenScale (the scale an import config set for an output column)', () => {
  it('finds it under the source name or a rename, and is null when the default applied', () => {
    const config = { columns: { amount: { type: 'decimal', scale: 2 }, 价格: { name: 'price', scale: 4 }, qty: { type: 'integer' } } }
    expect(chosenScale(config, 'amount')).toBe(2)
    expect(chosenScale(config, 'price')).toBe(4)
    expect(chosenScale(config, 'qty')).toBeNull()
    expect(chosenScale({}, 'amount')).toBeNull()
  })
})

describe('a cell of the Data tab as shown (shownCell): the digits the data has, not grouped', () => {
  it('drops a decimal\'s padding zeros, as its column\'s min and max do', () => {
    expect(shownCell('12.500000000', 'decimal', 'zh-CN')).toBe('12.5')
    expect(shownCell('1234567.250000000000000000', 'decimal', 'en')).toBe('1234567.25')
    expect(shownCell('12.50', 'decimal', 'en', 2)).toBe('12.50') // a scale the person chose is kept
  })

  it('shows a JSON number and a whole number sent as text past what a double holds ungrouped, losing no digit', () => {
    expect(shownCell(1234567, 'integer', 'zh-CN')).toBe('1234567')
    expect(shownCell('110101199003077777', 'integer', 'en')).toBe('110101199003077777') // an id card number
    expect(shownCell(2024, 'integer', 'en')).toBe('2024') // a year
    expect(shownCell(0.1, 'float', 'de-DE')).toBe('0,1')
    expect(shownCell(1e21, 'float', 'en')).toBe('1e+21')
  })

  it('leaves other cells as cellText has them', () => {
    expect(shownCell('00123', 'string', 'en')).toBe('00123')
    expect(shownCell(null, 'decimal', 'en')).toBe('∅')
    expect(shownCell({ a: 1 }, 'json', 'en')).toBe('{"a":1}')
    expect(shownCell(true, 'boolean', 'en')).toBe('true')
    expect(shownCell(12.5, undefined, 'en')).toBe('12.5') // no column type known: as sent
  })
})
