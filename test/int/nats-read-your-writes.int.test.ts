/**
 * On a 3-node cluster (replicas 3) a KV read is a direct get that any replica may answer, and
 * a follower may not have applied a write made a moment ago: on this machine about one read
 * in 25 right after a write came back stale. A process must still read its own writes — a
 * sink created and shown at once, a consumer's lease taken and then acked, a stream created
 * and then written to. Each loop below writes and reads back at once, hundreds of times.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { newEvent } from '../conformance/store/store-suite.js';
import type { NatsStore } from '../../src/store/nats/nats-store.js';
import { startNatsCluster } from '../support/nats-server.js';
import { openNatsTestStore } from '../support/nats-store.js';

const ROUNDS = 300;

const cluster = await startNatsCluster();
after(() => cluster.close());

/** a store on the cluster with every bucket and stream at 3 replicas, closed after `fn` */
async function withStore(fn: (store: NatsStore) => Promise<void>): Promise<void> {
  const store = await openNatsTestStore(cluster.servers, undefined, 3);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

describe('nats store on a 3-node cluster: a process reads its own writes', () => {
  it('documents: each put, create and delete is seen by the next get', () =>
    withStore(async (store) => {
      for (let i = 0; i < ROUNDS; i++) {
        const version = await store.documents.put('things', 'one', { i });
        const got = await store.documents.get<{ i: number }>('things', 'one');
        assert.equal(got?.version, version, `round ${i}: read version ${got?.version} after writing ${version}`);
        assert.equal(got?.value.i, i);
      }
      for (let i = 0; i < ROUNDS / 3; i++) {
        await store.documents.put('fresh', `k${i}`, { i }, { expectedVersion: 0 });
        assert.ok(await store.documents.get('fresh', `k${i}`), `round ${i}: a created document was not found`);
        assert.equal(await store.documents.delete('fresh', `k${i}`), true);
        assert.equal(
          await store.documents.get('fresh', `k${i}`),
          null,
          `round ${i}: a deleted document was still found`,
        );
      }
    }));

  it('streams and consumers: a stream is there once created, a lease taken is known to the ack that follows', () =>
    withStore(async (store) => {
      const now = new Date().toISOString();
      for (let i = 0; i < 20; i++) {
        await store.streams.create({
          name: `s${i}`,
          owner: 'test',
          description: '',
          retention: {},
          exclusiveProducer: false,
          options: {},
          createdAt: now,
          updatedAt: now,
        });
        assert.ok(await store.streams.get(`s${i}`), `round ${i}: a created stream was not found`);
      }
      await store.events.append({
        stream: 's0',
        events: Array.from({ length: 100 }, (_, i) => newEvent('t', { i })),
        producer: null,
      });
      await store.consumers.create(
        { stream: 's0', name: 'c', types: [], leaseMs: 30_000, maxDeliveries: 5, deadLetterStream: null },
        { from: 'beginning' },
        Date.now(),
      );
      for (let i = 0; i < 40; i++) {
        const {
          deliveries: [d],
        } = await store.consumers.receive('s0', 'c', { max: 1, leaseMs: 30_000, clientId: 'me', nowMs: Date.now() });
        assert.equal(d?.event.seq, i + 1, `round ${i}: received ${d?.event.seq}`);
        assert.deepEqual(
          await store.consumers.ack('s0', 'c', [d.leaseToken], Date.now()),
          ['ok'],
          `round ${i}: a lease just taken was unknown to the ack`,
        );
      }
    }));
});
