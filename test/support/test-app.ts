/**
 * A real app over a real SQLite store in a temp dir, driven with `inject()`.
 * Close it in the test (or `await using`); a forgotten one fails the test.
 */
import type { FastifyInstance } from 'fastify';
import { createCoreServices, type CoreOptions, type CoreServices } from '../../src/core/services.js';
import { buildApp, type AppDeps } from '../../src/http/app.js';
import { DIALECT_SPEC_SECTIONS } from '../../src/runtime/dialect-spec-sections.js';
import { composeDialects, type DialectOptions } from '../../src/runtime/dialects.js';
import type { OkdataService } from '../../src/dialects/okdata/okdata-service.js';
import type { Store } from '../../src/store/port.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { namespaceOf, openNatsTestStore } from './nats-store.js';
import { openTracked, tempDir, track } from './resources.js';

export interface TestApp {
  app: FastifyInstance;
  services: CoreServices;
  /** okdata's dataset lifecycle, as the okdata dialect serves it */
  okdata: OkdataService;
  /** SQLite by default; the nats store when RIVULET_TEST_NATS_URL names a running server */
  store: Store;
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
  /** settings of the seed dialects, which the app composes as the server does */
  dialects?: DialectOptions;
  /** metrics, tracing hook, overload protection and server timeouts, as buildApp takes them */
  observability?: AppDeps['observability'];
  protection?: AppDeps['protection'];
  timeouts?: AppDeps['timeouts'];
  /** where the web console's built files are */
  console?: AppDeps['console'];
  /** the produce lane (on unless false; it only sees requests that come over a real socket) */
  produceLane?: AppDeps['produceLane'];
  trustProxy?: AppDeps['trustProxy'];
  cors?: AppDeps['cors'];
  isShuttingDown?: AppDeps['isShuttingDown'];
}

export async function openTestStore(dataDir = tempDir()): Promise<SqliteStore> {
  return openTracked(`sqlite store in ${dataDir}`, new SqliteStore({ dataDir, durability: 'strict' }));
}

export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? tempDir();
  // A wiring file (e.g. test/int/nats-live.int.test.ts) points the shared tests at a nats-server.
  const natsUrl = process.env.RIVULET_TEST_NATS_URL;
  // on nats the namespace follows the data dir, so reopening a dataDir (a restart) finds its data
  const store: Store = natsUrl ? await openNatsTestStore(natsUrl, namespaceOf(dataDir)) : await openTestStore(dataDir);
  // the dialects' spec sections, as the server wires them
  const services = createCoreServices(store, {
    specSections: DIALECT_SPEC_SECTIONS,
    ...options.core,
    maxBatchEvents: options.maxBatchEvents ?? 10_000,
  });
  const limits = { bodyLimit: 5 * 1024 * 1024, maxJsonDepth: 64, maxReadLimit: 10_000, ...options.limits };
  const dialects = composeDialects(services, store, options.dialects ?? {}, limits);
  const app = await buildApp({
    services,
    store,
    version: 'test',
    limits,
    extensions: options.extensions,
    live: options.live,
    logger: options.logger,
    dialects: dialects.dialects,
    observability: options.observability,
    protection: options.protection,
    timeouts: options.timeouts,
    console: options.console,
    produceLane: options.produceLane,
    trustProxy: options.trustProxy,
    cors: options.cors,
    isShuttingDown: options.isShuttingDown,
  });
  await app.ready();
  const { secret } = await services.keys.create({ owner: 'admin', scopes: ['admin'], name: 'test admin' });
  let closed = false;
  const testApp: TestApp = {
    app,
    services,
    okdata: dialects.okdata,
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
