/**
 * The dialect tests (aether, eventserver, iflux, okdata, durable streams) and the read-filter
 * tests, unchanged, on the nats store: this file starts a nats-server, points buildTestApp at
 * it, and imports the shared definitions.
 */
import { after } from 'node:test';
import { startNatsServer } from '../support/nats-server.js';

const nats = await startNatsServer();
process.env.RIVULET_TEST_NATS_URL = nats.servers;
after(() => nats.close());

await import('./aether-dialect.int.test.js');
await import('./eventserver-dialect.int.test.js');
await import('./iflux-dialect.int.test.js');
await import('./okdata-dialect.int.test.js');
await import('./durable-streams.int.test.js');
await import('./read-filter.int.test.js');
