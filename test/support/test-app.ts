/**
 * A real app over a real SQLite store in a temp dir, driven with `inject()`.
 * Close it in the test (or `await using`); a forgotten one fails the test.
 */
import type { FastifyInstance } from 'fastify';
import { createCoreServices, type CoreOptions, type CoreServices } from '../../src/core/services.js';
import { buildApp, type AppDeps } from '../../src/http/app.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir, track } from './resources.js';

export interface TestApp {
  app: FastifyInstance;
  services: CoreServices;
  store: SqliteStore;
  dataDir: string;
  /** an admin key's secret */
  adminKey: string;
  /** headers carrying the admin key */
  admin: Record<string, string>;
  /** creates a key with these scopes and answers its auth headers */
  keyWith(scopes: string[], owner?: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  dataDir?: string;
  limits?: Partial<AppDeps['limits']>;
  maxBatchEvents?: number;
  extensions?: AppDeps['extensions'];
  live?: AppDeps['live'];
  logger?: AppDeps['logger'];
  /** core options beyond maxBatchEvents (clock, live token lifetime, …) */
  core?: Partial<CoreOptions>;
  dialects?: AppDeps['dialects'];
}

export async function openTestStore(dataDir = tempDir()): Promise<SqliteStore> {
  const store = new SqliteStore({ dataDir, durability: 'strict' });
  await store.open();
  let closed = false;
  const close = store.close.bind(store);
  store.close = async () => {
    closed = true;
    await close();
  };
  return track(`sqlite store in ${dataDir}`, store, () => closed);
}

export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? tempDir();
  const store = await openTestStore(dataDir);
  const services = createCoreServices(store, { ...options.core, maxBatchEvents: options.maxBatchEvents ?? 10_000 });
  const app = await buildApp({
    services,
    version: 'test',
    limits: { bodyLimit: 5 * 1024 * 1024, maxJsonDepth: 64, maxReadLimit: 10_000, ...options.limits },
    extensions: options.extensions,
    live: options.live,
    logger: options.logger,
    dialects: options.dialects,
  });
  await app.ready();
  const { secret } = await services.keys.create({ owner: 'admin', scopes: ['admin'], name: 'test admin' });
  let closed = false;
  const testApp: TestApp = {
    app,
    services,
    store,
    dataDir,
    adminKey: secret,
    admin: { authorization: `Bearer ${secret}` },
    async keyWith(scopes, owner = 'tester') {
      const created = await services.keys.create({ owner, scopes });
      return { authorization: `Bearer ${created.secret}` };
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await store.close();
    },
  };
  return track(`test app in ${dataDir}`, testApp, () => closed);
}
