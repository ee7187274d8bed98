import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../../src/kernel/envelope.js';
import { sseEventBytes, wsEventFrame, wsTextFrame } from '../../src/http/live/live-frames.js';

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
});
