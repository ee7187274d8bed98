/** The one place that names concrete stores: picks one from the configuration. */
import type { Config } from '../config/load-config.js';
import type { Store } from '../store/port.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';

export interface StoreObservers {
  /** told of each commit (duration, requests and events it held), for metrics; the sqlite store has it */
  onCommit?: (info: { durationMs: number; requests: number; events: number }) => void;
}

export async function createStore(config: Config, observers: StoreObservers = {}): Promise<Store> {
  if (config.store === 'sqlite') {
    return new SqliteStore({
      dataDir: config.dataDir,
      durability: config.durability,
      idempotencyWindowMs: config.idempotencyWindow * 1000,
      onCommit: observers.onCommit,
      readCacheBytes: config.sqliteReadCacheBytes,
      writeCacheBytes: config.sqliteWriteCacheBytes,
    });
  }
  // loaded only here: the NATS client and the nats store are ~2 MiB of heap a SQLite server never uses
  const [{ parseNatsUrl }, { NatsStore }] = await Promise.all([
    import('../store/nats/nats-connection.js'),
    import('../store/nats/nats-store.js'),
  ]);
  // load-config accepts only "sqlite" or a nats:// (nats+tls://) URL
  const { servers } = parseNatsUrl(config.store);
  return new NatsStore({
    servers,
    credsFile: config.natsCreds,
    tlsCaFile: config.natsTlsCa,
    replicas: config.natsReplicas,
    prefix: config.natsNamespace,
    idempotencyWindowMs: config.idempotencyWindow * 1000,
  });
}
