/** The SQLite store's append worker: commit observer, errors across the thread, closing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { isRivuletError } from '../../src/kernel/errors.js';
import type { NewEvent } from '../../src/kernel/envelope.js';
import type { CommitInfo } from '../../src/store/sqlite/group-commit.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { openTracked, tempDir } from '../support/resources.js';

const stream = (name: string) => ({
  name,
  owner: 'o',
  description: '',
  retention: {},
  exclusiveProducer: false,
  options: {},
  createdAt: '',
  updatedAt: '',
});
const event = (data: unknown, id?: string): NewEvent => ({
  id: id ?? `e-${Math.random().toString(36).slice(2)}`,
  idSupplied: id !== undefined,
  type: 't',
  source: '/test',
  time: new Date().toISOString(),
  producer: null,
  data: data as NewEvent['data'],
  meta: {},
});

async function open(options: Partial<ConstructorParameters<typeof SqliteStore>[0]> = {}): Promise<SqliteStore> {
  return openTracked('sqlite store', new SqliteStore({ dataDir: tempDir('rivulet-worker'), ...options }));
}

/** a store with stream `s` and the exclusive stream `solo`, and the size of each group it commits */
async function openWithTwoStreams(): Promise<{ store: SqliteStore; groups: number[] }> {
  const groups: number[] = [];
  const store = await open({ onCommit: (info) => groups.push(info.requests) });
  await store.streams.create(stream('s'));
  await store.streams.create({ ...stream('solo'), exclusiveProducer: true });
  return { store, groups };
}

const workerOf = (store: SqliteStore) =>
  (store.events as unknown as { committer: { worker: Worker } }).committer.worker;

describe('sqlite append worker', () => {
  it('tells onCommit about each group commit, after the commit and before the answers', async () => {
    const infos: CommitInfo[] = [];
    /** how many appends had been answered when each commit was observed */
    const answeredAtCommit: number[] = [];
    let answered = 0;
    const store = await open({
      onCommit: (info) => {
        infos.push(info);
        answeredAtCommit.push(answered);
      },
    });
    try {
      await store.streams.create(stream('s'));
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.events.append({ stream: 's', producer: null, events: [event(i), event(i)] }).then(() => answered++),
        ),
      );
      assert.equal(
        infos.reduce((n, i) => n + i.requests, 0),
        30,
      );
      assert.equal(
        infos.reduce((n, i) => n + i.events, 0),
        60,
      );
      assert.ok(infos.length < 30, `concurrent appends were grouped (${infos.length} commits)`);
      for (const info of infos) assert.ok(info.durationMs > 0 && info.waitMs >= 0, JSON.stringify(info));
      assert.equal(answeredAtCommit[0], 0, 'the first commit was observed before any of its requests was answered');
      // a throwing observer never fails a write
      const loud = await open({
        onCommit: () => {
          throw new Error('observer broke');
        },
      });
      try {
        await loud.streams.create(stream('s'));
        const r = await loud.events.append({ stream: 's', producer: null, events: [event(1)] });
        assert.equal(r.events[0]!.seq, 1);
      } finally {
        await loud.close();
      }
    } finally {
      await store.close();
    }
  });

  it('answers a request whose data JSON cannot hold with its own error, and its neighbours normally', async () => {
    const store = await open();
    try {
      await store.streams.create(stream('s'));
      const [bad, good] = await Promise.allSettled([
        store.events.append({ stream: 's', producer: null, events: [event(1), event(2n)] }),
        store.events.append({ stream: 's', producer: null, events: [event(3)] }),
      ]);
      assert.equal(bad.status, 'rejected');
      assert.equal(good.status, 'fulfilled');
      assert.equal(good.value.events[0]!.seq, 1);
    } finally {
      await store.close();
    }
  });

  it('fails only the failing requests of a group: their neighbours commit with gap-free seqs and typeSeqs', async () => {
    const { store, groups } = await openWithTwoStreams();
    try {
      await store.events.append({ stream: 'solo', producer: 'owner', events: [event(0)] });
      groups.length = 0;
      const results = await Promise.allSettled([
        store.events.append({ stream: 's', producer: null, events: [event(1), event(2)] }),
        store.events.append({ stream: 'missing', producer: null, events: [event(3)] }),
        store.events.append({ stream: 's', producer: null, events: [event(4)] }),
        store.events.append({ stream: 'solo', producer: 'intruder', events: [event(5)] }),
        store.events.append({ stream: 'solo', producer: 'owner', events: [event(6)] }),
        store.events.append({ stream: 's', producer: null, events: [event(7)] }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      );
      const seqs = results.flatMap((r) =>
        r.status === 'fulfilled' ? r.value.events.map((e) => [r.value.stream, e.seq, e.typeSeq]) : [],
      );
      assert.deepEqual(seqs, [
        ['s', 1, 1],
        ['s', 2, 2],
        ['s', 3, 3],
        ['solo', 2, 2],
        ['s', 4, 4],
      ]);
      assert.ok(
        groups.some((n) => n > 2),
        `the requests shared a group (${groups.join(', ')})`,
      );
      assert.equal((await store.events.stats('s')).count, 4);
      assert.equal((await store.events.stats('solo')).lastSeq, 2);
    } finally {
      await store.close();
    }
  });

  it('answers every kind of outcome in one group: new, duplicate ids, a replay, a lock taken, a refusal', async () => {
    const { store, groups } = await openWithTwoStreams();
    try {
      const first = await store.events.append({
        stream: 's',
        producer: null,
        idempotencyKey: 'k1',
        requestHash: 'h1',
        events: [event(0, 'id-0')],
      });
      groups.length = 0;
      const results = await Promise.allSettled([
        store.events.append({
          stream: 's',
          producer: null,
          events: [event(1, 'id-1'), event(2, 'id-0'), event(3, 'id-1'), event(4)],
        }),
        store.events.append({
          stream: 's',
          producer: null,
          idempotencyKey: 'k1',
          requestHash: 'h1',
          events: [event(0, 'id-0')],
        }),
        store.events.append({ stream: 'solo', producer: 'owner', events: [event(5)] }),
        store.events.append({ stream: 'solo', producer: 'intruder', events: [event(6)] }),
        store.events.append({ stream: 's', producer: null, events: [event(7)] }),
      ]);
      assert.deepEqual(groups, [5], 'one group');
      const value = (i: number) =>
        (results[i] as PromiseFulfilledResult<Awaited<ReturnType<typeof store.events.append>>>).value;
      assert.deepEqual(
        value(0).events.map((e) => [e.id, e.seq, e.typeSeq, e.duplicate]),
        [
          ['id-1', 2, 2, false],
          ['id-0', 1, 1, true],
          ['id-1', 2, 2, true],
          [value(0).events[3]!.id, 3, 3, false],
        ],
      );
      assert.deepEqual(value(1), { ...first, replayed: true });
      assert.deepEqual(
        value(2).events.map((e) => e.seq),
        [1],
      );
      assert.equal((await store.streams.get('solo'))?.lockedBy, 'owner');
      assert.equal(results[3]!.status, 'rejected');
      const refused: unknown = (results[3] as PromiseRejectedResult).reason;
      assert.ok(isRivuletError(refused) && refused.code === 'PRODUCER_LOCKED', String(refused));
      assert.deepEqual(
        value(4).events.map((e) => [e.seq, e.typeSeq]),
        [[4, 4]],
      );
    } finally {
      await store.close();
    }
  });

  it('turns a full store into STORAGE_FULL, writes nothing of what did not fit, and keeps serving', async () => {
    const store = await open({ maxDatabaseBytes: 256 * 1024 });
    try {
      await store.streams.create(stream('s'));
      const big = 'x'.repeat(20_000);
      let full: unknown;
      let stored = 0;
      for (let i = 0; i < 40 && full === undefined; i++) {
        try {
          await store.events.append({ stream: 's', producer: null, events: [event({ big, i }, `id-${i}`)] });
          stored++;
        } catch (err) {
          full = err;
        }
      }
      assert.ok(isRivuletError(full), `a full store answers a RivuletError, not ${String(full)}`);
      assert.equal(full.code, 'STORAGE_FULL');
      assert.ok(stored > 0);
      // nothing of the failed request was written; seqs stay gap-free and small appends still fit
      const stats = await store.events.stats('s');
      assert.equal(stats.count, stored);
      assert.equal(stats.lastSeq, stored);
      const small = await store.events.append({ stream: 's', producer: null, events: [event(1)] });
      assert.equal(small.events[0]!.seq, stored + 1);
    } finally {
      await store.close();
    }
  });

  it('surfaces catalogue errors from the worker with their codes and details', async () => {
    const store = await open();
    try {
      await assert.rejects(
        store.events.append({ stream: 'missing', producer: null, events: [event(1)] }),
        (err: unknown) =>
          isRivuletError(err) &&
          err.code === 'STREAM_NOT_FOUND' &&
          (err.details as { stream?: string }).stream === 'missing',
      );
    } finally {
      await store.close();
    }
  });

  it('ends the worker thread on close, twice over, and refuses appends afterwards', async () => {
    const store = await open();
    await store.streams.create(stream('s'));
    const pending = store.events.append({ stream: 's', producer: null, events: [event(1)] });
    const worker = workerOf(store);
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    await Promise.all([store.close(), store.close()]);
    // the append submitted before close was committed, not dropped
    assert.equal((await pending).events[0]!.seq, 1);
    assert.equal(await exited, 0);
    await store.close();
    await assert.rejects(
      store.events.append({ stream: 's', producer: null, events: [event(2)] }),
      (err: unknown) => isRivuletError(err) && err.code === 'STORE_UNAVAILABLE',
    );
  });

  it('fails appends with STORE_UNAVAILABLE when the worker dies, instead of hanging', async () => {
    const store = await open();
    try {
      await store.streams.create(stream('s'));
      await workerOf(store).terminate();
      await assert.rejects(
        store.events.append({ stream: 's', producer: null, events: [event(1)] }),
        (err: unknown) => isRivuletError(err) && err.code === 'STORE_UNAVAILABLE',
      );
    } finally {
      await store.close();
    }
  });
});
