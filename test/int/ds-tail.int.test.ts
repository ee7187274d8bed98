/**
 * The Durable Streams mount's live waits, on a real SQLite store: a reader arms its watch,
 * reads (which takes time, on another thread), then waits. An append or a close that lands
 * between the arming and the wait must end the wait at once, not be missed until a timeout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DsTail } from '../../src/dialects/durable-streams/ds-tail.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { openTestStore } from '../support/test-app.js';

/** long enough that answering "timed out" can only mean the wake was missed */
const LONG_MS = 20_000;

async function withStore(body: (store: SqliteStore, tail: DsTail) => Promise<void>): Promise<void> {
  const store = await openTestStore();
  const tail = new DsTail(store.events);
  try {
    const now = new Date().toISOString();
    for (const name of ['s', 'other']) {
      await store.streams.create({
        name,
        owner: 'o',
        description: '',
        retention: {},
        exclusiveProducer: false,
        options: {},
        createdAt: now,
        updatedAt: now,
      });
    }
    await body(store, tail);
  } finally {
    tail.close();
    await store.close();
  }
}

async function append(store: SqliteStore, stream: string): Promise<number> {
  const result = await store.events.append({
    stream,
    producer: null,
    events: [
      {
        id: `e-${Math.random()}`,
        type: 't',
        source: '/x',
        time: new Date().toISOString(),
        producer: null,
        data: 1,
        meta: {},
      } as never,
    ],
  });
  return result.events[0]!.seq;
}

describe('Durable Streams tail', () => {
  it('an append reported between arming and waiting ends the wait at once', async () => {
    await withStore(async (store, tail) => {
      const watch = tail.arm('s');
      // the reader read up to seq 0, then this append landed before it waited
      const seq = await append(store, 's');
      assert.equal(await watch.wait(seq - 1, LONG_MS), false);
      watch.cancel();
    });
  });

  it('an append at or before the position, or to another stream, does not end the wait', async () => {
    await withStore(async (store, tail) => {
      const watch = tail.arm('s');
      const seq = await append(store, 's');
      await append(store, 'other');
      assert.equal(await watch.wait(seq, 50), true, 'the wait should have timed out');
      watch.cancel();
    });
  });

  it('a close reported after the state was read ends the next wait at once', async () => {
    await withStore(async (_store, tail) => {
      const watch = tail.arm('s');
      watch.stateRead();
      tail.poke('s');
      assert.equal(await watch.wait(0, LONG_MS), false);
      watch.cancel();
    });
  });

  it('a close reported before the state was read is in that state: the wait is not cut short', async () => {
    await withStore(async (_store, tail) => {
      const watch = tail.arm('s');
      tail.poke('s');
      watch.stateRead();
      assert.equal(await watch.wait(0, 50), true, 'the wait should have timed out');
      watch.cancel();
    });
  });

  it('a waiting watch wakes on an append and on cancel, and closing the tail ends every wait', async () => {
    await withStore(async (store, tail) => {
      const a = tail.arm('s');
      const waiting = a.wait(0, LONG_MS);
      await append(store, 's');
      assert.equal(await waiting, false);
      const b = tail.arm('s');
      const cancelled = b.wait(100, LONG_MS);
      b.cancel();
      assert.equal(await cancelled, false);
      const c = tail.arm('s');
      const closing = c.wait(100, LONG_MS);
      tail.close();
      assert.equal(await closing, false);
      assert.equal(await tail.arm('s').wait(100, LONG_MS), false, 'a watch armed after close does not wait');
      a.cancel();
      c.cancel();
    });
  });
});
