/**
 * Server-Sent Events over fetch: EventSource cannot send an Authorization header, so the log
 * stream is read with fetch and parsed here (the WHATWG event-stream format: event, data, id).
 */

export interface SseMessage {
  event: string
  data: string
  id: string | null
}

/**
 * Feeds text chunks in, yields complete messages; keeps a partial line between chunks.
 * It walks each chunk with a cursor (no re-slicing of the buffer per line, no regex), so a
 * chunk holding 10,000 log lines costs one pass over it, not 10,000 copies of what is left.
 */
export class SseParser {
  private rest = ''
  private skipLf = false
  private event = ''
  private data: string[] = []
  private id: string | null = null

  push(chunk: string): SseMessage[] {
    const text = this.rest + chunk
    const out: SseMessage[] = []
    if (text === '') return out
    let pos = 0
    if (this.skipLf && text.charCodeAt(0) === 10) pos = 1 // the \n of a \r\n split across chunks
    this.skipLf = false
    let lf = text.indexOf('\n', pos)
    let cr = text.indexOf('\r', pos)
    while (lf >= 0 || cr >= 0) {
      const eol = cr < 0 || (lf >= 0 && lf < cr) ? lf : cr
      this.line(text.slice(pos, eol), out)
      pos = eol + 1
      if (eol === cr) {
        if (pos === text.length) this.skipLf = true
        else if (text.charCodeAt(pos) === 10) pos += 1
      }
      // Only look again for the terminator the cursor passed: the other one is still ahead.
      if (lf >= 0 && lf < pos) lf = text.indexOf('\n', pos)
      if (cr >= 0 && cr < pos) cr = text.indexOf('\r', pos)
    }
    this.rest = pos === 0 ? text : text.slice(pos)
    return out
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id })
      }
      this.event = ''
      this.data = []
      return
    }
    if (line.charCodeAt(0) === 58) return // ':' starts a comment (keep-alive)
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'event') this.event = value
    else if (field === 'data') this.data.push(value)
    else if (field === 'id') this.id = value
  }
}

export interface StreamOptions {
  headers: Record<string, string>
  signal: AbortSignal
  lastEventId?: string | null
  onMessage: (message: SseMessage) => void
}

/** The stream's request was answered with an error status (a network loss throws a TypeError instead). */
export class StreamRefused extends Error {
  constructor(readonly status: number) {
    super(`stream answered ${status}`)
  }
}

/** Reads the stream until it ends; throws StreamRefused on a non-2xx answer, or the fetch error on a network loss. */
export async function readEventStream(url: string, options: StreamOptions): Promise<string | null> {
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...options.headers }
  if (options.lastEventId) headers['Last-Event-ID'] = options.lastEventId
  const response = await fetch(url, { headers, signal: options.signal })
  if (!response.ok || !response.body) {
    throw new StreamRefused(response.status)
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  const parser = new SseParser()
  let lastId = options.lastEventId ?? null
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return lastId
    for (const message of parser.push(value)) {
      if (message.id !== null) lastId = message.id
      options.onMessage(message)
    }
  }
}
