/**
 * The consumer conformance suite: one definition every store runs (wired per store in
 * test/int/<store>-consumers.int.test.ts). It drives the store through the core's
 * ConsumerService, so the rules (leases, redelivery, dead letters) are checked end to end.
 * Leases are short and expiry is awaited by polling; nothing asserts how long anything took.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCoreServices, type CoreServices } from '../../../src/core/services.js';
import type { JsonValue, NewEvent } from '../../../src/kernel/envelope.js';
import type { Delivery, Store } from '../../../src/store/port.js';

export interface ConsumerSuiteOptions {
  /** closes `store` and opens the same data again; without it the restart case is skipped */
  reopen?: (store: Store) => Promise<Store>;
}

interface Fixture {
  services: CoreServices;
  store: Store;
}

export function defineConsumerSuite(
  name: string,
  factory: () => Promise<Store>,
  options: ConsumerSuiteOptions = {},
): void {
  async function withStore(fn: (f: Fixture) => Promise<Store | void>): Promise<void> {
    let store = await factory();
    try {
      const replaced = await fn({ store, services: createCoreServices(store, { maxBatchEvents: 10_000 }) });
      if (replaced) store = replaced;
    } finally {
      await store.close();
    }
  }

  async function streamWith(f: Fixture, stream: string, types: string[]): Promise<void> {
    await f.services.streams.create({ name: stream }, 'suite');
    await append(f, stream, types);
  }

  async function append(f: Fixture, stream: string, types: string[], time?: string): Promise<void> {
    const events: NewEvent[] = types.map((type, i) => ({
      id: randomUUID(),
      idSupplied: false,
      type,
      source: '/suite',
      time: time ?? new Date().toISOString(),
      producer: null,
      data: { i } as JsonValue,
      meta: {},
    }));
    await f.services.produce.produce({ stream, events, producer: null });
  }

  async function pollReceive(f: Fixture, stream: string, consumer: string, max: number): Promise<Delivery[]> {
    for (let i = 0; i < 500; i++) {
      const got = await f.services.consumers.receive(stream, consumer, { max });
      if (got.length > 0) return got;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('nothing was delivered again');
  }

  describe(`consumer conformance: ${name}`, () => {
    it('creates, lists, gets and deletes consumers, and names what is missing', async () => {
      await withStore(async (f) => {
        await streamWith(f, 's', []);
        const c = f.services.consumers;
        await c.create('s', { name: 'b', types: ['x'] });
        await c.create('s', { name: 'a' });
        await assert.rejects(c.create('s', { name: 'a' }), { code: 'CONSUMER_EXISTS' });
        await assert.rejects(c.create('nope', { name: 'a' }), { code: 'STREAM_NOT_FOUND' });
        assert.deepEqual(
          (await c.list('s', { limit: 10 })).consumers.map((r) => r.name),
          ['a', 'b'],
        );
        assert.deepEqual((await c.get('s', 'b')).types, ['x']);
        await c.delete('s', 'a');
        await assert.rejects(c.get('s', 'a'), { code: 'CONSUMER_NOT_FOUND' });
        await assert.rejects(c.delete('s', 'a'), { code: 'CONSUMER_NOT_FOUND' });
      });
    });

    it('cursor style: peek does not move the position, commit does, the type filter holds', async () => {
      await withStore(async (f) => {
        await streamWith(f, 's', ['x', 'y', 'x', 'x', 'y']);
        const c = f.services.consumers;
        await c.create('s', { name: 'xs', types: ['x'] });
        const first = await c.peek('s', 'xs', 2);
        assert.deepEqual(
          first.map((e) => e.seq),
          [1, 3],
        );
        assert.deepEqual(
          (await c.peek('s', 'xs', 2)).map((e) => e.seq),
          [1, 3],
        );
        await c.commit('s', 'xs', 3);
        assert.deepEqual(
          (await c.peek('s', 'xs', 10)).map((e) => e.seq),
          [4],
        );
        await assert.rejects(c.commitNext('s', 'xs', first[0]!.id), { code: 'OFFSET_MISMATCH' });
        const next = (await c.peek('s', 'xs', 1))[0]!;
        await c.commitNext('s', 'xs', next.id);
        assert.deepEqual(await c.peek('s', 'xs', 10), []);
        assert.equal((await c.lag('s', 'xs')).pending, 0);
      });
    });

    it('starts at the beginning, the end, a seq or a time, and seeks', async () => {
      await withStore(async (f) => {
        await f.services.streams.create({ name: 's' }, 'suite');
        await append(f, 's', ['a', 'a'], '2020-01-01T00:00:00Z');
        await append(f, 's', ['a', 'a'], '2022-01-01T00:00:00Z');
        const c = f.services.consumers;
        await c.create('s', { name: 'end', start: { from: 'end' } });
        await c.create('s', { name: 'seq', start: { from: 'seq', seq: 2 } });
        await c.create('s', { name: 'time', start: { from: 'time', timeMs: Date.parse('2021-01-01T00:00:00Z') } });
        assert.deepEqual(await c.peek('s', 'end', 10), []);
        assert.deepEqual(
          (await c.peek('s', 'seq', 10)).map((e) => e.seq),
          [2, 3, 4],
        );
        assert.deepEqual(
          (await c.peek('s', 'time', 10)).map((e) => e.seq),
          [3, 4],
        );
        await c.seek('s', 'end', { from: 'seq', seq: 4 });
        assert.deepEqual(
          (await c.peek('s', 'end', 10)).map((e) => e.seq),
          [4],
        );
        await c.seek('s', 'end', { from: 'beginning' });
        assert.equal((await c.lag('s', 'end')).pending, 4);
        assert.ok((await c.lag('s', 'end')).oldestUnackedAgeMs! >= 0);
      });
    });

    it('leased style: concurrent clients never share a leased event, and every event is acked once', async () => {
      await withStore(async (f) => {
        const total = 300;
        await streamWith(
          f,
          's',
          Array.from({ length: total }, () => 't'),
        );
        const c = f.services.consumers;
        await c.create('s', { name: 'work', leaseMs: 60_000 });
        const handed = new Map<number, string>();
        let acked = 0;
        const client = async (id: string) => {
          for (;;) {
            const got = await c.receive('s', 'work', { max: 7, clientId: id });
            if (got.length === 0) return;
            for (const d of got) {
              assert.equal(
                handed.get(d.event.seq),
                undefined,
                `seq ${d.event.seq} was handed to ${handed.get(d.event.seq)} and ${id}`,
              );
              handed.set(d.event.seq, id);
            }
            const outcomes = await c.ack(
              's',
              'work',
              got.map((d) => d.leaseToken),
            );
            assert.ok(outcomes.every((o) => o.outcome === 'ok'));
            acked += outcomes.length;
          }
        };
        await Promise.all(['c1', 'c2', 'c3', 'c4'].map(client));
        assert.equal(handed.size, total);
        assert.equal(acked, total);
        const lag = await c.lag('s', 'work');
        assert.equal(lag.pending, 0);
        assert.equal(lag.committedSeq, total);
        assert.deepEqual(await c.receive('s', 'work', { max: 10 }), []);
      });
    });

    it('redelivers an event whose lease expired; the stale lease can no longer ack', async () => {
      await withStore(async (f) => {
        await streamWith(f, 's', ['t', 't']);
        const c = f.services.consumers;
        await c.create('s', { name: 'w', leaseMs: 200 });
        const [first] = await c.receive('s', 'w', { max: 1 });
        assert.equal(first!.deliveries, 1);
        const [second] = await c.receive('s', 'w', { max: 1 });
        assert.equal(second!.event.seq, 2, 'the leased event is not handed out again while its lease holds');
        await c.ack('s', 'w', [second!.leaseToken]);
        const [again] = await pollReceive(f, 's', 'w', 1);
        assert.equal(again!.event.seq, 1);
        assert.equal(again!.deliveries, 2);
        assert.deepEqual(
          (await c.ack('s', 'w', [first!.leaseToken])).map((o) => o.outcome),
          ['not-held'],
        );
        assert.deepEqual(
          (await c.ack('s', 'w', [again!.leaseToken])).map((o) => o.outcome),
          ['ok'],
        );
        assert.equal((await c.lag('s', 'w')).committedSeq, 2);
      });
    });

    it('nack redelivers, release does not count a delivery, extend keeps a lease', async () => {
      await withStore(async (f) => {
        await streamWith(f, 's', ['t']);
        const c = f.services.consumers;
        await c.create('s', { name: 'w', leaseMs: 60_000, maxDeliveries: 2 });
        const before = Date.now();
        const [d1] = await c.receive('s', 'w', { max: 1 });
        assert.ok(d1!.firstDeliveredMs >= before && d1!.firstDeliveredMs <= Date.now(), 'the first hand-out is dated');
        await new Promise((r) => setTimeout(r, 5));
        assert.deepEqual(
          (await c.extend('s', 'w', [d1!.leaseToken, '1.bogus'])).map((o) => o.outcome),
          ['ok', 'not-held'],
        );
        await c.release('s', 'w', [d1!.leaseToken]);
        const [d2] = await c.receive('s', 'w', { max: 1 });
        assert.equal(d2!.deliveries, 1, 'a released delivery is not counted');
        await c.nack('s', 'w', [d2!.leaseToken], 0);
        const [d3] = await c.receive('s', 'w', { max: 1 });
        assert.equal(d3!.deliveries, 2);
        assert.deepEqual(
          [d2!.firstDeliveredMs, d3!.firstDeliveredMs],
          [d1!.firstDeliveredMs, d1!.firstDeliveredMs],
          'redeliveries keep the first hand-out time',
        );
        await c.nack('s', 'w', [d3!.leaseToken], 60_000);
        assert.deepEqual(await c.receive('s', 'w', { max: 1 }), [], 'a nack delay holds the event back');
      });
    });

    it('dead-letters an event after maxDeliveries, with the reason and count, and acks it', async () => {
      await withStore(async (f) => {
        await streamWith(f, 's', ['t', 't']);
        const c = f.services.consumers;
        await c.create('s', { name: 'w', leaseMs: 60_000, maxDeliveries: 2 });
        for (let i = 0; i < 2; i++) {
          const got = await c.receive('s', 'w', { max: 1 });
          assert.equal(got[0]!.event.seq, 1);
          await c.nack('s', 'w', [got[0]!.leaseToken], 0);
        }
        const after = await c.receive('s', 'w', { max: 1 });
        assert.equal(after[0]!.event.seq, 2, 'the exhausted event is not delivered a third time');
        const dlq = [];
        for await (const e of f.store.events.read('s.dlq', { limit: 10 })) dlq.push(e);
        assert.equal(dlq.length, 1);
        assert.deepEqual(dlq[0]!.data, { i: 0 });
        const info = dlq[0]!.meta.deadLetter as Record<string, unknown>;
        assert.equal(info.reason, 'nacked');
        assert.equal(info.deliveries, 2);
        assert.equal(info.seq, 1);
        await c.ack('s', 'w', [after[0]!.leaseToken]);
        assert.equal((await c.lag('s', 'w')).pending, 0);
      });
    });

    it('dead-letters into a configured stream when the last lease expires', async () => {
      await withStore(async (f) => {
        await streamWith(f, 's', ['t']);
        const c = f.services.consumers;
        await c.create('s', { name: 'w', leaseMs: 100, maxDeliveries: 1, deadLetterStream: 'parked.dlq' });
        await c.receive('s', 'w', { max: 1 });
        for (let i = 0; i < 500 && (await f.store.events.stats('parked.dlq').catch(() => null))?.count !== 1; i++) {
          assert.deepEqual(await c.receive('s', 'w', { max: 1 }), []);
          await new Promise((r) => setTimeout(r, 20));
        }
        const parked = [];
        for await (const e of f.store.events.read('parked.dlq', { limit: 10 })) parked.push(e);
        assert.equal(parked.length, 1);
        assert.equal((parked[0]!.meta.deadLetter as Record<string, unknown>).reason, 'lease-expired');
        assert.equal((await c.lag('s', 'w')).committedSeq, 1);
      });
    });

    it(
      'keeps positions and leases across a restart',
      { skip: options.reopen ? false : 'store cannot be reopened' },
      async () => {
        await withStore(async (f) => {
          await streamWith(f, 's', ['t', 't', 't', 'u']);
          await f.services.consumers.create('s', { name: 'cur', types: ['t'] });
          await f.services.consumers.create('s', { name: 'w', leaseMs: 60_000 });
          await f.services.consumers.commit('s', 'cur', 2);
          const leased = await f.services.consumers.receive('s', 'w', { max: 2 });
          await f.services.consumers.nack('s', 'w', [leased[0]!.leaseToken], 0);
          const [back] = await f.services.consumers.receive('s', 'w', { max: 1 });
          leased[0] = back!;
          const reopened = await options.reopen!(f.store);
          const again = createCoreServices(reopened, { maxBatchEvents: 10 }).consumers;
          assert.deepEqual(
            (await again.peek('s', 'cur', 10)).map((e) => e.seq),
            [3],
          );
          assert.deepEqual(
            (await again.receive('s', 'w', { max: 10 })).map((d) => d.event.seq),
            [3, 4],
            'leases held across the restart',
          );
          await again.nack('s', 'w', [leased[0]!.leaseToken], 0);
          const [redelivered] = await again.receive('s', 'w', { max: 1 });
          assert.equal(redelivered!.event.seq, 1);
          assert.equal(
            redelivered!.firstDeliveredMs,
            back!.firstDeliveredMs,
            'the first hand-out time survives the restart',
          );
          leased[0] = redelivered!;
          assert.deepEqual(
            (
              await again.ack(
                's',
                'w',
                leased.map((d) => d.leaseToken),
              )
            ).map((o) => o.outcome),
            ['ok', 'ok'],
          );
          return reopened;
        });
      },
    );
  });
}
