/**
 * Everything the composition root (and the test app) needs for sinks: the URL guard, the
 * target registry, the checks the core runs when a sink is saved, and the engine.
 */
import type { Logger } from 'pino';
import type { CoreServices } from '../core/services.js';
import type { Store } from '../store/port.js';
import type { SinkChecks } from '../core/sinks/sink-model.js';
import { SinkEngine, type SinkEngineOptions } from './engine/sink-engine.js';
import { createSinkChecks } from './sink-checks.js';
import { defaultTargets, type TargetRegistry } from './targets/registry.js';
import type { TargetDeps } from './targets/target.js';
import { createUrlGuard, type UrlGuardOptions } from './url-guard.js';

export interface Delivery {
  registry: TargetRegistry;
  targetDeps: TargetDeps;
  checks: SinkChecks;
  /** builds the engine over the services (which were built with `checks`) and their store */
  engine(
    services: CoreServices,
    store: Pick<Store, 'capabilities' | 'documents' | 'events'>,
    log: Logger,
    options?: Partial<SinkEngineOptions>,
  ): SinkEngine;
}

export function createDelivery(guard: UrlGuardOptions, registry: TargetRegistry = defaultTargets()): Delivery {
  const targetDeps: TargetDeps = { urlGuard: createUrlGuard(guard) };
  return {
    registry,
    targetDeps,
    checks: createSinkChecks(registry, targetDeps),
    engine(services, store, log, options) {
      // the stream target writes through the same produce path as the API
      targetDeps.produce = services.produce;
      return new SinkEngine(services, store, registry, targetDeps, log, options);
    },
  };
}
