/** The core services, wired over one store. The composition root and tests build them here. */
import type { Store } from '../store/port.js';
import { systemClock, type Clock } from './clock.js';
import { ConsumerService } from './consumers/consumer-service.js';
import { ProduceService } from './events/produce.js';
import { ReadService } from './events/read-events.js';
import { KeyService } from './keys/key-service.js';
import { LiveService, type LiveOptions } from './live/live-service.js';
import { LiveTokenService } from './live/live-tokens.js';
import { SchemaEnforcer } from './schemas/schema-enforcement.js';
import { SchemaRegistry } from './schemas/schema-registry.js';
import { StreamService } from './streams/stream-service.js';

export interface CoreOptions {
  maxBatchEvents: number;
  clock?: Clock;
  /** live subscriptions: polling where the store cannot notify across processes, and the follow check */
  live?: Partial<LiveOptions>;
  /** how long a live token (browsers' SSE/WebSocket auth) stays valid */
  liveTokenTtlMs?: number;
}

export interface CoreServices {
  store: Store;
  clock: Clock;
  streams: StreamService;
  produce: ProduceService;
  read: ReadService;
  keys: KeyService;
  consumers: ConsumerService;
  live: LiveService;
  liveTokens: LiveTokenService;
  schemas: SchemaRegistry;
  schemaEnforcer: SchemaEnforcer;
}

export function createCoreServices(store: Store, options: CoreOptions): CoreServices {
  const clock = options.clock ?? systemClock;
  const streams = new StreamService(store, clock);
  const produce = new ProduceService(store, { maxBatchEvents: options.maxBatchEvents });
  const schemas = new SchemaRegistry(store, clock);
  const schemaEnforcer = new SchemaEnforcer(schemas);
  produce.addIngestCheck(schemaEnforcer.ingestCheck);
  return {
    store,
    clock,
    streams,
    produce,
    read: new ReadService(store),
    keys: new KeyService(store.documents, clock),
    consumers: new ConsumerService(store, streams, produce, clock),
    live: new LiveService(store, { pollIntervalMs: 500, ...options.live }),
    liveTokens: new LiveTokenService(store.documents, clock, options.liveTokenTtlMs ?? 300_000),
    schemas,
    schemaEnforcer,
  };
}
