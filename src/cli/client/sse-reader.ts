/**
 * Server-Sent Events read off a fetch body with eventsource-parser (the HTML standard's
 * parsing rules: CRLF, LF or CR line ends, multi-line data, comments as heartbeats).
 */
import { createParser } from 'eventsource-parser';

export interface SseMessage {
  /** the `id:` field when the message had one */
  id?: string;
  /** `message` for an unnamed event, as EventSource names it */
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
  let chunk: SseChunk = { messages: [], comments: 0 };
  const parser = createParser({
    onEvent: (m) => {
      chunk.messages.push({ ...(m.id !== undefined && { id: m.id }), event: m.event ?? 'message', data: m.data });
    },
    onComment: () => {
      chunk.comments++;
    },
  });
  const take = () => {
    const done = chunk;
    chunk = { messages: [], comments: 0 };
    return done;
  };
  let last = '';
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(bytes, { stream: true });
    if (text) last = text;
    parser.feed(text);
    yield take();
  }
  // a CR at the very end is a line end, not half a CRLF (the parser waits for the LF that may follow)
  parser.feed(`${decoder.decode()}${last.endsWith('\r') ? '\n' : ''}`);
  // an unterminated message at the end of the body is dropped, as EventSource does
  parser.reset();
  yield take();
}
