import { describe, expect, it } from 'vitest'
import { createSSRApp, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { createI18n } from 'vue-i18n'
import CellValue from '@/components/datasets/CellValue.vue'
import zhCN from '@/i18n/zh-CN'
import { withAreas } from '@/i18n/areas'

/** The component rendered on its own, in zh-CN, as the page's HTML. */
async function rendered(props: { value: unknown; type?: string; scale?: number }): Promise<string> {
  const app = createSSRApp({ render: () => h(CellValue, props) })
  app.use(createI18n({ legacy: false, locale: 'zh-CN', messages: { 'zh-CN': withAreas(zhCN, 'zh-CN') } }))
  return renderToString(app)
}

/** The text the cell shows (its markup and Vue's fragment comments left out). */
const shown = async (props: { value: unknown; type?: string; scale?: number }) => (await rendered(props)).replace(/<[^>]*>/g, '')

describe('a cell of a table of rows (CellValue)', () => {
  it('shows a decimal of the Data tab with the digits the data has, not padded, not grouped', async () => {
    expect(await shown({ value: '1234.500000000', type: 'decimal' })).toBe('1234.5')
    expect(await shown({ value: '1234.50', type: 'decimal', scale: 2 })).toBe('1234.50')
  })

  it('keeps a null muted and a value of no known type as sent', async () => {
    expect(await rendered({ value: null, type: 'decimal' })).toContain('∅')
    expect(await shown({ value: '1234.500000000' })).toBe('1234.500000000')
  })

  it('gives a long text its whole value as a title (the cell shows three lines of it), a short one none', async () => {
    const remark = '这是一段很长的中文描述文本，用于检查表格在显示长文本时是否会截断、换行或溢出'
    expect(await rendered({ value: remark, type: 'string' })).toContain(`title="${remark}"`)
    expect(await rendered({ value: '北京', type: 'string' })).not.toContain('title=')
  })
})
