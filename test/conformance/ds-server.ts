/**
 * Rivulet serving the Durable Streams mount on a real socket for the conformance suite: a
 * fresh SQLite data dir, or a fresh namespace on a spawned nats-server. No key is needed
 * (`anonymous`), as the suite sends none; long-polls wait 2 s so the suite's timeouts hold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createCoreServices } from '../../src/core/services.js';
import { buildApp } from '../../src/http/app.js';
import { composeDialects } from '../../src/runtime/dialects.js';
import type { Store } from '../../src/store/port.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { NatsStore } from '../../src/store/nats/nats-store.js';
import { startNatsServer, type NatsCluster } from '../support/nats-server.js';

export interface DsServer {
  url: string;
  close(): Promise<void>;
}

export async function startDsServer(kind: 'sqlite' | 'nats'): Promise<DsServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rivulet-ds-conformance-'));
  let nats: NatsCluster | null = null;
  let store: Store;
  if (kind === 'nats') {
    nats = await startNatsServer({ dir: dataDir });
    store = new NatsStore({
      servers: nats.servers.split(','),
      prefix: `t${randomBytes(6).toString('hex')}`,
      replicas: 1,
    });
  } else {
    store = new SqliteStore({ dataDir, durability: 'strict' });
  }
  await store.open();
  const services = createCoreServices(store, { maxBatchEvents: 10_000 });
  const limits = { bodyLimit: 5 * 1024 * 1024, maxJsonDepth: 64, maxReadLimit: 10_000 };
  const app: FastifyInstance = await buildApp({
    services,
    store,
    version: 'test',
    limits,
    dialects: composeDialects(
      services,
      store,
      { durableStreams: { anonymous: true, longPollTimeoutMs: 2_000, sseMaxMs: 60_000 } },
      limits,
    ).dialects,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/ds`,
    close: async () => {
      const force = setTimeout(() => app.server.closeAllConnections(), 2_000);
      await app.close();
      clearTimeout(force);
      await store.close();
      await nats?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
