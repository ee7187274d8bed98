/**
 * An event's wire forms for live subscribers, built once per event object and shared by
 * every subscriber that is handed the same object (the tail cache hands one object to all of
 * them): the JSON, the SSE message, and a complete WebSocket text frame. Encoding per
 * subscriber would make fan-out cost one JSON.stringify and one UTF-8 encode per client.
 */
import type { StoredEvent } from '../../kernel/envelope.js';
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
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = 0x81;
  if (n < 126) {
    frame[1] = n;
  } else if (n < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(frame, head);
  return frame;
}
