/**
 * A schema registered through one process reaches another's cached index through the store's
 * document watch; when no notice comes (a store without `documentWatch`, or a notice lost), the
 * index is read again once it is INDEX_TTL_MS old. Two registries share one nats namespace (a
 * real nats-server); the reader's store is the same real store with its `documentWatch`
 * capability turned off, so only the time-based reload can tell it. Time is the test's clock.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { INDEX_TTL_MS, SchemaRegistry } from '../../src/core/schemas/schema-registry.js';
import type { Store } from '../../src/store/port.js';
import { startNatsServer } from '../support/nats-server.js';
import { openSharedNatsTestStores } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

/** the store as it is, but reporting no document watch */
function withoutWatch(store: Store): Store {
  const capabilities = { ...store.capabilities, documentWatch: false };
  return new Proxy(store, {
    get: (target, prop, receiver) => (prop === 'capabilities' ? capabilities : Reflect.get(target, prop, receiver)),
  });
}

describe('schema registry on a store shared by several processes', () => {
  it("reads a stream's index again once it is INDEX_TTL_MS old, so a version registered elsewhere is enforced", async () => {
    const [a, b] = await openSharedNatsTestStores(nats.servers);
    try {
      let nowMs = Date.parse('2026-01-01T00:00:00Z');
      const clock = { now: () => new Date(nowMs) };
      const writer = new SchemaRegistry(a, clock);
      const reader = new SchemaRegistry(withoutWatch(b), clock);
      const t = new Date(nowMs).toISOString();
      await a.streams.create({
        name: 'orders',
        owner: 'test',
        description: '',
        retention: {},
        exclusiveProducer: false,
        options: {},
        createdAt: t,
        updatedAt: t,
      });

      await writer.register('orders', 'order.placed', { type: 'object' });
      assert.equal((await reader.validators('orders')).get('order.placed', null)?.version, 1);

      await writer.register('orders', 'order.placed', { type: 'object', title: 'second' });
      nowMs += INDEX_TTL_MS - 1;
      assert.equal(
        (await reader.validators('orders')).get('order.placed', null)?.version,
        1,
        'the cached index is used while it is fresh',
      );
      nowMs += 1;
      assert.equal(
        (await reader.validators('orders')).get('order.placed', null)?.version,
        2,
        'an index INDEX_TTL_MS old is read again',
      );
    } finally {
      await b.close();
      await a.close();
    }
  });
});
