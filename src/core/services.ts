/** The core services, wired over one store. The composition root and tests build them here. */
import type { Store } from '../store/port.js';
import { systemClock, type Clock } from './clock.js';
import { ProduceService } from './events/produce.js';
import { ReadService } from './events/read-events.js';
import { KeyService } from './keys/key-service.js';
import { StreamService } from './streams/stream-service.js';

export interface CoreOptions {
  maxBatchEvents: number;
  clock?: Clock;
}

export interface CoreServices {
  store: Store;
  clock: Clock;
  streams: StreamService;
  produce: ProduceService;
  read: ReadService;
  keys: KeyService;
}

export function createCoreServices(store: Store, options: CoreOptions): CoreServices {
  const clock = options.clock ?? systemClock;
  return {
    store,
    clock,
    streams: new StreamService(store, clock),
    produce: new ProduceService(store, { maxBatchEvents: options.maxBatchEvents }),
    read: new ReadService(store),
    keys: new KeyService(store.documents, clock),
  };
}
