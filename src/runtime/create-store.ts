/** The one place that names concrete stores: picks one from the configuration. */
import type { Config } from '../config/load-config.js';
import type { Store } from '../store/port.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';

export function createStore(config: Config): Store {
  if (config.store === 'sqlite') {
    return new SqliteStore({ dataDir: config.dataDir, durability: config.durability, idempotencyWindowMs: config.idempotencyWindow * 1000 });
  }
  throw new Error(`store "${config.store}" is not available in this build; use "sqlite"`);
}
