/**
 * Listing the keys of a KV bucket (every documents, consumers and streams list on the nats
 * store) must not leave anything behind on the server: the client's own `kv.keys()` left an
 * ordered consumer per call for 5 minutes, and sinks' scans list every few seconds. A real
 * nats-server; the consumers are counted through JetStream's own API.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '../support/nats-server.js';
import { freshNamespace, openNatsTestStore } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

describe('nats store: listing KV keys', () => {
  it('answers live keys only, in pages, and leaves no consumer on the bucket', async () => {
    const prefix = freshNamespace();
    const store = await openNatsTestStore(nats.servers, prefix);
    const nc = await connect({ servers: nats.servers.split(',') });
    try {
      for (const k of ['a', 'b', 'c', 'd', 'e']) await store.documents.put('things', k, { k });
      await store.documents.delete('things', 'b');
      await store.documents.put('other', 'x', { k: 'x' });
      for (let i = 0; i < 10; i++) {
        assert.deepEqual((await store.documents.list('things')).map((d) => d.key), ['a', 'c', 'd', 'e']);
      }
      assert.deepEqual((await store.documents.list('things', { after: 'a', limit: 2 })).map((d) => d.key), ['c', 'd']);
      assert.deepEqual(await store.documents.list('nothing'), []);

      const jsm = await jetstreamManager(nc);
      const left: string[] = [];
      for await (const si of jsm.streams.list()) {
        if (!si.config.name.startsWith(`KV_${prefix}_docs`)) continue;
        for await (const c of jsm.consumers.list(si.config.name)) left.push(c.name);
      }
      assert.deepEqual(left, [], 'consumers left on the documents bucket');
    } finally {
      await nc.close();
      await store.close();
    }
  });
});
