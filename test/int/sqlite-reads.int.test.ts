/**
 * Reads of the SQLite store run on reader threads; pages for the native API are put together
 * there from the JSON each event was stored as. These tests hold that text to the renderer the
 * API uses for events in memory, byte for byte, and check what the move to threads must keep:
 * leases handed out once, missing streams refused, a lost reader thread replaced.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { StoredEvent } from '../../src/kernel/envelope.js';
import { eventJson } from '../../src/kernel/event-json.js';
import { renderEvent } from '../../src/http/routes/events-routes.js';
import type { ReadQuery, Store } from '../../src/store/port.js';
import { DATABASE_FILE, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/resources.js';
import { openTestStore } from '../support/test-app.js';
import {
  assertDataText as assertDataTextOf,
  assertTexts as assertTextsOf,
  eventsFor,
  eventsOf as eventsOfStream,
  T0,
  textOf as textOfStream,
} from '../conformance/store/page-texts.js';

async function withStream<T>(count: number, body: (store: SqliteStore) => Promise<T>, dir = tempDir()): Promise<T> {
  const store = await openTestStore(dir);
  try {
    const now = new Date().toISOString();
    await store.streams.create({
      name: 'orders',
      owner: 'o',
      description: '',
      retention: {},
      exclusiveProducer: false,
      options: {},
      createdAt: now,
      updatedAt: now,
    });
    const events = eventsFor(count);
    for (let at = 0; at < count; at += 500) {
      await store.events.append({ stream: 'orders', producer: null, events: events.slice(at, at + 500) });
    }
    return await body(store);
  } finally {
    await store.close();
  }
}

const textOf = (store: Store, query: ReadQuery) => textOfStream(store, 'orders', query);
const assertDataText = (store: Store, query: ReadQuery, maxBytes?: number) =>
  assertDataTextOf(store, 'orders', query, maxBytes);
const assertTexts = (store: Store, query: ReadQuery, maxBytes?: number) =>
  assertTextsOf(store, 'orders', query, maxBytes);
const eventsOf = (store: Store, query: ReadQuery) => eventsOfStream(store, 'orders', query);

describe('sqlite reads on reader threads', () => {
  it('answers pages as the text the API renders for the same events, byte for byte, across slices and filters', async () => {
    await withStream(2600, async (store) => {
      const queries: ReadQuery[] = [
        { limit: 2600 },
        { afterSeq: 999, limit: 1001 },
        { types: ['order.created'], limit: 700 },
        { fromTimeMs: T0 + 100_000, toTimeMs: T0 + 1_300_000, limit: 5000 },
        { afterSeq: 2590, limit: 100 },
        { afterSeq: 2600, limit: 10 },
      ];
      for (const query of queries) {
        const events = await eventsOf(store, query);
        const expected = events.map((e) => JSON.stringify(renderEvent(e))).join(',');
        const got = await textOf(store, query);
        assert.equal(got.count, events.length, JSON.stringify(query));
        assert.equal(got.text, expected, JSON.stringify(query));
        assert.equal(got.lastSeq, events.at(-1)?.seq ?? 0);
        // the renderer used when a store cannot build the text agrees as well
        assert.equal(events.map(eventJson).join(','), expected);
        await assertDataText(store, query);
        await assertTexts(store, query);
        // pages cut by bytes: before the first event's end, mid-slice, past the end of the rows read at once
        // and budgets that end a page anywhere in its first or second half
        for (const maxBytes of [1, 700, 20_000, 40_000, 50_000, 60_000, 80_000]) {
          await assertDataText(store, query, maxBytes);
          await assertTexts(store, query, maxBytes);
        }
      }
      assert.equal((await eventsOf(store, { limit: 2600 })).length, 2600);
    });
  });

  it('opens a data dir written before events kept their answer, upgrades it in place and answers old and new events alike', async () => {
    const dir = tempDir();
    let before: StoredEvent[] = [];
    await withStream(
      1200,
      async (store) => {
        before = await eventsOf(store, { limit: 5000 });
      },
      dir,
    );
    // turn it into what the previous version wrote: schema 3, data and meta in their columns, no json column
    const db = new Database(join(dir, DATABASE_FILE));
    db.transaction(() => {
      const rows = db.prepare('SELECT stream_id, seq, json FROM events').all() as {
        stream_id: number;
        seq: number;
        json: string;
      }[];
      const put = db.prepare('UPDATE events SET data = ?, meta = ? WHERE stream_id = ? AND seq = ?');
      for (const r of rows) {
        const answer = JSON.parse(r.json) as { data: unknown; meta?: unknown };
        put.run(JSON.stringify(answer.data), JSON.stringify(answer.meta ?? {}), r.stream_id, r.seq);
      }
      db.exec(`
        ALTER TABLE events DROP COLUMN json;
        DROP INDEX events_by_time_max;
        ALTER TABLE events DROP COLUMN time_max_ms;
        ALTER TABLE streams DROP COLUMN time_max_ms;
        CREATE INDEX events_by_time ON events (stream_id, time_ms);
      `);
      db.pragma('user_version = 3');
    })();
    db.close();

    const store = await openTestStore(dir);
    try {
      const old = await eventsOf(store, { limit: 5000 });
      assert.deepEqual(old, before);
      // the last few old rows, read on the event loop (the data in its own column)
      await assertDataText(store, { afterSeq: 1190, limit: 20 });
      await assertDataText(store, { afterSeq: 1185, limit: 6 }, 100);
      await store.events.append({ stream: 'orders', producer: null, events: eventsFor(1300).slice(1200) });
      for (const query of [
        { limit: 5000 },
        { afterSeq: 1100, limit: 150 },
        { types: ['order.paid'], afterSeq: 1000, limit: 1000 },
      ] as ReadQuery[]) {
        const events = await eventsOf(store, query);
        assert.equal(
          (await textOf(store, query)).text,
          events.map((e) => JSON.stringify(renderEvent(e))).join(','),
          JSON.stringify(query),
        );
        await assertDataText(store, query);
        await assertDataText(store, query, 5_000);
        await assertTexts(store, query);
        await assertTexts(store, query, 5_000);
      }
      assert.equal((await eventsOf(store, { limit: 5000 })).length, 1300);
      assert.deepEqual(await eventsOf(store, { limit: 1200 }), before);
      // seeks by time find old and new events through the index the upgrade built
      assert.equal(await store.events.seqAtTime('orders', T0 + 600_500), 602);
      assert.equal(await store.events.seqAtTime('orders', T0 + 1_250_000), 1251);
      assert.deepEqual(
        (await eventsOf(store, { fromTimeMs: T0 + 1_199_000, limit: 3 })).map((e) => e.seq),
        [1200, 1201, 1202],
      );
    } finally {
      await store.close();
    }
  });

  it('seeks by time and reads from a time as a scan in seq order would, with times out of order and after retention', async () => {
    const store = await openTestStore();
    try {
      const now = new Date().toISOString();
      await store.streams.create({
        name: 'orders',
        owner: 'o',
        description: '',
        retention: {},
        exclusiveProducer: false,
        options: {},
        createdAt: now,
        updatedAt: now,
      });
      // times that jump back and forth, repeat, and one far ahead early on
      const minutes = [5, 3, 9, 1, 9, 2, 12, 4, 4, 30, 6, 7, 8, 31, 10, 2, 40, 11, 41, 12];
      const events = eventsFor(minutes.length).map((e, i) => ({
        ...e,
        time: new Date(T0 + minutes[i]! * 60_000).toISOString(),
      }));
      for (let at = 0; at < events.length; at += 3)
        await store.events.append({ stream: 'orders', producer: null, events: events.slice(at, at + 3) });
      const check = async (label: string) => {
        const all = await eventsOf(store, { limit: 1000 });
        const last = all.at(-1)!.seq;
        for (let m = 0; m <= 42; m++) {
          const at = T0 + m * 60_000 - (m % 2);
          const matching = all.filter((e) => Date.parse(e.time) >= at);
          assert.equal(
            await store.events.seqAtTime('orders', at),
            matching[0]?.seq ?? last + 1,
            `${label}: seek to minute ${m}`,
          );
          for (const query of [
            { fromTimeMs: at, limit: 4 },
            { fromTimeMs: at, afterSeq: 8, limit: 100 },
            { fromTimeMs: at, toTimeMs: at + 5 * 60_000, limit: 100 },
          ] as ReadQuery[]) {
            const expected = all
              .filter(
                (e) =>
                  e.seq > (query.afterSeq ?? 0) &&
                  Date.parse(e.time) >= at &&
                  (query.toTimeMs === undefined || Date.parse(e.time) <= query.toTimeMs),
              )
              .slice(0, query.limit);
            assert.deepEqual(
              (await eventsOf(store, query)).map((e) => e.seq),
              expected.map((e) => e.seq),
              `${label}: ${JSON.stringify(query)}`,
            );
            assert.equal(
              (await textOf(store, query)).text,
              expected.map((e) => JSON.stringify(renderEvent(e))).join(','),
              `${label}: text of ${JSON.stringify(query)}`,
            );
          }
        }
      };
      await check('all kept');
      // retention drops the first ten, among them a time later than many it keeps
      assert.equal(await store.events.enforceRetention('orders', { maxEvents: 10 }, Date.now()), 10);
      await check('after retention');
      await store.events.append({
        stream: 'orders',
        producer: null,
        events: eventsFor(2).map((e, i) => ({
          ...e,
          id: `late-${i}`,
          time: new Date(T0 + (i === 0 ? 0 : 50) * 60_000).toISOString(),
        })),
      });
      await check('appended after retention');
    } finally {
      await store.close();
    }
  });

  it('refuses a stream that does not exist, from either kind of read and a time seek', async () => {
    await withStream(1, async (store) => {
      const code = (err: unknown) => (err as { code?: string }).code === 'STREAM_NOT_FOUND';
      await assert.rejects(async () => {
        for await (const _ of store.events.readJson('nope', { limit: 5 }));
      }, code);
      await assert.rejects(async () => {
        for await (const _ of store.events.read('nope', { limit: 5 }));
      }, code);
      await assert.rejects(store.events.seqAtTime('nope', T0), code);
    });
  });

  it('hands every event out once when many receives of one consumer run at once', async () => {
    await withStream(60, async (store) => {
      await store.consumers.create(
        { name: 'c', stream: 'orders', types: [], leaseMs: 60_000, maxDeliveries: 5, deadLetterStream: null },
        { from: 'beginning' },
        Date.now(),
      );
      const results = await Promise.all(
        Array.from({ length: 12 }, () =>
          store.consumers.receive('orders', 'c', { max: 7, leaseMs: 60_000, clientId: null, nowMs: Date.now() }),
        ),
      );
      const seqs = results.flatMap((r) => r.deliveries.map((d) => d.event.seq)).sort((a, b) => a - b);
      assert.deepEqual(
        seqs,
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      const lag = await store.consumers.lag('orders', 'c', Date.now());
      assert.equal(lag.pending, 60);
      assert.equal(lag.leased, 60);
    });
  });

  it('answers a read at the tail without a job on a reader thread, and sees the next append at once', async () => {
    await withStream(256, async (store) => {
      const pool = (store as unknown as { readers: { stats: { jobs: number } } }).readers;
      const drain = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
        const out: T[] = [];
        for await (const x of it) out.push(x);
        return out;
      };
      const before = pool.stats.jobs;
      assert.equal((await drain(store.events.read('orders', { afterSeq: 256, limit: 100 }))).length, 0);
      assert.equal((await drain(store.events.readJson('orders', { afterSeq: 256, limit: 100 }))).length, 0);
      assert.equal((await store.events.readData('orders', { afterSeq: 300, limit: 100 }, 1024)).count, 0);
      // a page whose first slice (256 rows) ends exactly at the tail asks no thread whether more follows
      assert.equal((await drain(store.events.read('orders', { afterSeq: 0, limit: 300 }))).length, 256);
      assert.equal(pool.stats.jobs - before, 1);
      await assert.rejects(drain(store.events.read('missing', { afterSeq: 0, limit: 1 })), {
        code: 'STREAM_NOT_FOUND',
      });
      await store.events.append({ stream: 'orders', producer: null, events: [{ ...eventsFor(1)[0]!, id: 'next' }] });
      const next = await store.events.readData('orders', { afterSeq: 256, limit: 100 }, 1024);
      assert.deepEqual([next.count, next.lastSeq, next.more], [1, 257, false]);
    });
  });

  it('reads the last few events of a stream on the event loop, as a reader thread would, and longer reads on the threads', async () => {
    await withStream(300, async (store) => {
      const pool = (store as unknown as { readers: { stats: { jobs: number } } }).readers;
      // within 32 events of the tail, with and without a type filter and a limit
      for (const query of [
        { afterSeq: 290, limit: 100 },
        { afterSeq: 268, limit: 5 },
        { afterSeq: 270, limit: 100, types: ['order.created'] },
        { afterSeq: 299, limit: 1 },
      ] as ReadQuery[]) {
        const before = pool.stats.jobs;
        const near = await eventsOf(store, query);
        await store.events.readData('orders', query, 1 << 20);
        await store.events.readData('orders', query, 90);
        assert.equal(pool.stats.jobs, before, JSON.stringify(query));
        // the data pages as a reader thread would answer them
        await assertDataText(store, query);
        await assertDataText(store, query, 90);
        const expected = (await eventsOf(store, { ...query, afterSeq: 0, limit: 1000 }))
          .filter((e) => e.seq > query.afterSeq!)
          .slice(0, query.limit);
        assert.deepEqual(near, expected, JSON.stringify(query));
      }
      // farther from the tail, or by time: the threads
      const jobs = pool.stats.jobs;
      assert.equal((await eventsOf(store, { afterSeq: 250, limit: 100 })).length, 50);
      assert.equal((await eventsOf(store, { afterSeq: 290, fromTimeMs: T0, limit: 100 })).length, 10);
      assert.equal(pool.stats.jobs, jobs + 2);
    });
  });

  it('replaces a reader thread that stopped, and reads go on', async () => {
    await withStream(10, async (store) => {
      const pool = (store as unknown as { readers: { threads: { worker: { terminate(): Promise<number> } }[] } })
        .readers;
      await Promise.all(pool.threads.map((t) => t.worker.terminate()));
      let events: StoredEvent[] = [];
      // the replacements start in the background; a read queued meanwhile waits for them
      events = await eventsOf(store, { limit: 100 });
      assert.equal(events.length, 10);
    });
  });
});
