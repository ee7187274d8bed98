/**
 * The store conformance suite: one definition of what every store must do, wired once per
 * store (`defineStoreSuite('sqlite', factory)`). Optional abilities are skipped by the name
 * of the capability the store lacks, so a report shows what did not run and why.
 *
 * The factory opens a fresh, empty store for each test. `reopen`, when given, closes the
 * store and opens it again on the same data (durability checks); `cleanup` closes whatever
 * store is open last.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RivuletError } from '../../../src/kernel/errors.js';
import type { JsonValue, NewEvent, StoredEvent } from '../../../src/kernel/envelope.js';
import type { EventJsonSlice, Store, StreamRecord } from '../../../src/store/port.js';
import { assertDataText, assertJsonText, assertTexts, eventsFor, T0 } from './page-texts.js';

export interface StoreUnderTest {
  store: Store;
  reopen?: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

let idCounter = 0;

/** A normalised event as the core hands it to a store. */
export function newEvent(type: string, data: JsonValue = null, extra: Partial<NewEvent> = {}): NewEvent {
  const id = extra.id ?? `evt-${process.pid}-${++idCounter}`;
  return {
    id,
    idSupplied: extra.idSupplied ?? extra.id !== undefined,
    type,
    source: '/conformance',
    time: extra.time ?? new Date().toISOString(),
    producer: extra.producer ?? null,
    data,
    meta: extra.meta ?? {},
    ...(extra.schemaVersion === undefined ? {} : { schemaVersion: extra.schemaVersion }),
  };
}

/** a stream record to create, with defaults (also used by store tests outside the suite) */
export function streamRecord(
  name: string,
  extra: Partial<StreamRecord> = {},
): Omit<StreamRecord, 'version' | 'lockedBy'> {
  const now = new Date().toISOString();
  return {
    name,
    owner: 'conformance',
    description: extra.description ?? '',
    retention: extra.retention ?? {},
    exclusiveProducer: extra.exclusiveProducer ?? false,
    options: extra.options ?? {},
    createdAt: now,
    updatedAt: now,
  };
}

async function collect(iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

async function drain(slices: AsyncIterable<EventJsonSlice>): Promise<void> {
  for await (const _ of slices);
}

function assertCode(code: RivuletError['code']) {
  return (err: unknown) => {
    assert.ok(err instanceof RivuletError, `expected a RivuletError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export function defineStoreSuite(name: string, factory: StoreFactory): void {
  describe(`store conformance: ${name}`, async () => {
    // Capabilities decide which tests run, so learn them from one store before defining tests.
    const probe = await factory();
    const caps = { ...probe.store.capabilities, reopen: probe.reopen !== undefined };
    await probe.cleanup();

    /** runs `body` with a fresh store and always cleans up */
    const withStore = (body: (s: StoreUnderTest) => Promise<void>) => async () => {
      const sut = await factory();
      try {
        await body(sut);
      } finally {
        await sut.cleanup();
      }
    };

    describe('stream catalog', () => {
      it(
        'creates, gets and refuses a duplicate name',
        withStore(async ({ store }) => {
          const created = await store.streams.create(
            streamRecord('orders', { description: 'all orders', retention: { maxEvents: 10 } }),
          );
          assert.equal(created.version, 1);
          assert.equal(created.lockedBy, null);
          const got = await store.streams.get('orders');
          assert.equal(got?.description, 'all orders');
          assert.deepEqual(got?.retention, { maxEvents: 10 });
          assert.equal(await store.streams.get('nope'), null);
          await assert.rejects(store.streams.create(streamRecord('orders')), assertCode('STREAM_EXISTS'));
        }),
      );

      it(
        'lists in name order with pagination and prefix',
        withStore(async ({ store }) => {
          for (const n of ['b.two', 'a.one', 'b.one', 'c', 'b.three']) await store.streams.create(streamRecord(n));
          const all = await store.streams.list({ limit: 100 });
          assert.deepEqual(
            all.map((s) => s.name),
            ['a.one', 'b.one', 'b.three', 'b.two', 'c'],
          );
          const first = await store.streams.list({ limit: 2 });
          assert.deepEqual(
            first.map((s) => s.name),
            ['a.one', 'b.one'],
          );
          const second = await store.streams.list({ limit: 2, after: 'b.one' });
          assert.deepEqual(
            second.map((s) => s.name),
            ['b.three', 'b.two'],
          );
          const prefixed = await store.streams.list({ limit: 100, prefix: 'b.' });
          assert.deepEqual(
            prefixed.map((s) => s.name),
            ['b.one', 'b.three', 'b.two'],
          );
          const prefixedPage = await store.streams.list({ limit: 1, prefix: 'b.', after: 'b.one' });
          assert.deepEqual(
            prefixedPage.map((s) => s.name),
            ['b.three'],
          );
        }),
      );

      it(
        'updates settings, bumps the version and refuses a stale expected version',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          const updated = await store.streams.update('s', { description: 'changed', retention: { maxAgeMs: 1000 } }, 1);
          assert.equal(updated.version, 2);
          assert.equal(updated.description, 'changed');
          assert.deepEqual((await store.streams.get('s'))?.retention, { maxAgeMs: 1000 });
          await assert.rejects(store.streams.update('s', { description: 'stale' }, 1), assertCode('CONFLICT'));
          assert.equal((await store.streams.get('s'))?.description, 'changed');
          await assert.rejects(store.streams.update('missing', { description: 'x' }), assertCode('STREAM_NOT_FOUND'));
        }),
      );

      it(
        'deletes a stream with its events; a new stream of that name starts empty',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('gone'));
          await store.events.append({
            stream: 'gone',
            events: [newEvent('t', 1, { id: 'keep-me' }), newEvent('t', 2)],
            producer: null,
          });
          assert.equal(await store.streams.delete('gone'), true);
          assert.equal(await store.streams.get('gone'), null);
          assert.equal(await store.streams.delete('gone'), false);
          await assert.rejects(store.events.stats('gone'), assertCode('STREAM_NOT_FOUND'));
          await store.streams.create(streamRecord('gone'));
          const stats = await store.events.stats('gone');
          assert.equal(stats.count, 0);
          assert.equal(stats.lastSeq, 0);
          assert.equal(await store.events.getById('gone', 'keep-me'), null);
          const again = await store.events.append({
            stream: 'gone',
            events: [newEvent('t', 3, { id: 'keep-me' })],
            producer: null,
          });
          assert.deepEqual(
            again.events.map((e) => [e.seq, e.duplicate]),
            [[1, false]],
          );
        }),
      );
    });

    describe('append', () => {
      it(
        'assigns gap-free seqs and per-type typeSeqs across appends',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          const r1 = await store.events.append({
            stream: 's',
            events: [newEvent('a'), newEvent('b'), newEvent('a')],
            producer: null,
          });
          assert.equal(r1.replayed, false);
          assert.deepEqual(
            r1.events.map((e) => [e.seq, e.typeSeq, e.duplicate]),
            [
              [1, 1, false],
              [2, 1, false],
              [3, 2, false],
            ],
          );
          const r2 = await store.events.append({
            stream: 's',
            events: [newEvent('b', null, { producer: 'p1' })],
            producer: 'p1',
          });
          assert.deepEqual(
            r2.events.map((e) => [e.seq, e.typeSeq]),
            [[4, 2]],
          );
          const stored = await collect(store.events.read('s', { limit: 100 }));
          assert.deepEqual(
            stored.map((e) => e.seq),
            [1, 2, 3, 4],
          );
          assert.equal(stored[3]!.producer, 'p1');
          assert.equal(stored[0]!.stream, 's');
        }),
      );

      it(
        'keeps seqs per stream',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('x'));
          await store.streams.create(streamRecord('y'));
          await store.events.append({ stream: 'x', events: [newEvent('t'), newEvent('t')], producer: null });
          const y = await store.events.append({ stream: 'y', events: [newEvent('t')], producer: null });
          assert.equal(y.events[0]!.seq, 1);
        }),
      );

      it(
        'stores the envelope verbatim: data, meta, time, source, schema version',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          const data = { nested: { list: [1, 'two', null, true], unicode: 'ø✓😀' } };
          const ev = newEvent('t', data, {
            id: 'e1',
            time: '2024-05-01T12:00:00.123+02:00',
            meta: { specversion: '1.0', subject: 'x' },
            schemaVersion: 3,
            producer: 'prod',
          });
          await store.events.append({ stream: 's', events: [ev], producer: 'prod' });
          const got = await store.events.getById('s', 'e1');
          assert.ok(got);
          assert.deepEqual(got.data, data);
          assert.deepEqual(got.meta, { specversion: '1.0', subject: 'x' });
          assert.equal(got.time, '2024-05-01T12:00:00.123+02:00');
          assert.equal(got.source, '/conformance');
          assert.equal(got.schemaVersion, 3);
          assert.equal(got.producer, 'prod');
          assert.ok(!Number.isNaN(Date.parse(got.received)));
        }),
      );

      it(
        'is all or nothing: a batch that cannot be stored writes nothing and leaves no gap',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          await store.events.append({ stream: 's', events: [newEvent('t')], producer: null });
          // a BigInt cannot be serialised by any store
          const bad = [newEvent('t', 1), newEvent('t', 2), newEvent('t', 3n as unknown as JsonValue)];
          const good = store.events.append({ stream: 's', events: [newEvent('t', 'neighbour')], producer: null });
          await assert.rejects(store.events.append({ stream: 's', events: bad, producer: null }));
          await good;
          const after = await store.events.append({ stream: 's', events: [newEvent('t', 'after')], producer: null });
          const stored = await collect(store.events.read('s', { limit: 100 }));
          assert.deepEqual(
            stored.map((e) => e.seq),
            [1, 2, 3],
          );
          assert.equal(after.events[0]!.seq, 3);
          assert.ok(!stored.some((e) => e.data === 1 || e.data === 2));
          assert.equal((await store.events.stats('s')).count, 3);
        }),
      );

      it(
        'refuses an unknown stream with STREAM_NOT_FOUND',
        withStore(async ({ store }) => {
          await assert.rejects(
            store.events.append({ stream: 'missing', events: [newEvent('t')], producer: null }),
            assertCode('STREAM_NOT_FOUND'),
          );
          await assert.rejects(collect(store.events.read('missing', { limit: 1 })), assertCode('STREAM_NOT_FOUND'));
        }),
      );

      it(
        'locks an exclusive stream to its first producer (PRODUCER_LOCKED); an update turning it off unlocks',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('ex', { exclusiveProducer: true }));
          await store.events.append({ stream: 'ex', events: [newEvent('t')], producer: 'first' });
          assert.equal((await store.streams.get('ex'))?.lockedBy, 'first');
          await store.events.append({ stream: 'ex', events: [newEvent('t')], producer: 'first' });
          await assert.rejects(
            store.events.append({ stream: 'ex', events: [newEvent('t')], producer: 'second' }),
            assertCode('PRODUCER_LOCKED'),
          );
          await assert.rejects(
            store.events.append({ stream: 'ex', events: [newEvent('t')], producer: null }),
            assertCode('PRODUCER_LOCKED'),
          );
          assert.equal((await store.events.stats('ex')).lastSeq, 2);
          await store.streams.update('ex', { exclusiveProducer: false });
          const r = await store.events.append({ stream: 'ex', events: [newEvent('t')], producer: 'second' });
          assert.equal(r.events[0]!.seq, 3);
        }),
      );

      it(
        'answers a producer-supplied id seen before as a duplicate, also within one batch',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          const first = await store.events.append({
            stream: 's',
            events: [newEvent('t', 1, { id: 'A' }), newEvent('t', 2, { id: 'B' })],
            producer: null,
          });
          assert.deepEqual(
            first.events.map((e) => [e.id, e.seq, e.duplicate]),
            [
              ['A', 1, false],
              ['B', 2, false],
            ],
          );
          const retry = await store.events.append({
            stream: 's',
            events: [
              newEvent('t', 1, { id: 'A' }),
              newEvent('t', 3, { id: 'C' }),
              newEvent('t', 3, { id: 'C' }),
              newEvent('u', 4, { id: 'D' }),
            ],
            producer: null,
          });
          assert.deepEqual(
            retry.events.map((e) => [e.id, e.seq, e.duplicate]),
            [
              ['A', 1, true],
              ['C', 3, false],
              ['C', 3, true],
              ['D', 4, false],
            ],
          );
          assert.equal(retry.events[2]!.typeSeq, retry.events[1]!.typeSeq);
          const stored = await collect(store.events.read('s', { limit: 100 }));
          assert.deepEqual(
            stored.map((e) => e.id),
            ['A', 'B', 'C', 'D'],
          );
        }),
      );

      it(
        'replays an Idempotency-Key and refuses it with another body (IDEMPOTENCY_KEY_REUSED)',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          const req = { stream: 's', producer: null, idempotencyKey: 'k1', requestHash: 'hash-1' };
          const original = await store.events.append({ ...req, events: [newEvent('t', 1), newEvent('t', 2)] });
          assert.equal(original.replayed, false);
          const replay = await store.events.append({ ...req, events: [newEvent('t', 1), newEvent('t', 2)] });
          assert.equal(replay.replayed, true);
          assert.deepEqual(replay.events, original.events);
          await assert.rejects(
            store.events.append({ ...req, requestHash: 'hash-2', events: [newEvent('t', 9)] }),
            assertCode('IDEMPOTENCY_KEY_REUSED'),
          );
          assert.equal((await store.events.stats('s')).count, 2);
          // keys are per stream
          await store.streams.create(streamRecord('other'));
          const elsewhere = await store.events.append({ ...req, stream: 'other', events: [newEvent('t')] });
          assert.equal(elsewhere.replayed, false);
        }),
      );

      it(
        'gives 50 concurrent appends of 10 events seqs 1..500 with no gap or duplicate',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('busy'));
          const results = await Promise.all(
            range(1, 50).map((caller) =>
              store.events.append({
                stream: 'busy',
                events: range(1, 10).map((i) => newEvent(i % 2 ? 'odd' : 'even', { caller, i })),
                producer: `p${caller}`,
              }),
            ),
          );
          const seqs = results.flatMap((r) => r.events.map((e) => e.seq)).sort((a, b) => a - b);
          assert.deepEqual(seqs, range(1, 500));
          for (const r of results) {
            const own = r.events.map((e) => e.seq);
            assert.deepEqual(own, range(own[0]!, own[0]! + 9), 'one request’s events are contiguous');
          }
          const typeSeqs = results
            .flatMap((r) => r.events.filter((_, i) => i % 2 === 1).map((e) => e.typeSeq))
            .sort((a, b) => a - b);
          assert.deepEqual(typeSeqs, range(1, 250));
          const stored = await collect(store.events.read('busy', { limit: 1000 }));
          assert.deepEqual(
            stored.map((e) => e.seq),
            range(1, 500),
          );
        }),
      );
    });

    describe('read', () => {
      const seed = async (store: Store) => {
        await store.streams.create(streamRecord('r'));
        const base = Date.parse('2024-01-01T00:00:00Z');
        const events = range(1, 20).map((i) =>
          newEvent(i % 3 === 0 ? 'three' : i % 2 === 0 ? 'even' : 'odd', i, {
            id: `r${i}`,
            time: new Date(base + i * 60_000).toISOString(),
          }),
        );
        await store.events.append({ stream: 'r', events, producer: null });
        return base;
      };

      it(
        'filters by after, from/to (inclusive), types and limit, and pages',
        withStore(async ({ store }) => {
          const base = await seed(store);
          const seqs = async (q: Parameters<Store['events']['read']>[1]) =>
            (await collect(store.events.read('r', q))).map((e) => e.seq);
          assert.deepEqual(await seqs({ limit: 100 }), range(1, 20));
          assert.deepEqual(await seqs({ afterSeq: 15, limit: 100 }), range(16, 20));
          assert.deepEqual(await seqs({ limit: 3 }), [1, 2, 3]);
          assert.deepEqual(await seqs({ afterSeq: 3, limit: 3 }), [4, 5, 6]);
          assert.deepEqual(
            await seqs({ fromTimeMs: base + 5 * 60_000, toTimeMs: base + 8 * 60_000, limit: 100 }),
            [5, 6, 7, 8],
          );
          assert.deepEqual(await seqs({ types: ['three'], limit: 100 }), [3, 6, 9, 12, 15, 18]);
          assert.deepEqual(
            await seqs({ types: ['three', 'even'], afterSeq: 10, limit: 100 }),
            [12, 14, 15, 16, 18, 20],
          );
          assert.deepEqual(await seqs({ types: ['three'], afterSeq: 6, limit: 2 }), [9, 12]);
          assert.deepEqual(await seqs({ types: ['none'], limit: 100 }), []);
          assert.deepEqual(await seqs({ afterSeq: 20, limit: 100 }), []);
          // paging by the last seq of each page walks everything exactly once
          const walked: number[] = [];
          let after = 0;
          for (;;) {
            const page = await seqs({ afterSeq: after, limit: 7 });
            walked.push(...page);
            if (page.length < 7) break;
            after = page[page.length - 1]!;
          }
          assert.deepEqual(walked, range(1, 20));
        }),
      );

      it(
        'reads a range larger than one internal page',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('big'));
          for (let b = 0; b < 3; b++)
            await store.events.append({
              stream: 'big',
              events: range(1, 400).map((i) => newEvent('t', i)),
              producer: null,
            });
          const all = await collect(store.events.read('big', { limit: 1200 }));
          assert.deepEqual(
            all.map((e) => e.seq),
            range(1, 1200),
          );
          const some = await collect(store.events.read('big', { afterSeq: 100, limit: 700 }));
          assert.equal(some.length, 700);
          assert.equal(some[699]!.seq, 800);
        }),
      );

      it(
        'gets one event by id and by seq',
        withStore(async ({ store }) => {
          await seed(store);
          assert.equal((await store.events.getById('r', 'r7'))?.seq, 7);
          assert.equal((await store.events.getBySeq('r', 7))?.id, 'r7');
          assert.equal(await store.events.getById('r', 'nope'), null);
          assert.equal(await store.events.getBySeq('r', 99), null);
          await assert.rejects(store.events.getById('missing', 'r7'), assertCode('STREAM_NOT_FOUND'));
        }),
      );

      it(
        'finds the seq at a time',
        withStore(async ({ store }) => {
          const base = await seed(store);
          assert.equal(await store.events.seqAtTime('r', base), 1);
          assert.equal(await store.events.seqAtTime('r', base + 5 * 60_000), 5);
          assert.equal(await store.events.seqAtTime('r', base + 5 * 60_000 - 1), 5);
          assert.equal(await store.events.seqAtTime('r', base + 999 * 60_000), 21);
        }),
      );

      it(
        'reports stats: count, bounds, times and bytes',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          const empty = await store.events.stats('s');
          assert.deepEqual(empty, { count: 0, firstSeq: 1, lastSeq: 0, firstTime: null, lastTime: null, bytes: 0 });
          await store.events.append({
            stream: 's',
            events: [
              newEvent('t', 'x', { time: '2024-01-01T00:00:00Z' }),
              newEvent('t', { k: 1 }, { time: '2024-02-01T00:00:00Z' }),
            ],
            producer: null,
          });
          const stats = await store.events.stats('s');
          assert.equal(stats.count, 2);
          assert.equal(stats.firstSeq, 1);
          assert.equal(stats.lastSeq, 2);
          assert.equal(stats.firstTime, '2024-01-01T00:00:00Z');
          assert.equal(stats.lastTime, '2024-02-01T00:00:00Z');
          assert.ok(stats.bytes > 0);
        }),
      );
    });

    describe('pages as stored text', () => {
      const skip = { skip: !caps.eventJson && 'store lacks eventJson' };
      const seed = async (store: Store, count: number) => {
        await store.streams.create(streamRecord('texts'));
        const events = eventsFor(count, `texts-${process.pid}-${++idCounter}`);
        for (let at = 0; at < count; at += 500)
          await store.events.append({ stream: 'texts', producer: null, events: events.slice(at, at + 500) });
      };

      it(
        'answers readJson, readData and readTexts as the events read renders, across filters, limits and byte budgets',
        skip,
        withStore(async ({ store }) => {
          await seed(store, 1300);
          const queries = [
            { limit: 1300 },
            { afterSeq: 499, limit: 501 },
            { types: ['order.created'], limit: 300 },
            { types: ['order.created', 'order.paid'], afterSeq: 10, limit: 40 },
            { fromTimeMs: T0 + 100_000, toTimeMs: T0 + 700_000, limit: 5000 },
            { afterSeq: 1290, limit: 100 },
            // near the tail, where a store may answer without its reader threads
            { afterSeq: 1280, limit: 5 },
            { afterSeq: 1275, types: ['order.paid'], limit: 3 },
            { afterSeq: 1295, limit: 5 },
            { afterSeq: 1300, limit: 10 },
          ];
          for (const query of queries) {
            await assertJsonText(store, 'texts', query);
            await assertDataText(store, 'texts', query);
            await assertTexts(store, 'texts', query);
            for (const maxBytes of [1, 700, 20_000]) {
              await assertDataText(store, 'texts', query, maxBytes);
              await assertTexts(store, 'texts', query, maxBytes);
            }
          }
        }),
      );

      it(
        'answers many pages read at once, each as it would alone',
        skip,
        withStore(async ({ store }) => {
          await seed(store, 600);
          const checks = Array.from({ length: 24 }, (_, i) => {
            const query = {
              afterSeq: (i * 37) % 500,
              limit: 50 + i * 10,
              ...(i % 3 === 0 ? { types: ['order.paid'] } : {}),
            };
            return i % 3 === 0
              ? assertTexts(store, 'texts', query, 5_000)
              : i % 3 === 1
                ? assertDataText(store, 'texts', query, 3_000)
                : assertJsonText(store, 'texts', query);
          });
          await Promise.all(checks);
        }),
      );

      it(
        'refuses a stream that does not exist from each kind of page',
        skip,
        withStore(async ({ store }) => {
          await assert.rejects(drain(store.events.readJson!('nope', { limit: 5 })), assertCode('STREAM_NOT_FOUND'));
          await assert.rejects(store.events.readData!('nope', { limit: 5 }, 1000), assertCode('STREAM_NOT_FOUND'));
          await assert.rejects(
            store.events.readTexts!('nope', { limit: 5 }, { maxBytes: 1000, types: false }),
            assertCode('STREAM_NOT_FOUND'),
          );
        }),
      );
    });

    describe('watch', () => {
      it(
        'notifies listeners after appends commit, until unsubscribed',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('w'));
          const seen: [string, number][] = [];
          const stop = store.events.watch((stream, lastSeq) => seen.push([stream, lastSeq]));
          await store.events.append({ stream: 'w', events: [newEvent('t'), newEvent('t')], producer: null });
          await waitFor(() => seen.length >= 1);
          assert.deepEqual(seen.at(-1), ['w', 2]);
          const committed = await store.events.getBySeq('w', 2);
          assert.ok(committed, 'the notified seq is readable');
          stop();
          await store.events.append({ stream: 'w', events: [newEvent('t')], producer: null });
          await new Promise((r) => setTimeout(r, 20));
          assert.ok(seen.every(([, seq]) => seq <= 2));
        }),
      );
    });

    describe('retention', () => {
      it(
        'by count keeps the newest events, seqs contiguous, firstSeq moved',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          await store.events.append({ stream: 's', events: range(1, 10).map((i) => newEvent('t', i)), producer: null });
          assert.equal(await store.events.enforceRetention('s', { maxEvents: 4 }, Date.now()), 6);
          const stats = await store.events.stats('s');
          assert.equal(stats.count, 4);
          assert.equal(stats.firstSeq, 7);
          assert.equal(stats.lastSeq, 10);
          assert.deepEqual(
            (await collect(store.events.read('s', { limit: 100 }))).map((e) => e.seq),
            [7, 8, 9, 10],
          );
          assert.equal(await store.events.enforceRetention('s', { maxEvents: 4 }, Date.now()), 0);
          const next = await store.events.append({ stream: 's', events: [newEvent('t')], producer: null });
          assert.equal(next.events[0]!.seq, 11, 'seqs are never reused');
        }),
      );

      it(
        'by age removes what was received before the cut',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          await store.events.append({ stream: 's', events: range(1, 5).map((i) => newEvent('t', i)), producer: null });
          assert.equal(await store.events.enforceRetention('s', { maxAgeMs: 3_600_000 }, Date.now()), 0);
          assert.equal(await store.events.enforceRetention('s', { maxAgeMs: 1000 }, Date.now() + 60_000), 5);
          const stats = await store.events.stats('s');
          assert.deepEqual([stats.count, stats.firstSeq, stats.lastSeq, stats.bytes], [0, 6, 5, 0]);
          const next = await store.events.append({ stream: 's', events: [newEvent('t')], producer: null });
          assert.equal(next.events[0]!.seq, 6);
        }),
      );

      it(
        'by bytes keeps the newest events that fit',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          const payload = 'x'.repeat(98); // 100 bytes once JSON-quoted
          await store.events.append({
            stream: 's',
            events: range(1, 10).map(() => newEvent('t', payload)),
            producer: null,
          });
          const before = await store.events.stats('s');
          const perEvent = before.bytes / 10;
          await store.events.enforceRetention('s', { maxBytes: Math.floor(perEvent * 3.5) }, Date.now());
          const stats = await store.events.stats('s');
          assert.equal(stats.count, 3);
          assert.equal(stats.firstSeq, 8);
          assert.ok(stats.bytes <= perEvent * 3.5);
          assert.deepEqual(
            (await collect(store.events.read('s', { limit: 100 }))).map((e) => e.seq),
            [8, 9, 10],
          );
        }),
      );
    });

    describe('idempotency keys', () => {
      it(
        'forgets keys older than the window',
        withStore(async ({ store }) => {
          await store.streams.create(streamRecord('s'));
          const req = { stream: 's', producer: null, idempotencyKey: 'old', requestHash: 'h' };
          await store.events.append({ ...req, events: [newEvent('t')] });
          assert.equal(await store.events.purgeIdempotencyKeys(Date.now()), 0);
          assert.ok((await store.events.purgeIdempotencyKeys(Date.now() + 400 * 86_400_000)) >= 1);
          const again = await store.events.append({ ...req, events: [newEvent('t')] });
          assert.equal(again.replayed, false);
          assert.equal(again.events[0]!.seq, 2);
        }),
      );
    });

    describe('documents', () => {
      it(
        'puts, gets, lists and deletes with optimistic versions',
        withStore(async ({ store }) => {
          const docs = store.documents;
          assert.equal(await docs.get('c', 'k'), null);
          assert.equal(await docs.put('c', 'k', { v: 1 }, { expectedVersion: 0 }), 1);
          await assert.rejects(docs.put('c', 'k', { v: 2 }, { expectedVersion: 0 }), assertCode('CONFLICT'));
          assert.equal(await docs.put('c', 'k', { v: 2 }, { expectedVersion: 1 }), 2);
          await assert.rejects(docs.put('c', 'k', { v: 3 }, { expectedVersion: 1 }), assertCode('CONFLICT'));
          await assert.rejects(docs.put('c', 'absent', { v: 3 }, { expectedVersion: 4 }), assertCode('CONFLICT'));
          assert.equal(await docs.put('c', 'k', { v: 3 }), 3);
          const got = await docs.get<{ v: number }>('c', 'k');
          assert.equal(got?.value.v, 3);
          assert.equal(got?.version, 3);
          assert.ok(!Number.isNaN(Date.parse(got!.updatedAt)));
          assert.equal(await docs.put('c', 'fresh', { v: 0 }), 1, 'an unconditional put creates');

          assert.equal(await docs.delete('c', 'k', { expectedVersion: 2 }), false);
          assert.equal((await docs.get('c', 'k'))?.version, 3);
          assert.equal(await docs.delete('c', 'k', { expectedVersion: 3 }), true);
          assert.equal(await docs.delete('c', 'k'), false);
          assert.equal(await docs.get('c', 'k'), null);
        }),
      );

      it(
        'lists a collection in key order with prefix, after and limit; collections are separate',
        withStore(async ({ store }) => {
          const docs = store.documents;
          for (const k of ['b/2', 'a/1', 'b/1', 'c', 'b/3']) await docs.put('one', k, { k });
          await docs.put('two', 'b/9', { k: 'other' });
          assert.deepEqual(
            (await docs.list('one')).map((d) => d.key),
            ['a/1', 'b/1', 'b/2', 'b/3', 'c'],
          );
          assert.deepEqual(
            (await docs.list('one', { prefix: 'b/' })).map((d) => d.key),
            ['b/1', 'b/2', 'b/3'],
          );
          assert.deepEqual(
            (await docs.list('one', { prefix: 'b/', after: 'b/1', limit: 1 })).map((d) => d.key),
            ['b/2'],
          );
          assert.deepEqual(
            (await docs.list('one', { limit: 2 })).map((d) => d.key),
            ['a/1', 'b/1'],
          );
          assert.deepEqual(
            (await docs.list('two')).map((d) => d.value),
            [{ k: 'other' }],
          );
          assert.deepEqual(await docs.list('none'), []);
        }),
      );

      it(
        'reports the keys written and deleted in one collection to its watchers, until unsubscribed',
        { skip: !caps.documentWatch && 'store lacks documentWatch' },
        withStore(async ({ store }) => {
          const docs = store.documents;
          const seen: (string | null)[] = [];
          const stop = docs.watch!('watched', (key) => seen.push(key));
          // null says the watch is in place: what is written from now on is reported
          await waitFor(() => seen.includes(null));
          await docs.put('watched', 'a/1', { v: 1 });
          await docs.put('other', 'x', { v: 1 });
          await docs.put('watched', 'b', { v: 1 }, { expectedVersion: 0 });
          await docs.delete('watched', 'a/1');
          await waitFor(() => seen.filter((k) => k !== null).length >= 3);
          assert.deepEqual(
            seen.filter((k) => k !== null),
            ['a/1', 'b', 'a/1'],
            'in order, other collections left out',
          );
          stop();
          await docs.put('watched', 'late', { v: 1 });
          await new Promise((r) => setTimeout(r, 50));
          assert.ok(!seen.includes('late'), 'nothing is reported after unsubscribing');
        }),
      );
    });

    describe('durability', () => {
      it(
        'keeps streams, events, seqs, idempotency keys and documents across a reopen',
        { skip: !caps.reopen && 'store lacks reopen' },
        withStore(async (sut) => {
          const { store } = sut;
          await store.streams.create(streamRecord('d', { exclusiveProducer: true }));
          await Promise.all(
            range(1, 10).map((i) =>
              store.events.append({ stream: 'd', events: [newEvent('t', i, { id: `d${i}` })], producer: 'owner' }),
            ),
          );
          await store.events.append({
            stream: 'd',
            events: [newEvent('t')],
            producer: 'owner',
            idempotencyKey: 'ik',
            requestHash: 'h',
          });
          await store.documents.put('c', 'k', { v: 1 });
          const reopened = await sut.reopen!();
          const stats = await reopened.events.stats('d');
          assert.deepEqual([stats.count, stats.lastSeq], [11, 11]);
          assert.equal((await reopened.streams.get('d'))?.lockedBy, 'owner');
          assert.equal((await reopened.events.getById('d', 'd5'))?.data, 5);
          const dup = await reopened.events.append({
            stream: 'd',
            events: [newEvent('t', 5, { id: 'd5' })],
            producer: 'owner',
          });
          assert.equal(dup.events[0]!.duplicate, true);
          const replay = await reopened.events.append({
            stream: 'd',
            events: [newEvent('t')],
            producer: 'owner',
            idempotencyKey: 'ik',
            requestHash: 'h',
          });
          assert.equal(replay.replayed, true);
          const next = await reopened.events.append({ stream: 'd', events: [newEvent('t')], producer: 'owner' });
          assert.equal(next.events[0]!.seq, 12);
          assert.deepEqual((await reopened.documents.get('c', 'k'))?.value, { v: 1 });
          assert.equal((await reopened.health()).ok, true);
        }),
      );
    });
  });
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(condition(), 'condition not met in time');
}
