/**
 * A stream with `options.writeMode: "concurrent"` (a hot stream written through many
 * processes): no expected-last chain, JetStream orders the messages as they arrive. Three
 * nats stores, each with its own connection and writer as three processes have, append at
 * once; then the same on a 3-node cluster (3 replicas) while the stream's leader is killed.
 * What must hold: seqs 1..N, every event once at the seq it was answered with, each request's
 * events in request order, producer-supplied ids never stored twice, typeSeq 0.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { newEvent } from '../conformance/store/store-suite.js';
import type { AppendResult, StoredEvent } from '../../src/kernel/envelope.js';
import { NatsNames } from '../../src/store/nats/nats-names.js';
import type { NatsStore } from '../../src/store/nats/nats-store.js';
import { startNatsCluster, startNatsServer, type NatsCluster } from '../support/nats-server.js';
import { freshNamespace, openNatsTestStore } from '../support/nats-store.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const concurrent = { writeMode: 'concurrent' };

async function readAll(store: NatsStore, stream: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.events.read(stream, { limit: 1_000_000 })) out.push(e);
  return out;
}

async function openStores(
  servers: string,
  count: number,
  replicas: number,
  prefix = freshNamespace(),
): Promise<NatsStore[]> {
  const stores: NatsStore[] = [];
  for (let i = 0; i < count; i++) stores.push(await openNatsTestStore(servers, prefix, replicas));
  return stores;
}

async function createStream(store: NatsStore, name: string): Promise<void> {
  const now = new Date().toISOString();
  await store.streams.create({
    name,
    owner: 'test',
    description: '',
    retention: {},
    exclusiveProducer: false,
    options: concurrent,
    createdAt: now,
    updatedAt: now,
  });
}

interface Sent {
  ids: string[];
  result: AppendResult;
}

interface Load {
  sent: Sent[];
  /** ids of requests that failed (unacknowledged: their events may or may not be stored) */
  failedIds: Set<string>;
  errors: string[];
}

/**
 * `clients` closed-loop clients per store, each sending `requests` requests of `size` events.
 * A failed request is noted and the client goes on, as a client retrying later would.
 */
async function load(
  stores: NatsStore[],
  stream: string,
  clients: number,
  requests: number,
  size: number,
  stop?: () => boolean,
): Promise<Load> {
  const out: Load = { sent: [], failedIds: new Set(), errors: [] };
  const client = async (store: NatsStore, writer: number, c: number) => {
    for (let r = 0; r < requests && !stop?.(); r++) {
      const events = range(1, size).map((i) =>
        newEvent(i % 2 ? 'odd' : 'even', { writer, c, r, i }, { id: `w${writer}-c${c}-r${r}-${i}` }),
      );
      try {
        out.sent.push({
          ids: events.map((e) => e.id),
          result: await store.events.append({ stream, events, producer: null }),
        });
      } catch (err) {
        out.errors.push(String((err as Error).message));
        for (const e of events) out.failedIds.add(e.id);
      }
    }
  };
  await Promise.all(stores.flatMap((store, writer) => range(1, clients).map((c) => client(store, writer, c))));
  return out;
}

/**
 * `requestOrder`: each request's events in request order. Not promised across a lost leader:
 * an event whose acknowledgement was lost is re-sent, and lands after the later events of its
 * request that did get through (docs/store-nats.md).
 */
function assertLog(stored: StoredEvent[], { sent, failedIds }: Load, requestOrder = true): void {
  assert.deepEqual(
    stored.map((e) => e.seq),
    range(1, stored.length),
    'seqs gap-free',
  );
  assert.equal(new Set(stored.map((e) => e.id)).size, stored.length, 'no event stored twice');
  const answered = new Map(sent.flatMap((s) => s.ids.map((id, i) => [id, s.result.events[i]!.seq] as const)));
  const storedIds = new Set(stored.map((e) => e.id));
  for (const id of answered.keys()) assert.ok(storedIds.has(id), `acknowledged event ${id} is stored`);
  for (const e of stored) {
    if (failedIds.has(e.id)) continue; // part of a request that failed: stored or not, never acknowledged
    assert.equal(answered.get(e.id), e.seq, `event ${e.id} is stored at the seq it was answered with`);
  }
  for (const s of sent) {
    const seqs = s.result.events.map((e) => e.seq);
    if (requestOrder)
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        'a request’s events keep their order',
      );
    assert.ok(
      s.result.events.every((e) => !e.duplicate && e.typeSeq === 0),
      'no false duplicate, typeSeq 0',
    );
  }
  assert.ok(stored.every((e) => e.typeSeq === 0));
}

describe('concurrent write mode on one nats-server', () => {
  let nats: NatsCluster;
  after(() => nats?.close());

  it('three writers at once: seqs 1..N, each event at its answered seq, requests in order', async () => {
    nats = await startNatsServer();
    const stores = await openStores(nats.servers, 3, 1);
    try {
      await createStream(stores[0]!, 'hot');
      const done = await load(stores, 'hot', 8, 10, 20);
      assert.deepEqual(done.errors, []);
      assertLog(await readAll(stores[1]!, 'hot'), done);
      const sent = done.sent;
      // without a chain the writers' requests interleave: at least one request is not contiguous
      const split = sent.filter(
        (s) => s.result.events[s.result.events.length - 1]!.seq - s.result.events[0]!.seq !== s.ids.length - 1,
      );
      process.stderr.write(`concurrent writers: ${split.length} of ${sent.length} requests interleaved with others\n`);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('ids: a retry through another writer answers the original seqs as duplicates; an id repeated in a request is written once', async () => {
    const [a, b] = (await openStores(nats.servers, 2, 1)) as [NatsStore, NatsStore];
    try {
      await createStream(a, 'ids');
      const events = range(1, 5).map((i) => newEvent('t', i, { id: `fixed-${i}` }));
      const first = await a.events.append({ stream: 'ids', events, producer: null });
      await b.events.append({ stream: 'ids', events: [newEvent('t', 'other')], producer: null });
      const again = await b.events.append({
        stream: 'ids',
        events: [...events, newEvent('t', 6, { id: 'fixed-6' }), newEvent('t', 7, { id: 'fixed-6' })],
        producer: null,
      });
      assert.deepEqual(
        again.events.slice(0, 5).map((e) => [e.seq, e.duplicate]),
        first.events.map((e) => [e.seq, true]),
      );
      assert.deepEqual(
        again.events.slice(5).map((e) => [e.seq, e.duplicate]),
        [
          [7, false],
          [7, true],
        ],
      );
      assert.equal((await readAll(a, 'ids')).length, 7);
      const stats = await b.events.stats('ids');
      assert.equal(stats.lastSeq, 7);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a deleted stream refuses appends with STREAM_NOT_FOUND', async () => {
    const [a, b] = (await openStores(nats.servers, 2, 1)) as [NatsStore, NatsStore];
    try {
      await createStream(a, 'gone');
      await b.events.append({ stream: 'gone', events: [newEvent('t', 1)], producer: null });
      await a.streams.delete('gone');
      await assert.rejects(a.events.append({ stream: 'gone', events: [newEvent('t', 2)], producer: null }), {
        code: 'STREAM_NOT_FOUND',
      });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('concurrent write mode on a 3-node cluster (3 replicas)', () => {
  let cluster: NatsCluster;
  after(() => cluster?.close());

  it('two writers keep appending while the stream leader is killed: nothing acknowledged is lost or written twice', async () => {
    cluster = await startNatsCluster();
    const prefix = freshNamespace();
    const stores = await openStores(cluster.servers, 2, 3, prefix);
    const nc = await connect({ servers: cluster.servers.split(',') });
    try {
      await createStream(stores[0]!, 'hot');
      const jsm = await jetstreamManager(nc);
      const jsName = new NatsNames(prefix).jsStream('hot');
      let stop = false;
      const running = load(stores, 'hot', 4, 1_000_000, 5, () => stop);
      await new Promise((r) => setTimeout(r, 1500));
      const leader = (await jsm.streams.info(jsName)).cluster?.leader;
      const victim = cluster.nodes.find((n) => n.name === leader) ?? cluster.nodes[0]!;
      await victim.kill();
      await new Promise((r) => setTimeout(r, 4000));
      stop = true;
      const done = await running;
      process.stderr.write(
        `leader killed: ${done.sent.length} requests acknowledged, ${done.errors.length} failed (${[...new Set(done.errors)].join('; ')})\n`,
      );
      assert.ok(done.sent.length > 20, `the writers got through (${done.sent.length} requests)`);
      // a request fails only once the writer gave up retrying (30 s): none should here
      assert.ok(done.errors.length <= done.sent.length / 10, 'few requests failed');
      const reordered = done.sent.filter((s) =>
        s.result.events.some((e, i) => i > 0 && e.seq < s.result.events[i - 1]!.seq),
      ).length;
      process.stderr.write(`leader killed: ${reordered} requests had an event re-sent behind later ones\n`);
      assertLog(await readAll(stores[1]!, 'hot'), done, false);
    } finally {
      await nc.close();
      for (const s of stores) await s.close();
    }
  });
});
