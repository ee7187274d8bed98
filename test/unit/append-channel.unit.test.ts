import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import { allocateChannel, RingReader, RingWriter } from '../../src/store/sqlite/append-channel.js';
import { toWire, type WireRequest } from '../../src/store/sqlite/append-wire.js';
import type { NewEvent } from '../../src/kernel/envelope.js';

// both ends on one thread: requests are written before `take()` looks, so it never blocks
function ring(bytes?: number) {
  const { port1, port2 } = new MessageChannel();
  const buffers = allocateChannel(bytes);
  return { writer: new RingWriter(port1, buffers), reader: new RingReader(port2, buffers), close: () => port1.close() };
}

const event = (id: string, data: unknown, extra: Partial<NewEvent> = {}): NewEvent =>
  ({
    id,
    type: 'reading.taken',
    source: '/sensors/1',
    time: '2026-11-24T00:00:00.000Z',
    producer: null,
    data,
    meta: {},
    idSupplied: false,
    ...extra,
  }) as NewEvent;

const plain = (r: WireRequest) => ({ ...r, ints: Array.from(r.ints) });
const request = (i: number, size = 10) =>
  toWire('s', null, undefined, undefined, [event(`id-${i}`, { i, pad: 'x'.repeat(size) })]);

/** the first event's data: after its id, type, source, time and producer (−1: none) */
function dataOf(r: WireRequest): Record<string, unknown> {
  const at = [0, 1, 2, 3, 4].reduce((n, f) => n + Math.max(0, r.ints[f]!), 0);
  return JSON.parse(r.text.slice(at, at + r.ints[5]!)) as Record<string, unknown>;
}

function taken(reader: RingReader, maxEvents = 10_000): WireRequest[] {
  const t = reader.take(maxEvents);
  assert.equal(t.kind, 'requests');
  return t.kind === 'requests' ? t.requests : [];
}

describe('append ring', () => {
  it('carries requests exactly and in order, absent fields and all', () => {
    const { writer, reader, close } = ring();
    const sent = [
      toWire('orders', null, undefined, undefined, [event('a1', { n: 1 })]),
      toWire('orders', 'producer-7', 'key-1', 'hash-1', [
        event('b1', { s: 'x' }, { producer: 'producer-7', schemaVersion: 3 }),
        event('b2', null, { idSupplied: true }),
      ]),
    ];
    for (const r of sent) writer.write(r);
    assert.deepEqual(taken(reader).map(plain), sent.map(plain));
    close();
  });

  it('keeps every string as it was: non-Latin text, emoji and a lone surrogate', () => {
    const { writer, reader, close } = ring();
    const odd = 'ünïcødé ✓ 😀 \ud800 end';
    const sent = [toWire(`stream-${odd}`, odd, odd, undefined, [event(odd, { odd }, { type: odd, source: odd })])];
    writer.write(sent[0]!);
    assert.deepEqual(taken(reader).map(plain), sent.map(plain));
    close();
  });

  it('takes at most about maxEvents per group, but always one request', () => {
    const { writer, reader, close } = ring();
    const big = toWire(
      's',
      null,
      undefined,
      undefined,
      Array.from({ length: 5 }, (_, i) => event(`b${i}`, i)),
    );
    writer.write(big);
    for (let i = 0; i < 4; i++) writer.write(request(i));
    assert.equal(taken(reader, 2).length, 1, 'the 5-event request alone');
    assert.equal(taken(reader, 2).length, 2);
    assert.equal(taken(reader, 2).length, 2);
    close();
  });

  it('wraps around its end many times without losing or reordering a request', () => {
    const { writer, reader, close } = ring(4096);
    let next = 0;
    const seen: number[] = [];
    for (let round = 0; round < 200; round++) {
      for (let k = 0; k < 1 + (round % 5); k++) writer.write(request(next++, (round % 7) * 10));
      for (const r of taken(reader)) seen.push(dataOf(r).i as number);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: next }, (_, i) => i),
    );
    close();
  });

  it('holds requests back while the ring is full and delivers them, in order, once the reader made room', () => {
    const { writer, reader, close } = ring(4096);
    for (let i = 0; i < 40; i++) writer.write(request(i, 100));
    assert.ok(writer.backlog > 0, 'some requests wait for room');
    const seen: string[] = [];
    while (seen.length < 40) {
      for (const r of taken(reader)) seen.push(r.text.slice(0, r.ints[0]!));
      writer.flush();
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 40 }, (_, i) => `id-${i}`),
    );
    assert.equal(writer.backlog, 0);
    close();
  });

  it('sends a request too large for the ring by message, in its place in the order', () => {
    const { writer, reader, close } = ring(4096);
    const large = toWire(
      's',
      null,
      undefined,
      undefined,
      Array.from({ length: 50 }, (_, i) => event(`L${i}`, { pad: 'y'.repeat(200) })),
    );
    writer.write(request(1));
    writer.write(large);
    writer.write(request(2));
    const got = taken(reader);
    assert.deepEqual(got.map(plain), [request(1), large, request(2)].map(plain));
    close();
  });

  it('answers close once the ring is empty', () => {
    const { writer, reader, close } = ring();
    writer.write(request(1));
    writer.close();
    assert.equal(taken(reader).length, 1);
    assert.deepEqual(reader.take(10), { kind: 'close' });
    close();
  });
});

describe('append ring across threads', () => {
  // the reader answers each group with the first event id of every request in it
  function startReader(buffers: ReturnType<typeof allocateChannel>) {
    const module = new URL('../../src/store/sqlite/append-channel.ts', import.meta.url).href;
    return new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(module)}); }).then(({ RingReader }) => {
        const reader = new RingReader(parentPort, workerData);
        for (;;) {
          const t = reader.take(7);
          if (t.kind === 'close') { parentPort.postMessage({ closed: true }); return; }
          parentPort.postMessage({ ids: t.requests.map((r) => r.text.slice(0, r.ints[0])) });
        }
      });`,
      { eval: true, workerData: buffers },
    );
  }

  it('wakes a sleeping reader for every burst, with nothing lost or reordered', async () => {
    const buffers = allocateChannel(8192);
    const worker = startReader(buffers);
    const writer = new RingWriter(worker, buffers);
    const seen: string[] = [];
    const closed = new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m: { ids?: string[]; closed?: boolean }) => {
        if (m.closed) resolve();
        seen.push(...(m.ids ?? []));
        writer.flush();
      });
    });
    let next = 0;
    for (let burst = 0; burst < 300; burst++) {
      for (let k = 0; k < 1 + (burst % 9); k++) writer.write(request(next++, (burst % 4) * 40));
      // sometimes the reader has gone back to sleep before the next burst, sometimes not
      await new Promise((r) => (burst % 3 === 0 ? setTimeout(r, 1) : setImmediate(r)));
    }
    while (seen.length < next) await new Promise((r) => setTimeout(r, 5));
    writer.close();
    await closed;
    await worker.terminate();
    assert.deepEqual(
      seen,
      Array.from({ length: next }, (_, i) => `id-${i}`),
    );
  });

  it('lets a sleeping reader sleep until the turn that wrote a burst ends, then takes the burst as one group', async () => {
    const buffers = allocateChannel(8192);
    const ctrl = new Int32Array(buffers.ctrl);
    const worker = startReader(buffers);
    const writer = new RingWriter(worker, buffers);
    after(() => worker.terminate());
    const groups: string[][] = [];
    worker.on('message', (m: { ids?: string[] }) => m.ids && groups.push(m.ids));
    const asleep = async () => {
      // SLEEPING (ctrl[2]) is 1 just before the reader waits: give it time to be inside the wait
      while (Atomics.load(ctrl, 2) !== 1) await new Promise((r) => setTimeout(r, 1));
      await new Promise((r) => setTimeout(r, 20));
    };
    const until = async (count: number) => {
      while (groups.flat().length < count) await new Promise((r) => setTimeout(r, 2));
    };
    const pause = new Int32Array(new SharedArrayBuffer(4));
    await asleep();
    // five requests in one turn, the first well ahead of the others: none wakes the reader, the end of the turn does
    writer.write(request(0));
    Atomics.wait(pause, 0, 0, 30);
    for (let i = 1; i < 5; i++) writer.write(request(i));
    await until(5);
    assert.deepEqual(groups, [['id-0', 'id-1', 'id-2', 'id-3', 'id-4']]);
    // a long turn does not hold a full group back: the eighth request wakes the reader at once
    await asleep();
    groups.length = 0;
    const tail = Atomics.load(ctrl, 1);
    for (let i = 5; i < 13; i++) writer.write(request(i));
    // still in the writing turn: the reader must take the group now (TAIL, ctrl[1], moves)
    const started = Date.now();
    while (Atomics.load(ctrl, 1) === tail && Date.now() - started < 5000) Atomics.wait(pause, 0, 0, 1);
    assert.notEqual(Atomics.load(ctrl, 1), tail, 'the reader took the group before the turn ended');
    await until(8);
    // seven: this reader takes at most seven events a group
    assert.deepEqual(groups[0], ['id-5', 'id-6', 'id-7', 'id-8', 'id-9', 'id-10', 'id-11']);
  });
});
