/**
 * A kind of resource a spec can declare (`streams`, `schemas`, …). The planner and the applier
 * know nothing about any kind: they call these functions. A new kind is one file implementing
 * this interface, added to the list in `kinds/index.ts`.
 */
import type { JsonObject } from '../../kernel/envelope.js';
import type { ChangeAction, FieldChange } from './revision-model.js';
import type { ActionTargetService } from '../rules/action-target-service.js';
import type { EventSourceService } from '../rules/event-source-service.js';
import type { RuleService } from '../rules/rule-service.js';
import type { SchemaRegistry } from '../schemas/schema-registry.js';
import type { SinkService } from '../sinks/sink-service.js';
import type { StreamService } from '../streams/stream-service.js';
import type { Store } from '../../store/port.js';

export interface Diff {
  action: ChangeAction;
  changes: FieldChange[];
}

/** Names another resource: `{ kind: 'streams', key: 'orders' }`, written `streams/orders`. */
export interface ResourceRef {
  kind: string;
  key: string;
}

export const refText = (ref: ResourceRef): string => `${ref.kind}/${ref.key}`;

/** What a kind may use to read and change the world. */
export interface KindContext {
  store: Store;
  streams: StreamService;
  schemas: SchemaRegistry;
  sinks: SinkService;
  rules: RuleService;
  eventSources: EventSourceService;
  actionTargets: ActionTargetService;
  /** the spec's meta.owner: what a kind creates belongs to it */
  owner: string;
}

/** What a kind reports after it changed a resource: log lines, and stats for the pipeline. */
export interface ApplyOutcome {
  log: string[];
  stats?: JsonObject;
}

export interface SpecResourceKind<Desired extends JsonObject = JsonObject, Current = unknown> {
  /** the spec's section, and the first part of a ref: `streams` */
  readonly section: string;
  /** one of them, for titles and plans: `stream` */
  readonly noun: string;
  /**
   * Checks one entry of the section and answers it with defaults filled in. Fails with
   * SPEC_INVALID naming `pointer` (e.g. `/streams/2/retention/maxEvents`).
   */
  parse(entry: unknown, pointer: string): Desired;
  /**
   * Optional: checks what needs the world's services (a sink's target through the delivery
   * layer's checks) and answers the desired resource as the world stores it, so `diff` compares
   * like with like. Fails with SPEC_INVALID naming `pointer`. Called before every diff and apply.
   */
  prepare?(desired: Desired, pointer: string, ctx: KindContext): Promise<Desired>;
  /** Optional: the entry as uploaded, with its secrets replaced, for answers that show the spec. */
  shown?(entry: JsonObject): JsonObject;
  /** unique within the kind; also the resource's name in plans: `orders`, `orders/order.created` */
  key(desired: Desired): string;
  /** the resource as it exists now, or null */
  read(key: string, ctx: KindContext): Promise<Current | null>;
  /**
   * What it takes to get from `current` to `desired`: create (nothing exists), update (fields
   * differ), unchanged, or — with `desired` null — delete (unchanged when already gone).
   */
  diff(desired: Desired | null, current: Current | null): Diff;
  /** creates or updates the resource so it matches `desired`; `current` was read just before */
  apply(desired: Desired, current: Current | null, ctx: KindContext): Promise<ApplyOutcome>;
  /** removes the resource; one already gone is not an error */
  delete(key: string, current: Current | null, ctx: KindContext): Promise<ApplyOutcome>;
  /**
   * resources this one needs to exist first (a schema needs its stream, a sink its source
   * streams); `desired` is null for a deletion, whose order follows what `current` uses
   */
  dependencies(key: string, desired: Desired | null, current: Current | null): ResourceRef[];
  /** the streams the resource lives on or reads, for scope checks of the key that uploads the spec */
  streamsOf(key: string, desired: Desired): string[];
}
