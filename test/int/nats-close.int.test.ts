/**
 * A process shutting down while its nats cluster does not answer (paused, partitioned) still
 * closes its store, within the store's wait, instead of hanging on a connection that cannot
 * drain; its reader thread ends with it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { newEvent, streamRecord } from '../conformance/store/store-suite.js';
import { startNatsServer } from '../support/nats-server.js';
import { openNatsTestStore } from '../support/nats-store.js';

const cluster = await startNatsServer();
after(() => cluster.close());

describe('nats store: closing', () => {
  it('closes within its wait when the cluster stopped answering, reader thread included', async () => {
    const store = await openNatsTestStore(cluster.servers);
    await store.streams.create(streamRecord('s'));
    await store.events.append({ stream: 's', events: [newEvent('t', 1)], producer: null });
    let read = 0;
    for await (const slice of store.events.readJson!('s', { limit: 10 })) read += slice.count;
    assert.equal(read, 1);
    assert.equal(store.readerStats()?.threads, 1);

    const node = cluster.nodes[0]!;
    node.child.kill('SIGSTOP');
    try {
      const started = performance.now();
      const outcome = await Promise.race([
        store.close().then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still closing'), 25_000).unref()),
      ]);
      assert.equal(outcome, 'closed');
      assert.ok(performance.now() - started < 20_000, `closed after ${Math.round(performance.now() - started)} ms`);
      assert.equal(store.readerStats()?.threads, 0, 'the reader thread ended');
    } finally {
      node.child.kill('SIGCONT');
    }
  });
});
