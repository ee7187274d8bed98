/**
 * Several writers on one stream, as several Rivulet processes are: three nats stores, each
 * with its own connection and writer, on one namespace of a real nats-server, appending
 * multi-event requests to one stream at once. The writers race for the tail (the loser's
 * first message is refused, it re-reads the tail and waits for the winner's chain to end),
 * and every guarantee of a single writer must still hold.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { newEvent } from '../conformance/store/store-suite.js';
import type { AppendResult, StoredEvent } from '../../src/kernel/envelope.js';
import type { NatsStore } from '../../src/store/nats/nats-store.js';
import { startNatsServer } from '../support/nats-server.js';
import { openSharedNatsTestStores } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function readAll(store: NatsStore, stream: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.events.read(stream, { limit: 100_000 })) out.push(e);
  return out;
}

test('three writers on one stream: seqs 1..N, every request contiguous, typeSeqs gap-free, no false duplicates', async () => {
  const stores = await openSharedNatsTestStores(nats.servers, 3);
  try {
    const now = new Date().toISOString();
    await stores[0]!.streams.create({
      name: 'shared',
      owner: 'test',
      description: '',
      retention: {},
      exclusiveProducer: false,
      options: {},
      createdAt: now,
      updatedAt: now,
    });

    // each writer: 8 clients, each sending 10 requests of 20 events one after the other, so
    // the writers' chains keep overlapping; two types interleaved
    const requests: { ids: string[]; result: Promise<AppendResult> }[] = [];
    const client = async (store: NatsStore, writer: number, c: number) => {
      for (let r = 0; r < 10; r++) {
        const events = range(1, 20).map((i) => newEvent(i % 2 ? 'odd' : 'even', { writer, c, r, i }));
        const result = store.events.append({ stream: 'shared', events, producer: null });
        requests.push({ ids: events.map((e) => e.id), result });
        await result;
      }
    };
    await Promise.all(stores.flatMap((store, writer) => range(1, 8).map((c) => client(store, writer, c))));
    const results = await Promise.all(requests.map((q) => q.result));
    const total = requests.length * 20;

    const seqs = results.flatMap((r) => r.events.map((e) => e.seq)).sort((a, b) => a - b);
    assert.deepEqual(seqs, range(1, total), 'every event once, seqs gap-free');
    for (const r of results) {
      assert.ok(
        r.events.every((e) => !e.duplicate),
        'no event is answered as a duplicate',
      );
      const own = r.events.map((e) => e.seq);
      assert.deepEqual(own, range(own[0]!, own[0]! + 19), 'one request’s events are contiguous');
    }

    const stored = await readAll(stores[1]!, 'shared');
    assert.deepEqual(
      stored.map((e) => e.seq),
      range(1, total),
    );
    const expectedIds = new Map(
      requests.flatMap((q, n) => q.ids.map((id, i) => [id, results[n]!.events[i]!.seq] as const)),
    );
    for (const e of stored)
      assert.equal(expectedIds.get(e.id), e.seq, `event ${e.id} is stored at the seq it was answered with`);
    for (const type of ['odd', 'even']) {
      const ofType = stored.filter((e) => e.type === type);
      assert.deepEqual(
        ofType.map((e) => e.typeSeq),
        range(1, ofType.length),
        `typeSeqs of ${type} run 1..n in seq order`,
      );
    }
  } finally {
    for (const s of stores) await s.close();
  }
});

test('a retried request across writers: ids already stored come back as duplicates with their seqs', async () => {
  const [a, b] = await openSharedNatsTestStores(nats.servers);
  try {
    const now = new Date().toISOString();
    await a.streams.create({
      name: 'retry',
      owner: 'test',
      description: '',
      retention: {},
      exclusiveProducer: false,
      options: {},
      createdAt: now,
      updatedAt: now,
    });
    const events = range(1, 5).map((i) => newEvent('t', i, { id: `fixed-${i}` }));
    const first = await a.events.append({ stream: 'retry', events, producer: null });
    // meanwhile the other writer appends, then the client retries its request through it
    await b.events.append({ stream: 'retry', events: [newEvent('t', 'other')], producer: null });
    const again = await b.events.append({
      stream: 'retry',
      events: [...events, newEvent('t', 6, { id: 'fixed-6' })],
      producer: null,
    });
    assert.deepEqual(
      again.events.slice(0, 5).map((e) => [e.seq, e.typeSeq, e.duplicate]),
      first.events.map((e) => [e.seq, e.typeSeq, true]),
    );
    assert.deepEqual([again.events[5]!.seq, again.events[5]!.typeSeq, again.events[5]!.duplicate], [7, 7, false]);
  } finally {
    await a.close();
    await b.close();
  }
});
