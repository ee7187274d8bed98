/**
 * An event's wire forms for live subscribers, built once per event object and shared by
 * every subscriber that is handed the same object (the tail cache hands one object to all of
 * them): the JSON, the SSE message, and a complete WebSocket text frame. Encoding per
 * subscriber would make fan-out cost one JSON.stringify and one UTF-8 encode per client.
 */
import type { StoredEvent } from '../../kernel/envelope.js';
import type { EventTextPage } from '../../store/port.js';
import { renderEvent } from '../routes/events-routes.js';
import { sseEventName, sseFrame } from './sse-framing.js';

interface Frames {
  json: string;
  sse?: Buffer;
  sseNamed?: Buffer;
  ws?: Buffer;
}

// weak: a frame lives as long as its event object is held (by the tail cache or a reader's page)
const built = new WeakMap<StoredEvent, Frames>();

function framesOf(e: StoredEvent): Frames {
  let f = built.get(e);
  if (!f) {
    f = { json: JSON.stringify(renderEvent(e)) };
    built.set(e, f);
  }
  return f;
}

/**
 * The event as an SSE message: `id:` seq, `data:` the JSON (which holds the type). Unnamed,
 * so EventSource's `onmessage` sees every event; `named` adds `event:` the type, for clients
 * that listen per type.
 */
export function sseEventBytes(e: StoredEvent, named = false): Buffer {
  const f = framesOf(e);
  if (named) {
    f.sseNamed ??= Buffer.from(sseFrame({ id: String(e.seq), event: sseEventName(e.type), data: f.json }), 'utf8');
    return f.sseNamed;
  }
  f.sse ??= Buffer.from(sseFrame({ id: String(e.seq), data: f.json }), 'utf8');
  return f.sse;
}

/** the event's JSON as a WebSocket text payload */
export function wsEventPayload(e: StoredEvent): string {
  return framesOf(e).json;
}

/** the event as one whole, unmasked WebSocket text frame (server to client), ready for the socket */
export function wsEventFrame(e: StoredEvent): Buffer {
  const f = framesOf(e);
  f.ws ??= wsTextFrame(Buffer.from(f.json, 'utf8'));
  return f.ws;
}

/** RFC 6455 §5.2: FIN + text opcode, then the payload length in 7, 7+16 or 7+64 bits; servers never mask */
export function wsTextFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const frame = Buffer.allocUnsafe(frameHeadLength(n) + n);
  payload.copy(frame, writeFrameHead(frame, 0, n));
  return frame;
}

/** the page's bytes as a Buffer (no copy), and where the event at `from` starts */
function pageSource(page: EventTextPage, from: number): { src: Buffer; start: number } {
  return {
    src: Buffer.from(page.bytes.buffer, page.bytes.byteOffset, page.bytes.byteLength),
    start: from === 0 ? 0 : page.ends[from - 1]!,
  };
}

/**
 * A backlog page's events from `from` on as SSE messages, in one buffer: each the message
 * `sseEventBytes` makes of the event (its stored text is what rendering it gives, and JSON text
 * holds no line break, so it is one `data:` line).
 */
export function sseTextFrames(page: EventTextPage, from: number, named: boolean): Buffer {
  const { src, start } = pageSource(page, from);
  const n = page.seqs.length;
  const heads = new Array<string>(n - from);
  let size = page.ends[n - 1]! - start;
  for (let i = from; i < n; i++) {
    const head = named
      ? `id: ${page.seqs[i]!}\nevent: ${sseEventName(page.types![i]!)}\ndata: `
      : `id: ${page.seqs[i]!}\ndata: `;
    heads[i - from] = head;
    size += Buffer.byteLength(head) + 2;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  let s = start;
  for (let i = from; i < n; i++) {
    at += out.write(heads[i - from]!, at);
    const e = page.ends[i]!;
    at += src.copy(out, at, s, e);
    out[at++] = 0x0a;
    out[at++] = 0x0a;
    s = e;
  }
  return out;
}

/** a backlog page's events from `from` on as whole WebSocket text frames, in one buffer */
export function wsTextFrames(page: EventTextPage, from: number): Buffer {
  const { src, start } = pageSource(page, from);
  const n = page.seqs.length;
  let size = page.ends[n - 1]! - start;
  let s = start;
  for (let i = from; i < n; i++) {
    size += frameHeadLength(page.ends[i]! - s);
    s = page.ends[i]!;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  s = start;
  for (let i = from; i < n; i++) {
    const e = page.ends[i]!;
    at = writeFrameHead(out, at, e - s);
    at += src.copy(out, at, s, e);
    s = e;
  }
  return out;
}

/** each event's text of a backlog page from `from` on, as views of the page (no copy) */
export function* textPayloads(page: EventTextPage, from: number): Generator<Buffer> {
  const { src, start } = pageSource(page, from);
  let s = start;
  for (let i = from; i < page.seqs.length; i++) {
    const e = page.ends[i]!;
    yield src.subarray(s, e);
    s = e;
  }
}

function frameHeadLength(n: number): number {
  return n < 126 ? 2 : n < 65_536 ? 4 : 10;
}

/** RFC 6455 §5.2 header of an unmasked text frame of `n` bytes at `at`; answers where the payload goes */
function writeFrameHead(out: Buffer, at: number, n: number): number {
  out[at] = 0x81;
  if (n < 126) {
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 65_536) {
    out[at + 1] = 126;
    out.writeUInt16BE(n, at + 2);
    return at + 4;
  }
  out[at + 1] = 127;
  out.writeBigUInt64BE(BigInt(n), at + 2);
  return at + 10;
}
