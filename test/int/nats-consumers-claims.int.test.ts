/**
 * The windows between a consumer's head and its claims (src/store/nats/nats-consumer-store.ts),
 * each driven step by step through two stores on one nats-server, as two Rivulet processes
 * sharing a consumer: an acked event is never handed out again, and no event is skipped.
 *
 * A replica answering an older head is played by the store's bucket answering, for the head's
 * key, a revision read earlier — what a follower of a 3-node cluster does while it catches up.
 * A write that never happens or comes late is played by holding the store's claim write.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { newEvent, streamRecord } from '../conformance/store/store-suite.js';
import type { ConsumerDefinition, Delivery } from '../../src/store/port.js';
import type { JsonBucket, Versioned } from '../../src/store/nats/kv-json.js';
import type { NatsStore } from '../../src/store/nats/nats-store.js';
import { token } from '../../src/store/nats/nats-names.js';
import { startNatsServer } from '../support/nats-server.js';
import { openSharedNatsTestStores } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

const LEASE_MS = 10_000;
const HEAD = `${token('s')}.${token('c')}`;

interface HeadValue {
  claims: { claim: string; from: number; to: number; dueMs: number }[];
  scannedSeq: number;
}

function bucketOf(store: NatsStore): JsonBucket {
  return (store.consumers as unknown as { bucket: JsonBucket }).bucket;
}

/** two stores sharing a stream `s` of `count` events and an unfiltered consumer `c` */
async function setUp(count: number): Promise<{ a: NatsStore; b: NatsStore; close: () => Promise<void> }> {
  const [a, b] = await openSharedNatsTestStores(nats.servers);
  await a.streams.create(streamRecord('s'));
  await a.events.append({
    stream: 's',
    events: Array.from({ length: count }, (_, i) => newEvent('t', { i })),
    producer: null,
  });
  const def: ConsumerDefinition = {
    stream: 's',
    name: 'c',
    types: [],
    leaseMs: LEASE_MS,
    maxDeliveries: 5,
    deadLetterStream: null,
  };
  await a.consumers.create(def, { from: 'beginning' }, Date.now());
  return { a, b, close: () => Promise.all([a.close(), b.close()]).then(() => {}) };
}

const receive = (store: NatsStore, max: number, nowMs: number) =>
  store.consumers.receive('s', 'c', { max, leaseMs: LEASE_MS, clientId: null, nowMs });

const seqs = (ds: Delivery[]) => ds.map((d) => d.event.seq);

/** acks every delivery through `store`, answering the outcomes */
const ackAll = (store: NatsStore, ds: Delivery[], nowMs: number) =>
  store.consumers.ack(
    's',
    'c',
    ds.map((d) => d.leaseToken),
    nowMs,
  );

/** what the leader has: the head, and whether each claim key holds a value, a delete marker or nothing */
async function inspect(store: NatsStore): Promise<{
  head: HeadValue;
  claim: (id: string) => Promise<'value' | 'deleted' | 'never written'>;
  /** the leases a claim's value holds (null: no value) */
  leases: (id: string) => Promise<number | null>;
  close: () => Promise<void>;
}> {
  const nc = await connect({ servers: nats.servers.split(',') });
  const kv = await new Kvm(jetstream(nc)).open(store.names.bucket('consumers'));
  const head = (await kv.get(HEAD))!.json<HeadValue>();
  return {
    head,
    claim: async (id) => {
      const e = await kv.get(`${HEAD}.${id}`);
      return !e ? 'never written' : e.operation === 'PUT' ? 'value' : 'deleted';
    },
    leases: async (id) => {
      const e = await kv.get(`${HEAD}.${id}`);
      return e?.operation === 'PUT' ? e.json<{ leases: unknown[] }>().leases.length : null;
    },
    close: () => nc.close(),
  };
}

/** makes the bucket answer `stale` for the head's key on replica reads, until `restore()` */
function staleHead(bucket: JsonBucket, stale: Versioned<unknown>): { restore: () => void; served: () => number } {
  const get = bucket.get.bind(bucket);
  let served = 0;
  bucket.get = (async (key: string, options: { fromLeader?: boolean } = {}) => {
    if (key === HEAD && !options.fromLeader) {
      served++;
      return structuredClone(stale);
    }
    return get(key, options);
  }) as JsonBucket['get'];
  return { restore: () => delete (bucket as Partial<JsonBucket>).get, served: () => served };
}

/** holds the bucket's first-time writes of claim keys until `release()`; `failing` makes them throw instead */
function holdClaimWrites(bucket: JsonBucket, options: { failing?: boolean } = {}) {
  const createFirst = bucket.createFirst.bind(bucket);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const waiting = new Promise<void>((r) => (reached = r));
  bucket.createFirst = (async (key: string, value: unknown) => {
    if (key.startsWith(`${HEAD}.`)) {
      reached();
      if (options.failing) throw new Error('the process stopped before its claim was written');
      await released;
    }
    return createFirst(key, value);
  }) as JsonBucket['createFirst'];
  return {
    /** resolves once a claim write is being held */
    waiting,
    release: () => {
      delete (bucket as Partial<JsonBucket>).createFirst;
      release();
    },
  };
}

describe('nats store: the windows between a consumer head and its claims', () => {
  it('an ack that empties a claim, through a store whose replica has an older head, retires it for good', async () => {
    const { a, b, close } = await setUp(6);
    try {
      const now = Date.now();
      // b's replica still answers the head from before a's receive
      const before = (await bucketOf(b).get(HEAD))!;
      const got = await receive(a, 3, now);
      assert.deepEqual(seqs(got.deliveries), [1, 2, 3]);
      const stale = staleHead(bucketOf(b), before);
      assert.deepEqual(await ackAll(b, got.deliveries, now), ['ok', 'ok', 'ok']);
      await b.consumers.drain();
      assert.ok(stale.served() > 0, 'the retirement read the older head first');
      stale.restore();

      const kv = await inspect(a);
      try {
        assert.deepEqual(kv.head.claims, [], 'the head no longer names the emptied claim');
        assert.equal(kv.head.scannedSeq, 3);
      } finally {
        await kv.close();
      }
      // once the claim's due time has passed, through either store
      const later = now + LEASE_MS + 1;
      assert.deepEqual(seqs((await receive(b, 10, later)).deliveries), [4, 5, 6], 'no acked event again');
      assert.deepEqual(seqs((await receive(a, 10, later)).deliveries), []);
    } finally {
      await close();
    }
  });

  it('a claim deleted while the head still names it is let go, not rebuilt with its acked events', async () => {
    const { a, b, close } = await setUp(4);
    try {
      const now = Date.now();
      const got = await receive(a, 2, now);
      assert.deepEqual(seqs(got.deliveries), [1, 2]);
      const kv = await inspect(a);
      const [ref] = kv.head.claims;
      await kv.close();
      // as a retirement that deleted the entry before the head let go of it would leave things
      const nc = await connect({ servers: nats.servers.split(',') });
      await (await new Kvm(jetstream(nc)).open(a.names.bucket('consumers'))).delete(`${HEAD}.${ref!.claim}`);
      await nc.close();

      const later = now + LEASE_MS + 1;
      assert.deepEqual(seqs((await receive(b, 10, later)).deliveries), [3, 4]);
      await b.consumers.drain();
      const after = await inspect(a);
      try {
        assert.deepEqual(
          after.head.claims.map((c) => [c.from, c.to]),
          [[3, 4]],
          'the deleted claim is out of the head',
        );
        assert.equal(await after.claim(ref!.claim), 'deleted', 'and not written again');
      } finally {
        await after.close();
      }
    } finally {
      await close();
    }
  });

  it('a receive whose claim write never happens: its events are delivered once its lease is over, once', async () => {
    const { a, b, close } = await setUp(5);
    try {
      const now = Date.now();
      const held = holdClaimWrites(bucketOf(a), { failing: true });
      await assert.rejects(receive(a, 3, now), /stopped before its claim/);
      held.release();
      const kv = await inspect(a);
      const [ref] = kv.head.claims;
      assert.deepEqual([ref!.from, ref!.to], [1, 3], 'the head names the claim');
      assert.equal(await kv.claim(ref!.claim), 'never written');
      await kv.close();

      // while the lease would hold, nothing of it is handed out (4 and 5 leased past `later`)
      assert.deepEqual(seqs((await receive(b, 10, now + 2)).deliveries), [4, 5]);
      const later = now + LEASE_MS + 1;
      // both stores find it due at once: it is rebuilt once, and each event handed out once
      const [x, y] = await Promise.all([receive(a, 10, later), receive(b, 10, later)]);
      const all = [...x.deliveries, ...y.deliveries];
      assert.deepEqual(seqs(all).sort(), [1, 2, 3]);
      assert.ok(
        all.every((d) => d.deliveries === 1),
        'never delivered before',
      );
      const outcomes = await ackAll(a, all, later);
      assert.deepEqual(outcomes, ['ok', 'ok', 'ok']);
      assert.equal((await b.consumers.lag('s', 'c', later)).committedSeq, 3, 'up to the leased 4 and 5');
      assert.deepEqual(
        seqs((await receive(b, 10, later + LEASE_MS + 2)).deliveries),
        [4, 5],
        'only the unacked 4 and 5 again, once their lease is over',
      );
    } finally {
      await close();
    }
  });

  it('a receive slower than its lease: the claim rebuilt, handed out, acked and retired meanwhile is not written again', async () => {
    const { a, b, close } = await setUp(3);
    try {
      const now = Date.now();
      const held = holdClaimWrites(bucketOf(a));
      const slow = receive(a, 3, now);
      await held.waiting;

      // the lease is over before the slow receive writes its claim: another process rebuilds it
      const later = now + LEASE_MS + 1;
      const rebuilt = await receive(b, 10, later);
      assert.deepEqual(seqs(rebuilt.deliveries), [1, 2, 3]);
      assert.deepEqual(await ackAll(b, rebuilt.deliveries, later), ['ok', 'ok', 'ok']);
      await b.consumers.drain();

      held.release();
      assert.deepEqual(seqs((await slow).deliveries), [], 'the slow receive hands out nothing it lost');
      assert.deepEqual(seqs((await receive(a, 10, later + LEASE_MS + 1)).deliveries), []);
      const lag = await a.consumers.lag('s', 'c', later);
      assert.equal(lag.committedSeq, 3);
      assert.equal(lag.pending, 0);
    } finally {
      await close();
    }
  });

  it('a rebuild that read the head just before the claim was retired writes nothing', async () => {
    const { a, b, close } = await setUp(3);
    try {
      const now = Date.now();
      const got = await receive(a, 3, now);
      const before = (await bucketOf(a).get(HEAD))!;
      assert.deepEqual(await ackAll(a, got.deliveries, now), ['ok', 'ok', 'ok']);
      await a.consumers.drain();
      // b's next two reads of the head answer the one from before the retirement: its receive's
      // read, and the leader read its rebuild makes (as if made just before the retirement)
      const get = bucketOf(b).get.bind(bucketOf(b));
      let stale = 2;
      bucketOf(b).get = (async (key: string, options?: { fromLeader?: boolean }) =>
        key === HEAD && stale-- > 0 ? structuredClone(before) : get(key, options)) as JsonBucket['get'];
      const later = now + LEASE_MS + 1;
      assert.deepEqual(seqs((await receive(b, 10, later)).deliveries), [], 'no acked event again');
      delete (bucketOf(b) as Partial<JsonBucket>).get;
      assert.deepEqual(seqs((await receive(b, 10, later)).deliveries), []);
      const kv = await inspect(a);
      try {
        assert.equal(
          await kv.leases(got.deliveries[0]!.leaseToken.split('.')[1]!),
          0,
          'the retired claim stays as its last ack left it, not rebuilt',
        );
      } finally {
        await kv.close();
      }
    } finally {
      await close();
    }
  });

  it('retired claims are erased after their grace; deleting the consumer erases every claim key', async () => {
    const { a, b, close } = await setUp(6);
    const nc = await connect({ servers: nats.servers.split(',') });
    try {
      const jsm = await jetstream(nc).jetstreamManager();
      const claimSubjects = async () =>
        Object.keys(
          (await jsm.streams.info(`KV_${a.names.bucket('consumers')}`, { subjects_filter: `$KV.*.${HEAD}.*` })).state
            .subjects ?? {},
        ).length;
      // a's retired claims are erased at once, b's after the usual grace
      (a.consumers as unknown as { retiredClaims: { graceMs: number } }).retiredClaims.graceMs = 0;
      const now = Date.now();
      const got = await receive(a, 3, now);
      await ackAll(a, got.deliveries, now);
      await a.consumers.drain();
      for (let i = 0; (await claimSubjects()) > 0; i++) {
        assert.ok(i < 500, 'the retired claim is erased');
        await new Promise((r) => setTimeout(r, 10));
      }
      // the other process's retired claim stays meanwhile; a claim still leased stays too
      const more = await receive(b, 2, now);
      await ackAll(b, more.deliveries, now);
      await b.consumers.drain();
      assert.deepEqual(seqs((await receive(b, 1, now)).deliveries), [6]);
      assert.equal(await claimSubjects(), 2, 'a retired claim and a live one');
      assert.equal(await a.consumers.delete('s', 'c'), true);
      assert.equal(await claimSubjects(), 0, 'the claims of a deleted consumer are erased');
    } finally {
      await nc.close();
      await close();
    }
  });

  describe('a head write based on an older head that is accepted anyway (nats-server before 2.9.21, clustered)', () => {
    /**
     * b's next write of the head is based on `older` and lands over whatever is there, as two
     * compare-and-sets at one revision that arrive together both can (nats-server#4320)
     */
    function raceLost(store: NatsStore, older: Versioned<unknown>): void {
      const bucket = bucketOf(store);
      const get = bucket.get.bind(bucket);
      const update = bucket.update.bind(bucket);
      let reads = 1;
      bucket.get = (async (key: string, options?: { fromLeader?: boolean }) =>
        key === HEAD && reads-- > 0 ? structuredClone(older) : get(key, options)) as JsonBucket['get'];
      bucket.update = (async (key: string, value: unknown, revision: number) => {
        if (key !== HEAD) return update(key, value, revision);
        delete (bucket as Partial<JsonBucket>).get;
        delete (bucket as Partial<JsonBucket>).update;
        return update(key, value, (await get(key, { fromLeader: true }))!.revision);
      }) as JsonBucket['update'];
    }

    /** a hands out 1–2 and then 3–4; b's retirement of 1–2, based on the head before 3–4, wins */
    async function lostRange(a: NatsStore, b: NatsStore, now: number) {
      const first = await receive(a, 2, now);
      const older = (await bucketOf(b).get(HEAD, { fromLeader: true }))!;
      const second = await receive(a, 2, now);
      assert.deepEqual(seqs(second.deliveries), [3, 4]);
      raceLost(b, older);
      const tokens = first.deliveries.map((d) => d.leaseToken);
      assert.deepEqual(await b.consumers.ack('s', 'c', tokens, now), ['ok', 'ok']);
      await b.consumers.drain();
      const kv = await inspect(a);
      try {
        assert.equal(kv.head.scannedSeq, 2, 'the frontier went back (the precondition)');
        assert.deepEqual(kv.head.claims, [], "and 3–4's claim is out of the head");
      } finally {
        await kv.close();
      }
      return second;
    }

    it('the next receive does not hand the range out again, and puts its claim back in the head', async () => {
      const { a, b, close } = await setUp(6);
      try {
        const now = Date.now();
        const second = await lostRange(a, b, now);
        const next = await receive(b, 10, now);
        assert.deepEqual(seqs(next.deliveries), [5, 6], '3 and 4 are still leased');
        assert.deepEqual(await a.consumers.ack('s', 'c', [second.deliveries[0]!.leaseToken], now), ['ok']);
        await ackAll(a, next.deliveries, now);
        const later = await receive(a, 10, now + LEASE_MS + 1);
        assert.deepEqual(seqs(later.deliveries), [4], 'only the unacked 4, once its lease is over: nothing skipped');
        assert.equal(later.deliveries[0]!.deliveries, 2);
      } finally {
        await close();
      }
    });

    it('a claim of the lost range acked before any receive moves the frontier back past it', async () => {
      const { a, b, close } = await setUp(6);
      try {
        const now = Date.now();
        const second = await lostRange(a, b, now);
        await ackAll(a, second.deliveries, now);
        await a.consumers.drain();
        assert.deepEqual(seqs((await receive(b, 10, now)).deliveries), [5, 6]);
        assert.deepEqual(seqs((await receive(a, 10, now + LEASE_MS + 1)).deliveries), [5, 6], 'unacked, nothing else');
      } finally {
        await close();
      }
    });

    it('two receives in one round from a frontier that went back hand out none of the range again', async () => {
      const { a, b, close } = await setUp(8);
      try {
        const now = Date.now();
        const first = await receive(a, 2, now);
        const older = (await bucketOf(b).get(HEAD, { fromLeader: true }))!;
        assert.deepEqual(seqs((await receive(a, 4, now)).deliveries), [3, 4, 5, 6]);
        // b's retirement of 1–2, based on the head before 3–6, is held at its write of the head
        const bucket = bucketOf(b);
        const get = bucket.get.bind(bucket);
        const update = bucket.update.bind(bucket);
        let reads = 1;
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        bucket.get = (async (key: string, options?: { fromLeader?: boolean }) =>
          key === HEAD && reads-- > 0 ? structuredClone(older) : get(key, options)) as JsonBucket['get'];
        bucket.update = (async (key: string, value: unknown, revision: number) => {
          if (key !== HEAD) return update(key, value, revision);
          delete (bucket as Partial<JsonBucket>).get;
          delete (bucket as Partial<JsonBucket>).update;
          await held;
          return update(key, value, (await get(key, { fromLeader: true }))!.revision);
        }) as JsonBucket['update'];
        await ackAll(b, first.deliveries, now);
        // two receives through b wait for its next round, together
        const both = Promise.all([receive(b, 2, now), receive(b, 2, now)]);
        const pending = (b.consumers as unknown as { pending: Map<string, { wishes: unknown[] }> }).pending;
        for (let i = 0; (pending.get(HEAD)?.wishes.length ?? 0) < 2; i++) {
          assert.ok(i < 500, 'both receives wait for the round');
          await new Promise((r) => setTimeout(r, 10));
        }
        release();
        const got = (await both).flatMap((r) => seqs(r.deliveries)).sort((x, y) => x - y);
        assert.deepEqual(got, [7, 8], 'none of 3–6, which a still holds');
      } finally {
        await close();
      }
    });
  });
});
