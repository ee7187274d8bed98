/**
 * Listing the keys of a KV bucket (every documents, consumers and streams list on the nats
 * store) must not leave anything behind on the server: the client's own `kv.keys()` left an
 * ordered consumer per call for 5 minutes, and sinks' scans list every few seconds. Nor may a
 * closed store's watches (its stream catalog's, its document collections'). A real
 * nats-server; the consumers are counted through JetStream's own API.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '../support/nats-server.js';
import { freshNamespace, openNatsTestStore } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

/** consumer names on the namespace's buckets whose kind (`docs`, `streams`, …) is in `kinds` */
async function consumersOn(jsm: JetStreamManager, prefix: string, kinds: string[]): Promise<string[]> {
  const names: string[] = [];
  for await (const si of jsm.streams.list()) {
    if (!kinds.some((k) => si.config.name === `KV_${prefix}_${k}`)) continue;
    for await (const c of jsm.consumers.list(si.config.name)) names.push(`${si.config.name}/${c.name}`);
  }
  return names;
}

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
        assert.deepEqual(
          (await store.documents.list('things')).map((d) => d.key),
          ['a', 'c', 'd', 'e'],
        );
      }
      assert.deepEqual(
        (await store.documents.list('things', { after: 'a', limit: 2 })).map((d) => d.key),
        ['c', 'd'],
      );
      assert.deepEqual(await store.documents.list('nothing'), []);

      const jsm = await jetstreamManager(nc);
      assert.deepEqual(await consumersOn(jsm, prefix, ['docs']), [], 'consumers left on the documents bucket');
    } finally {
      await nc.close();
      await store.close();
    }
  });

  it("a closed store leaves none of its watches' consumers behind", async () => {
    // that a watch reports other processes' changes is nats-document-watch.int.test.ts's to check
    const prefix = freshNamespace();
    const nc = await connect({ servers: nats.servers.split(',') });
    try {
      const jsm = await jetstreamManager(nc);
      const store = await openNatsTestStore(nats.servers, prefix);
      try {
        const seen: (string | null)[] = [];
        store.documents.watch?.('things', (key) => seen.push(key));
        // a watch reports null once it is in place
        for (const deadline = Date.now() + 5_000; !seen.includes(null); await new Promise((r) => setTimeout(r, 20))) {
          assert.ok(Date.now() < deadline, 'the watch never came up');
        }
        assert.equal(
          (await consumersOn(jsm, prefix, ['docs', 'streams'])).length,
          2,
          "the stream catalog's watch and the document watch are up",
        );
      } finally {
        await store.close();
      }
      assert.deepEqual(
        await consumersOn(jsm, prefix, ['docs', 'streams', 'consumers', 'idem']),
        [],
        'consumers left by a closed store',
      );
    } finally {
      await nc.close();
    }
  });

  it('a key rewritten while the keys are listed is still listed', async () => {
    // each rewrite removes the key's old message (one value of history), which the listing's
    // consumer may not have reached yet; a key that exists throughout must be listed every time
    const store = await openNatsTestStore(nats.servers);
    try {
      const total = 300;
      for (let i = 0; i < total; i++) await store.documents.put('things', `k${i}`, { i });
      let stop = false;
      const rewriter = (async () => {
        for (let round = 0; !stop; round++) {
          await Promise.all(
            Array.from({ length: 20 }, (_, j) =>
              store.documents.put('things', `k${(round * 20 + j) % total}`, { round }),
            ),
          );
        }
      })();
      try {
        for (let round = 0; round < 30; round++) {
          const listed = await store.documents.list('things', { limit: 10_000 });
          assert.equal(listed.length, total, `listing ${round} answered ${listed.length} of ${total} keys`);
        }
      } finally {
        stop = true;
        await rewriter;
      }
      await store.documents.delete('things', 'k0');
      assert.equal(
        (await store.documents.list('things', { limit: 10_000 })).length,
        total - 1,
        'a deleted key is not listed',
      );
    } finally {
      await store.close();
    }
  });
});
