import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../../src/kernel/envelope.js';
import type { EventTextPage } from '../../src/store/port.js';
import { renderEvent } from '../../src/http/routes/events-routes.js';
import {
  sseEventBytes,
  sseTextFrames,
  textPayloads,
  wsEventFrame,
  wsTextFrame,
  wsTextFrames,
} from '../../src/http/live/live-frames.js';

function event(seq: number, data: unknown): StoredEvent {
  return {
    id: `id-${seq}`,
    stream: 'orders',
    seq,
    typeSeq: seq,
    type: 'order\nplaced',
    source: 's',
    time: '2025-01-01T00:00:00.000Z',
    received: '2025-01-01T00:00:00.001Z',
    producer: null,
    data: data as StoredEvent['data'],
    meta: {},
    schemaVersion: null,
  };
}

describe('live frames', () => {
  it('writes RFC 6455 text frames: FIN + text opcode, no mask, 7-, 16- and 64-bit lengths', () => {
    for (const [n, head] of [
      [0, [0x81, 0]],
      [125, [0x81, 125]],
      [126, [0x81, 126, 0, 126]],
      [65_535, [0x81, 126, 0xff, 0xff]],
      [65_536, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
    ] as const) {
      const payload = Buffer.alloc(n, 'x');
      const frame = wsTextFrame(payload);
      assert.deepEqual([...frame.subarray(0, head.length)], head, `header for ${n} bytes`);
      assert.equal(frame.length, head.length + n);
      assert.ok(frame.subarray(head.length).equals(payload));
    }
  });

  it("builds an event's frames once and shares them; the payload is the event's JSON", () => {
    const e = event(7, { note: 'é\nline' });
    const ws = wsEventFrame(e);
    assert.equal(wsEventFrame(e), ws, 'the same buffer for every subscriber');
    assert.equal(ws[1], 126, 'a payload of 126–65,535 bytes');
    const text = ws.subarray(4).toString('utf8');
    assert.equal(ws.readUInt16BE(2), Buffer.byteLength(text));
    const json = JSON.parse(text) as { seq: number; data: unknown };
    assert.equal(json.seq, 7);
    assert.deepEqual(json.data, { note: 'é\nline' });
    const sse = sseEventBytes(e);
    assert.equal(sseEventBytes(e), sse);
    assert.equal(sse.toString('utf8'), `id: 7\ndata: ${text}\n\n`);
    const named = sseEventBytes(e, true);
    assert.equal(sseEventBytes(e, true), named);
    assert.equal(named.toString('utf8'), `id: 7\nevent: order placed\ndata: ${text}\n\n`);
    // another object with the same seq is framed on its own (frames follow objects, not seqs)
    assert.notEqual(wsEventFrame(event(7, 1)), ws);
  });

  it("frames a backlog page of stored texts exactly as each event's own frames, from any event on", () => {
    // payloads around the WebSocket length boundaries, multi-byte text, a type with a line break
    const events = [
      event(3, 'a'),
      event(4, 'x'.repeat(200)),
      event(5, { k: 'ü🦀\u2028' }),
      event(9, 'y'.repeat(70_000)),
      { ...event(10, null), type: 'plain' },
    ];
    const texts = events.map((e) => Buffer.from(JSON.stringify(renderEvent(e)), 'utf8'));
    const ends = new Uint32Array(texts.length);
    texts.reduce((at, t, i) => (ends[i] = at + t.length), 0);
    // the page is a view into a larger buffer, as a store may hand it over
    const whole = Buffer.concat([Buffer.from('junk'), ...texts, Buffer.from('more junk')]);
    const page: EventTextPage = {
      bytes: new Uint8Array(whole.buffer, whole.byteOffset + 4, whole.length - 13),
      ends,
      seqs: Float64Array.from(events.map((e) => e.seq)),
      types: events.map((e) => e.type),
      lastSeq: 10,
      more: false,
    };
    for (let from = 0; from < events.length; from++) {
      const rest = events.slice(from);
      assert.ok(
        sseTextFrames(page, from, false).equals(Buffer.concat(rest.map((e) => sseEventBytes(e)))),
        `sse ${from}`,
      );
      assert.ok(
        sseTextFrames(page, from, true).equals(Buffer.concat(rest.map((e) => sseEventBytes(e, true)))),
        `named sse ${from}`,
      );
      assert.ok(wsTextFrames(page, from).equals(Buffer.concat(rest.map((e) => wsEventFrame(e)))), `ws ${from}`);
      assert.deepEqual(
        [...textPayloads(page, from)].map((b) => b.toString('utf8')),
        texts.slice(from).map((t) => t.toString('utf8')),
      );
    }
  });
});
