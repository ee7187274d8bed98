/** The core services, wired over one store. The composition root and tests build them here. */
import type { Store } from '../store/port.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import { ConsumerService } from './consumers/consumer-service.js';
import { ProduceService } from './events/produce.js';
import { ReadService } from './events/read-events.js';
import { KeyService } from './keys/key-service.js';
import { LiveService, type LiveOptions } from './live/live-service.js';
import { LiveTokenService } from './live/live-tokens.js';
import { SchemaEnforcer } from './schemas/schema-enforcement.js';
import { SchemaRegistry } from './schemas/schema-registry.js';
import { StreamService } from './streams/stream-service.js';
import type { SinkChecks } from './sinks/sink-model.js';
import { SinkService } from './sinks/sink-service.js';
import { SinkRates } from './sinks/sink-rates.js';
import { noTargets } from './sinks/no-targets.js';
import { ProduceRates } from './streams/produce-rates.js';
import { SpecService } from './specs/spec-service.js';
import type { SpecSection } from './specs/spec-section.js';
import { ActionTargetService } from './rules/action-target-service.js';
import { EventSourceService } from './rules/event-source-service.js';
import { EventTypeService } from './rules/event-type-service.js';
import { RuleService } from './rules/rule-service.js';

export interface CoreOptions {
  maxBatchEvents: number;
  clock?: Clock;
  /** live subscriptions: polling where the store cannot notify across processes, and the follow check */
  live?: Partial<LiveOptions>;
  /** how long a live token (browsers' SSE/WebSocket auth) stays valid */
  liveTokenTtlMs?: number;
  /** the delivery layer's checks of sink targets and expressions (none: every sink is refused) */
  sinkChecks?: SinkChecks;
  /** specs: most datasets per owner (0 = no limit) */
  specPlanLimit?: number;
  /** specs: top-level sections the dialects add, kept as uploaded (the specstore's Flow-Spec) */
  specSections?: readonly SpecSection[];
  /** the stream rules read by default and event types register their schemas on (the iFLUX stream; default `iflux`) */
  rulesStream?: string;
}

export interface CoreServices {
  clock: Clock;
  streams: StreamService;
  produce: ProduceService;
  /** per-process events-per-minute of each stream, for the console */
  rates: ProduceRates;
  read: ReadService;
  keys: KeyService;
  consumers: ConsumerService;
  live: LiveService;
  liveTokens: LiveTokenService;
  schemas: SchemaRegistry;
  schemaEnforcer: SchemaEnforcer;
  sinks: SinkService;
  /** per-process deliveries and failures per minute of each sink, for the console */
  sinkRates: SinkRates;
  /** specs (declarative streams, schemas, sinks and rules) as numbered revisions; applied by SpecApplier */
  specs: SpecService;
  /** iFLUX's model: event sources, event types, action targets and rules (docs/rules.md) */
  eventSources: EventSourceService;
  eventTypes: EventTypeService;
  actionTargets: ActionTargetService;
  rules: RuleService;
}

export function createCoreServices(store: Store, options: CoreOptions): CoreServices {
  const clock = options.clock ?? systemClock;
  const streams = new StreamService(store, clock);
  const produce = new ProduceService(store, { maxBatchEvents: options.maxBatchEvents });
  const schemas = new SchemaRegistry(store, clock);
  const schemaEnforcer = new SchemaEnforcer(schemas);
  produce.addIngestCheck(schemaEnforcer.ingestCheck);
  const rates = new ProduceRates(clock);
  produce.onProduced((stream, result) => rates.record(stream, result.events.length));
  const consumers = new ConsumerService(store, streams, produce, clock);
  const read = new ReadService(store);
  const live = new LiveService(store, { pollIntervalMs: 500, ...options.live });
  const sinks = new SinkService({
    documents: store.documents,
    events: store.events,
    streams,
    consumers,
    clock,
    checks: options.sinkChecks ?? noTargets,
  });
  const rulesStream = options.rulesStream ?? 'iflux';
  const rules = new RuleService({ documents: store.documents, streams, sinks, clock, stream: rulesStream });
  const actionTargets = new ActionTargetService({
    documents: store.documents,
    clock,
    checks: options.sinkChecks ?? noTargets,
  });
  actionTargets.onChange((id) => rules.refreshActionTarget(id));
  const eventSources = new EventSourceService(store.documents, clock);
  return {
    clock,
    streams,
    produce,
    rates,
    read,
    keys: new KeyService(store.documents, clock),
    consumers,
    live,
    liveTokens: new LiveTokenService(store.documents, clock, options.liveTokenTtlMs ?? 300_000),
    schemas,
    schemaEnforcer,
    specs: new SpecService(
      store,
      streams,
      schemas,
      clock,
      { planLimit: options.specPlanLimit ?? 0, sections: options.specSections ?? [] },
      { sinks, rules, eventSources, actionTargets },
    ),
    sinks,
    sinkRates: new SinkRates(clock),
    eventSources,
    eventTypes: new EventTypeService({ documents: store.documents, streams, schemas, clock, stream: rulesStream }),
    actionTargets,
    rules,
  };
}
