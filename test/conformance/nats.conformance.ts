// The Durable Streams conformance suite against Rivulet's /ds mount on a spawned nats-server.
import { afterAll, beforeAll, describe } from 'vitest';
import { runConformanceTests } from '@durable-streams/server-conformance-tests';
import { startDsServer, type DsServer } from './ds-server.js';

describe('Durable Streams conformance on nats', () => {
  const config = { baseUrl: '', longPollTimeoutMs: 3_000 };
  let server: DsServer | undefined;
  beforeAll(async () => {
    server = await startDsServer('nats');
    config.baseUrl = server.url;
  });
  afterAll(async () => {
    await server?.close();
  });
  runConformanceTests(config);
});
