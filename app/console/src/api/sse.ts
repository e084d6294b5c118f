/**
 * Server-Sent Events over fetch: EventSource cannot send an Authorization header, so the log
 * stream is read with fetch and parsed here (the WHATWG event-stream format: event, data, id).
 */

export interface SseMessage {
  event: string
  data: string
  id: string | null
}

/** Feeds text chunks in, yields complete messages; keeps a partial message between chunks. */
export class SseParser {
  private buffer = ''
  private event = ''
  private data: string[] = []
  private id: string | null = null

  push(chunk: string): SseMessage[] {
    this.buffer += chunk
    const out: SseMessage[] = []
    let newline: number
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline)
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1
      this.buffer = this.buffer.slice(newline + width)
      if (line === '') {
        if (this.data.length > 0) {
          out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id })
        }
        this.event = ''
        this.data = []
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      let value = colon < 0 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'event') this.event = value
      else if (field === 'data') this.data.push(value)
      else if (field === 'id') this.id = value
    }
    return out
  }
}

export interface StreamOptions {
  headers: Record<string, string>
  signal: AbortSignal
  lastEventId?: string | null
  onMessage: (message: SseMessage) => void
}

/** Reads the stream until it ends; throws on a non-2xx answer or a network loss. */
export async function readEventStream(url: string, options: StreamOptions): Promise<string | null> {
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...options.headers }
  if (options.lastEventId) headers['Last-Event-ID'] = options.lastEventId
  const response = await fetch(url, { headers, signal: options.signal })
  if (!response.ok || !response.body) {
    throw new Error(`stream answered ${response.status}`)
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
