/**
 * The Durable Streams managed settings tests (test/int/ds-managed-settings.int.test.ts),
 * unchanged, on the nats store: this file starts a nats-server, points buildTestApp at it, and
 * imports them.
 */
import { after } from 'node:test';
import { startNatsServer } from '../support/nats-server.js';

const nats = await startNatsServer();
process.env.RIVULET_TEST_NATS_URL = nats.servers;
after(() => nats.close());

await import('./ds-managed-settings.int.test.js');
