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
      for (const key of keys(messages)) expect(message(messages, key), key).not.toBe('')
    }
  })

  it('punctuate Chinese with full-width marks', () => {
    // An ASCII comma, colon, semicolon, question mark or bracket touching a Chinese character: "宽限(秒)", "仅一次,{time}".
    const halfWidth = /[\u4e00-\u9fff][,:;?()]|[,:;?(][\u4e00-\u9fff]|\)[\u4e00-\u9fff]/
    const found = keys(zhCN).filter((key) => halfWidth.test(String(message(zhCN, key))))
    expect(found).toEqual([])
  })
})

function message(messages: object, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], messages)
}
