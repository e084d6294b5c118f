import { describe, expect, it } from 'vitest'
import { forgetUpload, matchSaved, planChunks, receivedBytes, saveUpload, savedUploads } from '@/datasets/chunks'
import { filterParam, filterParams, orderParam, parseFilter } from '@/datasets/filters'
import {
  COLUMN_TYPES, applySuggestion, cleanConfig, columnTypeWord, emptyForm, importProblems, mayImportAgain, placeWarnings,
} from '@/datasets/config'
import { translator } from './translator'
import { downloadUrl, rejectsUrl } from '@/datasets/api'

class MemoryStorage implements Storage {
  private data = new Map<string, string>()
  get length(): number { return this.data.size }
  clear(): void { this.data.clear() }
  getItem(key: string): string | null { return this.data.get(key) ?? null }
  key(index: number): string | null { return [...this.data.keys()][index] ?? null }
  removeItem(key: string): void { this.data.delete(key) }
  setItem(key: string, value: string): void { this.data.set(key, value) }
}

describe('chunk planning', () => {
  it('cuts each missing range into chunks no larger than the chunk size, in file order', () => {
    expect(planChunks([[10, 25], [0, 4]], 6)).toEqual([
      { start: 0, end: 4 }, { start: 10, end: 16 }, { start: 16, end: 22 }, { start: 22, end: 25 },
    ])
  })

  it('sends nothing when nothing is missing and skips empty ranges', () => {
    expect(planChunks([], 6)).toEqual([])
    expect(planChunks([[5, 5], [7, 3]], 6)).toEqual([])
  })

  it('counts what arrived from the missing ranges', () => {
    expect(receivedBytes([[0, 4], [10, 25]], 30)).toBe(11)
    expect(receivedBytes([], 30)).toBe(30)
  })

  it('remembers an open upload for the same file across page loads and forgets it', () => {
    const storage = new MemoryStorage()
    const entry = { uploadId: 'u1', name: 'sales', filename: 's.csv', size: 9, lastModified: 5, namespace: 'default' }
    saveUpload(entry, storage)
    saveUpload({ ...entry, uploadId: 'u2', filename: 'other.csv' }, storage)
    expect(matchSaved({ name: 's.csv', size: 9 }, savedUploads(storage))?.uploadId).toBe('u1')
    expect(matchSaved({ name: 's.csv', size: 10 }, savedUploads(storage))).toBeUndefined()
    forgetUpload('u1', storage)
    expect(savedUploads(storage).map((u) => u.uploadId)).toEqual(['u2'])
    storage.setItem('conveyor.uploads', 'not json')
    expect(savedUploads(storage)).toEqual([])
  })
})

describe('row filters', () => {
  it('builds column:op:value, leaving out incomplete filters and values for unary operators', () => {
    expect(filterParams([
      { column: 'amount', op: 'gt', value: '5' },
      { column: 'name', op: 'is_null', value: 'ignored' },
      { column: 'city', op: 'eq', value: '' },
      { column: '', op: 'eq', value: 'x' },
    ])).toEqual(['amount:gt:5', 'name:is_null'])
  })

  it('keeps colons in the value and reads a filter back', () => {
    expect(filterParam({ column: 'at', op: 'ge', value: '12:30' })).toBe('at:ge:12:30')
    expect(parseFilter('at:ge:12:30')).toEqual({ column: 'at', op: 'ge', value: '12:30' })
    expect(parseFilter('at:bogus:1')).toBeNull()
  })

  it('sorts descending with a leading minus', () => {
    expect(orderParam('amount', 'descending')).toBe('-amount')
    expect(orderParam('amount', 'ascending')).toBe('amount')
    expect(orderParam('amount', null)).toBeUndefined()
  })
})

describe('import configuration', () => {
  it('sends only what the user set, columns only when changed', () => {
    const form = emptyForm()
    expect(cleanConfig(form)).toEqual({ on_error: 'strict' })
    form.sheet = 'Data'
    form.header_row = 3
    form.header_rows = 2
    form.delimiter = '\\t'
    form.null_values = ['-']
    form.columns = { 金额: { name: 'amount', type: 'float', include: true }, note: { name: 'note', type: '', include: true }, x: { name: 'x', type: '', include: false } }
    expect(cleanConfig(form)).toEqual({
      on_error: 'strict', sheet: 'Data', header_row: 3, header_rows: 2, delimiter: '\t', null_values: ['-'],
      columns: { 金额: { include: true, name: 'amount', type: 'float' }, x: { include: false } },
    })
  })

  it('applies a suggestion to the matching field only', () => {
    const form = emptyForm()
    applySuggestion(form, 'header_row', 2)
    applySuggestion(form, 'null_values', ['n/a'])
    applySuggestion(form, 'encoding', 'gb18030')
    applySuggestion(form, 'not_a_field', 1)
    expect([form.header_row, form.null_values, form.encoding]).toEqual([2, ['n/a'], 'gb18030'])
    expect('not_a_field' in form).toBe(false)
  })

  it('applies and sends a thousands separator the preview suggests for amounts written as text', () => {
    const form = emptyForm()
    applySuggestion(form, 'thousands_separator', ',')
    expect(form.thousands_separator).toBe(',')
    expect(cleanConfig(form)).toEqual({ on_error: 'strict', thousands_separator: ',' })
  })

  it('merges a columns suggestion (amounts typed decimal) into the form and sends its scale', () => {
    const form = emptyForm()
    form.columns = { 金额: { name: '金额', type: '', include: true }, 备注: { name: 'note', type: '', include: true } }
    applySuggestion(form, 'columns', { 金额: { type: 'decimal', scale: 2 } })
    expect(form.columns.备注).toEqual({ name: 'note', type: '', include: true })
    expect(cleanConfig(form).columns).toEqual({ 金额: { include: true, type: 'decimal', scale: 2 }, 备注: { include: true, name: 'note' } })
  })

  it('sends a date format for temporal columns only, trimmed, and none when left empty', () => {
    const form = emptyForm()
    form.columns = {
      日期: { name: '日期', type: 'date', include: true, format: [' %Y年%m月%d日 '] },
      时间: { name: '时间', type: 'time', include: true, format: [''] },
      门店: { name: '门店', type: 'string', include: true, format: ['%Y'] }, // left over from an earlier date choice
    }
    expect(cleanConfig(form).columns).toEqual({
      日期: { include: true, type: 'date', format: '%Y年%m月%d日' },
      时间: { include: true, type: 'time' },
      门店: { include: true, type: 'string' },
    })
  })

  it('sends several formats of a date column as a list, in order, and applies a suggested list', () => {
    const form = emptyForm()
    form.columns = { 日期: { name: '日期', type: '', include: true } }
    applySuggestion(form, 'columns', { 日期: { type: 'date', format: ['%Y年%m月%d日', '%Y/%m/%d', '%Y%m%d'] } })
    expect(form.columns.日期?.format).toEqual(['%Y年%m月%d日', '%Y/%m/%d', '%Y%m%d'])
    expect(cleanConfig(form).columns).toEqual({ 日期: { include: true, type: 'date', format: ['%Y年%m月%d日', '%Y/%m/%d', '%Y%m%d'] } })
    applySuggestion(form, 'columns', { 日期: { type: 'date', format: '%Y年%m月%d日' } })
    expect(cleanConfig(form).columns).toEqual({ 日期: { include: true, type: 'date', format: '%Y年%m月%d日' } })
  })

  it('names every column type as a word in both locales; an unknown type reads as itself', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const words = COLUMN_TYPES.map((type) => columnTypeWord(translator(locale), type))
      expect(new Set(words).size, locale).toBe(COLUMN_TYPES.length)
      expect(words.filter((w, i) => w === COLUMN_TYPES[i] && w !== 'json'), locale).toEqual([])
    }
    expect(columnTypeWord(translator('zh-CN'), 'date')).toBe('日期')
    expect(columnTypeWord(translator('zh-CN'), 'string')).toBe('文本')
    expect(columnTypeWord(translator('en'), 'integer')).toBe('Integer')
    expect(columnTypeWord(translator('zh-CN'), 'interval')).toBe('interval')
    expect(columnTypeWord(translator('en'), null)).toBe('')
  })

  it('lets a failed or cancelled import be tried again, not one under way or one that made a version', () => {
    expect(mayImportAgain(null)).toBe(false)
    expect(mayImportAgain('SUCCEEDED')).toBe(false)
    expect(mayImportAgain('FAILED')).toBe(true)
    expect(mayImportAgain('CANCELLED')).toBe(true)
    expect(mayImportAgain('TIMED_OUT')).toBe(true)
  })

  it("lists a failed import's problems from the run, or the one its message names", () => {
    expect(importProblems({ problems: [{ row: 4, column: 'amount', message: 'not a number', value: 'x' }] }, 'ignored'))
      .toEqual([{ row: 4, column: 'amount', message: 'not a number', value: 'x' }])
    expect(importProblems({}, "3 problem(s) found; first: could not convert 'abc' to integer (row 7, column 数量)"))
      .toEqual([{ row: 7, column: '数量', message: "could not convert 'abc' to integer" }])
    expect(importProblems(null, 'boom')).toEqual([{ row: null, column: null, message: 'boom' }])
  })

  it('places a warning on the column it names, and the rest above the table', () => {
    const warnings = ['row 4, column amount: could not convert', "duplicate header 'name'", 'encoding guessed as gb18030', 'column am: x']
    expect(placeWarnings(warnings, ['amount', 'name', 'am', 'count'])).toEqual({
      byColumn: { amount: [warnings[0]], name: [warnings[1]], am: [warnings[3]] },
      general: ['encoding guessed as gb18030'],
    })
  })
})

describe('download addresses', () => {
  it('ask for a byte order mark on CSV only, so Excel reads Chinese text right', () => {
    expect(downloadUrl('d1', 'csv', 2)).toBe('/api/v1/datasets/d1/download?format=csv&version=2&bom=true')
    expect(downloadUrl('d1', 'parquet', 2)).toBe('/api/v1/datasets/d1/download?format=parquet&version=2')
    expect(rejectsUrl('d1', 3)).toBe('/api/v1/datasets/d1/versions/3/rejects?format=csv&bom=true')
    expect(rejectsUrl('d1', 3, 'json')).toBe('/api/v1/datasets/d1/versions/3/rejects?format=json')
  })
})
