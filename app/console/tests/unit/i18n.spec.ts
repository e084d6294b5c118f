import { describe, expect, it } from 'vitest'
import baseEn from '@/i18n/en'
import baseZhCN from '@/i18n/zh-CN'
import { withAreas } from '@/i18n/areas'

const en = withAreas(baseEn, 'en')
const zhCN = withAreas(baseZhCN, 'zh-CN')

function keys(messages: object, prefix = ''): string[] {
  return Object.entries(messages).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null ? keys(value as object, `${prefix}${key}.`) : [`${prefix}${key}`],
  )
}

describe('translations', () => {
  it('have every key in both languages', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })

  it('have no empty message', () => {
    for (const messages of [zhCN, en]) {
      for (const key of keys(messages)) {
        const value = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], messages)
        expect(value, key).not.toBe('')
      }
    }
  })
})
