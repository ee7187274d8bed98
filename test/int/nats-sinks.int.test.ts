/**
 * The sink delivery tests (test/int/sinks-delivery.int.test.ts), unchanged, on the nats store:
 * this file starts a nats-server, points buildTestApp at it, and imports the shared definitions.
 * buildTestApp names the namespace after the data dir, so the restart test reopens its data.
 */
import { after } from 'node:test';
import { startNatsServer } from '../support/nats-server.js';

const nats = await startNatsServer();
process.env.RIVULET_TEST_NATS_URL = nats.servers;
after(() => nats.close());

await import('./sinks-delivery.int.test.js');
