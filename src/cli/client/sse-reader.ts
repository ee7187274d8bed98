/**
 * Server-Sent Events read off a fetch body, as the HTML standard's parser reads them: lines
 * end with CRLF, LF or CR; `data:` lines join with LF; a blank line ends an event; lines
 * starting with `:` are comments (heartbeats).
 */
export interface SseMessage {
  /** the `id:` field when the message had one */
  id?: string;
  event: string;
  data: string;
}

export interface SseChunk {
  messages: SseMessage[];
  /** comments seen in the chunk (`: ping`) */
  comments: number;
}

/** Yields what each network chunk completed, so callers can act once per chunk (save state, say). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseChunk> {
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    yield parser.push(decoder.decode(bytes, { stream: true }), false);
  }
  yield parser.push(decoder.decode(), true);
}

class SseParser {
  private buffer = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];

  /** `final`: the body ended, so a CR at the very end is a line end, not half a CRLF */
  push(text: string, final: boolean): SseChunk {
    this.buffer += text;
    const chunk: SseChunk = { messages: [], comments: 0 };
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      if (end < 0 || (!final && end === this.buffer.length - 1 && this.buffer[end] === '\r')) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (this.buffer.startsWith('\r\n', end) ? 2 : 1));
      this.line(line, chunk);
    }
    return chunk;
  }

  private line(line: string, chunk: SseChunk): void {
    if (line === '') {
      if (this.data.length > 0) chunk.messages.push({ ...(this.id !== undefined && { id: this.id }), event: this.event || 'message', data: this.data.join('\n') });
      this.id = undefined;
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) {
      chunk.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}
