import { afterEach, describe, expect, it, vi } from 'vitest'
import { readEventStream, SseParser, StreamRefused } from '@/api/sse'

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

describe('SseParser on large and awkward input', () => {
  it('parses 10,000 log events in one chunk, in order', () => {
    const parser = new SseParser()
    const text = Array.from({ length: 10_000 }, (_, i) => `event: log\nid: ${i + 1}\ndata: {"n":${i + 1}}\n\n`).join('')
    const messages = parser.push(text)
    expect(messages).toHaveLength(10_000)
    expect(messages[0]).toEqual({ event: 'log', id: '1', data: '{"n":1}' })
    expect(messages[9_999]).toEqual({ event: 'log', id: '10000', data: '{"n":10000}' })
  })

  it('gives the same messages whatever the chunk boundaries, including a \\r\\n split in two', () => {
    const text = 'event: log\r\nid: 7\r\ndata: x\r\n\r\n: ping\rdata: y\rdata: z\r\r'
    const whole = new SseParser().push(text)
    expect(whole).toEqual([
      { event: 'log', id: '7', data: 'x' },
      { event: 'message', id: '7', data: 'y\nz' },
    ])
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SseParser()
      const got = [...parser.push(text.slice(0, cut)), ...parser.push(''), ...parser.push(text.slice(cut))]
      expect(got, `cut at ${cut}`).toEqual(whole)
    }
  })

  it('keeps a partial line until its end arrives', () => {
    const parser = new SseParser()
    expect(parser.push('data: hel')).toEqual([])
    expect(parser.push('lo')).toEqual([])
    expect(parser.push('\n\n')).toEqual([{ event: 'message', id: null, data: 'hello' }])
  })
})

describe('readEventStream', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('tells a refused stream (with its status) from a network loss, so only a 401 refreshes the session', async () => {
    const options = { headers: {}, signal: new AbortController().signal, onMessage: () => undefined }
    vi.stubGlobal('fetch', () => Promise.resolve(new Response('{}', { status: 401 })))
    const refused = await readEventStream('/stream', options).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(StreamRefused)
    expect((refused as StreamRefused).status).toBe(401)
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')))
    const lost = await readEventStream('/stream', options).catch((e: unknown) => e)
    expect(lost).not.toBeInstanceOf(StreamRefused)
  })
})
