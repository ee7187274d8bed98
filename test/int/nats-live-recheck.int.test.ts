/**
 * Follow checks asked again across processes: two Rivulet processes (two stores and cores on
 * one nats-server namespace); a subscriber follows an okdata stream through the first, the
 * okdata "subscribable" switch is turned off through the second, and the subscription on the
 * first ends with FORBIDDEN.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { RivuletError } from '../../src/kernel/errors.js';
import { createCoreServices } from '../../src/core/services.js';
import { composeDialects } from '../../src/runtime/dialects.js';
import { startNatsServer } from '../support/nats-server.js';
import { freshNamespace, openNatsTestStore } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

describe('live follow checks across processes (nats)', () => {
  it('ends a subscription on one process when okdata following is turned off through another', async () => {
    const namespace = freshNamespace();
    const stores = [await openNatsTestStore(nats.servers, namespace), await openNatsTestStore(nats.servers, namespace)];
    try {
      // each process composes the okdata dialect, whose switch is the follow check asked again
      const [a, b] = stores.map((store) => {
        const services = createCoreServices(store, {
          maxBatchEvents: 100,
          live: { pollIntervalMs: 100, recheckIntervalMs: 100 },
        });
        return { ...services, okdata: composeDialects(services, store, {}, { maxJsonDepth: 64 }).okdata };
      });
      const id = { dataset: 'weather', version: '1' };
      await b!.okdata.create(id, { createRaw: false }, 'ops');
      await b!.okdata.setSubscribable(id, true, 'ops');
      const stream = (await b!.okdata.eventTarget(id)).stream;

      const sub = await a!.live.subscribe({ stream, start: { at: 'tail' }, principal: null });
      const ended = new Promise<RivuletError>((resolve) => {
        sub.start({ event: () => true, reset: () => true, failed: resolve });
      });
      await b!.okdata.setSubscribable(id, false, 'ops');
      const error = await Promise.race([ended, new Promise<null>((r) => setTimeout(() => r(null), 5000).unref())]);
      assert.ok(error, 'the subscription on the other process was not ended');
      assert.equal(error.code, 'FORBIDDEN');
      assert.equal(a!.live.size, 0);
      await assert.rejects(a!.live.subscribe({ stream, start: { at: 'tail' }, principal: null }), {
        code: 'FORBIDDEN',
      });
    } finally {
      for (const store of stores) await store.close();
    }
  });
});
