/** The nats store against the shared consumer conformance suite, on a real nats-server. */
import { after } from 'node:test';
import { defineConsumerSuite } from '../conformance/store/consumer-suite.js';
import type { NatsStore } from '../../src/store/nats/nats-store.js';
import { startNatsServer } from '../support/nats-server.js';
import { openNatsTestStore } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

defineConsumerSuite('nats', () => openNatsTestStore(nats.servers), {
  async reopen(store) {
    const prefix = (store as NatsStore).names.prefix;
    await store.close();
    return openNatsTestStore(nats.servers, prefix);
  },
});
