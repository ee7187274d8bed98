/**
 * The nats store's document watch (`documentWatch`) across processes: two stores on one
 * namespace, each with its own connection, as two Rivulet processes have. The single-store
 * behaviour is in the conformance suite (test/int/nats-store.int.test.ts).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '../support/nats-server.js';
import { openNatsTestStore, openSharedNatsTestStores } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const changes = (seen: (string | null)[]) => seen.filter((k): k is string => k !== null);

describe('nats document watch', () => {
  it('reports writes and deletes made through another process, and stops when the store closes', async () => {
    const [writer, reader] = await openSharedNatsTestStores(nats.servers);
    try {
      assert.equal(reader.capabilities.documentWatch, true);
      const seen: (string | null)[] = [];
      const alsoSeen: (string | null)[] = [];
      reader.documents.watch('keys', (key) => seen.push(key));
      reader.documents.watch('keys', (key) => alsoSeen.push(key));
      await waitFor(() => seen.includes(null) && alsoSeen.includes(null), 'the watch was never in place');

      await writer.documents.put('keys', 'hash-1', { id: '1' });
      await writer.documents.put('sink-leases', 'hash-1', { owner: 'p' });
      await writer.documents.put('keys', 'hash-1', { id: '1', name: 'renamed' }, { expectedVersion: 1 });
      await writer.documents.delete('keys', 'hash-1');
      await waitFor(
        () => changes(seen).length >= 3 && changes(alsoSeen).length >= 3,
        `only ${JSON.stringify(seen)} reported`,
      );
      assert.deepEqual(
        changes(seen),
        ['hash-1', 'hash-1', 'hash-1'],
        'put, update and delete; other collections are not reported',
      );
      assert.deepEqual(changes(alsoSeen), changes(seen), 'every listener of the collection hears every change');

      await reader.close();
      await writer.documents.put('keys', 'after-close', { id: '2' });
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(!seen.includes('after-close'), 'a closed store reports nothing');
      const ignored = reader.documents.watch('keys', () => assert.fail('a closed store starts no watch'));
      ignored();
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('shares one KV watch per collection among its listeners; the last unsubscribe ends it', async () => {
    const store = await openNatsTestStore(nats.servers);
    const nc = await connect({ servers: nats.servers.split(',') });
    try {
      const jsm = await jetstreamManager(nc);
      const kvStream = `KV_${store.names.bucket('docs')}`;
      const watchers = async () => (await jsm.consumers.list(kvStream).next()).length;
      const ready: string[] = [];
      const stops = [
        store.documents.watch('keys', (k) => k === null && ready.push('keys-1')),
        store.documents.watch('keys', (k) => k === null && ready.push('keys-2')),
        store.documents.watch('schemas', (k) => k === null && ready.push('schemas')),
      ];
      await waitFor(() => ready.length === 3, `only ${ready.join(', ')} in place`);
      assert.equal(await watchers(), 2, 'one consumer for keys, one for schemas');

      const seen: (string | null)[] = [];
      stops[0]!();
      stops.push(store.documents.watch('keys', (k) => seen.push(k)));
      await store.documents.put('keys', 'k', {});
      await waitFor(() => seen.includes('k'), 'a listener joining a running watch hears the next change');
      // what a reconnect does: every listener drops what it cached
      store.documents.resync();
      assert.deepEqual(seen, ['k', null]);
      for (const stop of stops) stop();
      store.documents.resync();
      assert.deepEqual(seen, ['k', null], 'no watch is left to tell');
    } finally {
      await nc.close();
      await store.close();
    }
  });
});
