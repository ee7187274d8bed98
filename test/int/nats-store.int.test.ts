/** The nats store against the shared store conformance suite, on a real nats-server. */
import { after } from 'node:test';
import { defineStoreSuite } from '../conformance/store/store-suite.js';
import type { NatsStore } from '../../src/store/nats/nats-store.js';
import { startNatsServer } from '../support/nats-server.js';
import { openNatsTestStore } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

defineStoreSuite('nats', async () => {
  let current: NatsStore = await openNatsTestStore(nats.servers);
  const prefix = current.names.prefix;
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openNatsTestStore(nats.servers, prefix);
      return current;
    },
    cleanup: () => current.close(),
  };
});
