/**
 * One consumer used through several stores at once, as several Rivulet processes use it:
 * - on a 3-node cluster (replicas 3), a consumer created through one store is found at once
 *   through another, though the replica that answers the other's read may not have the entry
 *   yet;
 * - on one nats-server, three stores sharing a leased consumer never hand out one event twice
 *   while its lease holds, and every event is acked once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { newEvent } from '../conformance/store/store-suite.js';
import type { ConsumerDefinition } from '../../src/store/port.js';
import { startNatsCluster, startNatsServer } from '../support/nats-server.js';
import { freshNamespace, openNatsTestStore, openSharedNatsTestStores } from '../support/nats-store.js';

const cluster = await startNatsCluster();
const single = await startNatsServer();
after(() => Promise.all([cluster.close(), single.close()]));

const def = (stream: string, name: string): ConsumerDefinition => ({
  stream,
  name,
  types: [],
  leaseMs: 60_000,
  maxDeliveries: 5,
  deadLetterStream: null,
});

function streamRecord(name: string) {
  const now = new Date().toISOString();
  return {
    name,
    owner: 'test',
    description: '',
    retention: {},
    exclusiveProducer: false,
    options: {},
    createdAt: now,
    updatedAt: now,
  };
}

describe('nats store: one consumer through several stores', () => {
  it('a consumer created through one store is found through another at once (3-node cluster)', async () => {
    const prefix = freshNamespace();
    const a = await openNatsTestStore(cluster.servers, prefix, 3);
    const b = await openNatsTestStore(cluster.servers, prefix, 3);
    try {
      await a.streams.create(streamRecord('s'));
      await a.events.append({ stream: 's', events: [newEvent('t', {})], producer: null });
      for (let i = 0; i < 60; i++) {
        await a.consumers.create(def('s', `c${i}`), { from: 'beginning' }, Date.now());
        assert.ok(
          await b.consumers.get('s', `c${i}`),
          `round ${i}: the other store did not find the consumer just created`,
        );
        const got = await b.consumers.receive('s', `c${i}`, {
          max: 1,
          leaseMs: 60_000,
          clientId: null,
          nowMs: Date.now(),
        });
        assert.equal(got.deliveries.length, 1, `round ${i}`);
        assert.deepEqual(
          await a.consumers.ack('s', `c${i}`, [got.deliveries[0]!.leaseToken], Date.now()),
          ['ok'],
          `round ${i}: a lease taken through the other store`,
        );
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('three stores share a leased consumer: no event is handed out twice, every one is acked once', async () => {
    const stores = await openSharedNatsTestStores(single.servers, 3);
    try {
      const total = 600;
      await stores[0].streams.create(streamRecord('s'));
      for (let i = 0; i < total; i += 100) {
        await stores[0].events.append({
          stream: 's',
          events: Array.from({ length: 100 }, (_, j) => newEvent('t', { i: i + j })),
          producer: null,
        });
      }
      await stores[0].consumers.create(def('s', 'work'), { from: 'beginning' }, Date.now());
      const handed = new Map<number, string>();
      let acked = 0;
      const client = async (id: string, storeIndex: number) => {
        const store = stores[storeIndex]!;
        for (;;) {
          const { deliveries } = await store.consumers.receive('s', 'work', {
            max: 9,
            leaseMs: 60_000,
            clientId: id,
            nowMs: Date.now(),
          });
          if (deliveries.length === 0) return;
          for (const d of deliveries) {
            assert.equal(
              handed.get(d.event.seq),
              undefined,
              `seq ${d.event.seq} was handed to ${handed.get(d.event.seq)} and ${id}`,
            );
            handed.set(d.event.seq, id);
          }
          // settled through another store than the one that leased them
          const other = stores[(storeIndex + 1) % stores.length]!;
          const outcomes = await other.consumers.ack(
            's',
            'work',
            deliveries.map((d) => d.leaseToken),
            Date.now(),
          );
          assert.ok(
            outcomes.every((o) => o === 'ok'),
            `${id}: ${outcomes.join(',')}`,
          );
          acked += outcomes.length;
        }
      };
      await Promise.all(stores.flatMap((_, s) => [0, 1, 2].map((c) => client(`s${s}c${c}`, s))));
      assert.equal(handed.size, total);
      assert.equal(acked, total);
      const lag = await stores[2]!.consumers.lag('s', 'work', Date.now());
      assert.equal(lag.committedSeq, total);
      assert.equal(lag.pending, 0);
      assert.equal(lag.leased, 0);
      assert.equal((await stores[1]!.consumers.get('s', 'work'))?.committedSeq, total);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
