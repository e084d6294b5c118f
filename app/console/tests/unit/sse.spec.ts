import { describe, expect, it } from 'vitest'
import { SseParser } from '@/api/sse'

describe('SseParser', () => {
  it('yields messages split across chunks, with event, id and data', () => {
    const parser = new SseParser()
    expect(parser.push('event: log\nid: 1\ndata: {"n":')).toEqual([])
    expect(parser.push('1}\n\nevent: end\r\ndata: {"status": "SUCCEEDED"}\r\n\r\n')).toEqual([
      { event: 'log', id: '1', data: '{"n":1}' },
      { event: 'end', id: '1', data: '{"status": "SUCCEEDED"}' },
    ])
  })

  it('ignores comments (keep-alives) and joins data lines', () => {
    const parser = new SseParser()
    expect(parser.push(': keep-alive\n\ndata: a\ndata: b\n\n')).toEqual([{ event: 'message', id: null, data: 'a\nb' }])
  })
})
