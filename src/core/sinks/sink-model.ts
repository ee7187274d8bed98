/**
 * The sink model: what a sink is (sources, filter, transform, target, delivery policy) and the
 * names of the records the delivery engine keeps beside it. Pure data and checks; the target
 * configuration and the expressions are checked by functions the composition root injects
 * (`SinkChecks`), because they live in the delivery and mapping layers.
 */
import type { JsonObject, JsonValue, StoredEvent } from '../../kernel/envelope.js';
import type { StartPosition } from '../../store/port.js';
import type { ActionTargetSecrets, GivenActionTargetSecrets } from '../rules/action-target-secrets.js';

export type SinkState = 'running' | 'paused';
/**
 * running: a process delivers it; paused: stopped on purpose; waiting: a source stream does not
 * exist yet (the others are delivered meanwhile); failing: the last attempt failed; stopped: no
 * process holds it
 */
export type SinkStatus = 'running' | 'paused' | 'waiting' | 'failing' | 'stopped';
export type Ordering = 'ordered' | 'parallel';

export interface BatchPolicy {
  /** most events in one request (capped by the target's own limit) */
  maxEvents: number;
  /** most bytes of payload in one request */
  maxBytes: number;
  /** longest an event waits for its batch to fill (0: send what is there) */
  maxAgeMs: number;
}

export interface RetrySettings {
  maxAttempts: number;
  maxAgeMs?: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  jitter: 'full' | 'equal' | 'none';
}

export interface DeliveryPolicy {
  batch: BatchPolicy;
  /** requests in flight at once per source stream (parallel ordering) */
  concurrency: number;
  ordering: Ordering;
  /** events per second, with a burst; null: unlimited */
  rateLimit: { perSecond: number; burst: number } | null;
  /** one attempt's time limit */
  timeoutMs: number;
  retry: RetrySettings;
}

/** `{ kind: "http", url: …, … }`: the kind and that target's settings, side by side */
export type SinkTarget = JsonObject & { kind: string };

export interface SinkFilter {
  types?: string[];
  sources?: string[];
  condition?: string;
}

/** A side job: deliver a closed range of a stream once more (replay, retry of dead letters). */
export interface SinkJob {
  id: string;
  kind: 'replay' | 'dead-letters';
  /** the stream read: a source stream (replay) or the dead-letter stream */
  stream: string;
  fromSeq: number;
  toSeq: number;
  createdAt: string;
}

export interface SinkRecord {
  id: string;
  description: string;
  owner: string;
  streams: string[];
  filter: SinkFilter | null;
  /** JSONata expression over the event envelope; null: the event's data is the payload */
  transform: string | null;
  target: SinkTarget;
  policy: DeliveryPolicy;
  /** null: `<source stream>.dlq` */
  deadLetterStream: string | null;
  state: SinkState;
  jobs: SinkJob[];
  /** bumped by each dead-letter retry, so events dead-lettered again get fresh ids */
  deadLetterGeneration: number;
  /** free-form labels other modules use (a dialect's own fields) */
  labels: JsonObject;
  createdAt: string;
  updatedAt: string;
}

export interface StreamLag {
  stream: string;
  committedSeq: number;
  lastSeq: number;
  /** events after the sink's position not yet delivered (or dead-lettered) */
  pending: number;
  oldestUnackedAgeMs: number | null;
}

export interface SinkView extends SinkRecord {
  version: number;
  status: SinkStatus;
  stats: SinkStats;
  lag: { pending: number; streams: StreamLag[] };
  /** the process delivering the sink, while it holds the ownership lease */
  deliveredBy: string | null;
  /** source streams that do not exist (yet): the sink starts on each once it appears */
  waitingFor: string[];
}

export interface SinkStats {
  delivered: number;
  failed: number;
  retried: number;
  deadLettered: number;
  filtered: number;
  bytes: number;
  lastError: string | null;
  lastStatus: number | null;
  lastErrorAt: string | null;
  lastSuccessAt: string | null;
}

export const EMPTY_STATS: Readonly<SinkStats> = Object.freeze({
  delivered: 0,
  failed: 0,
  retried: 0,
  deadLettered: 0,
  filtered: 0,
  bytes: 0,
  lastError: null,
  lastStatus: null,
  lastErrorAt: null,
  lastSuccessAt: null,
});

export interface OwnerLease {
  holder: string;
  expiresAtMs: number;
}

export interface AttemptRecord {
  sink: string;
  stream: string;
  seq: number;
  eventId: string;
  deliveryId: string;
  attempt: number;
  outcome: 'success' | 'retry' | 'permanent';
  status: number | null;
  latencyMs: number;
  error: string | null;
  /** what the engine did next: delivered, retry in N ms, dead-lettered */
  action: string;
  at: string;
  [key: string]: string | number | null;
}

/** What creating a sink takes; everything but streams and target has a default. */
export interface SinkInput {
  id?: string;
  description?: string;
  streams: string[];
  filter?: SinkFilter | null;
  transform?: string | null;
  target: SinkTarget;
  policy?: PolicyInput;
  deadLetterStream?: string | null;
  /** where the sink's consumers start (default: the end — events produced from now on) */
  start?: StartPosition;
  state?: SinkState;
  labels?: JsonObject;
}

export interface PolicyInput {
  batch?: Partial<BatchPolicy>;
  concurrency?: number;
  ordering?: Ordering;
  rateLimit?: { perSecond: number; burst?: number } | null;
  timeoutMs?: number;
  retry?: Partial<RetrySettings>;
}

export type SinkPatch = Partial<Omit<SinkInput, 'id' | 'start' | 'state'>>;

/**
 * What a secret field left out of a target given on a change means: `keep` the stored value
 * (a PATCH), or `remove` it (create, a spec, an aether job: each gives the whole target).
 */
export type OmittedSecrets = 'keep' | 'remove';

/** The stored target a given one's secrets are resolved against (see `SinkChecks.target`). */
export interface SecretsFrom {
  /** null: none (a new sink): the redaction placeholder in a secret field is refused */
  stored: SinkTarget | null;
  omitted: OmittedSecrets;
}

/** The injected checks of the delivery and mapping layers. */
export interface SinkChecks {
  /**
   * refuses a bad target configuration (pointer under /target); answers it normalised, `kind`
   * included; may resolve hosts. With `secrets`, its secret fields are first resolved against
   * the stored target (of the same kind): the placeholder answers show keeps the stored secret,
   * null removes it, an omitted one is kept or removed as `secrets.omitted` says.
   */
  target(kind: string, config: unknown, secrets?: SecretsFrom): Promise<SinkTarget>;
  /**
   * an action target's secret settings as given (unchecked), resolved against the stored ones
   * (null: none) as a target's secrets are (see `target`); the result is checked by the caller
   */
  actionTargetSecrets(
    given: GivenActionTargetSecrets,
    stored: ActionTargetSecrets | null,
    omitted: OmittedSecrets,
  ): GivenActionTargetSecrets;
  /** the configuration as it may be shown: secrets replaced */
  redact(kind: string, config: JsonObject): JsonObject;
  /** streams the target writes into (the `stream` target's), for access checks and loops */
  writesTo(kind: string, config: JsonObject): string[];
  /** compiles the filter and the transform, refusing mistakes (INVALID_EXPRESSION with a pointer) */
  mapping(filter: SinkFilter | null, transform: string | null): void;
  /**
   * A dry run of one event through the filter, the transform and the target's mapping, with
   * the code the engine delivers with; nothing is sent. `target` has passed `target` above.
   */
  dryRun(
    filter: SinkFilter | null,
    transform: string | null,
    target: SinkTarget,
    event: StoredEvent,
  ): Promise<SinkDryRun>;
}

/** What a sink would do with one event (SinkChecks.dryRun). */
export interface SinkDryRun {
  /** the filter let the event through */
  matched: boolean;
  /** the filter's condition failed to evaluate (which counts as no match) */
  filterError: string | null;
  /** the transform's result (the event's data without one); null when filtered out or failed */
  payload: JsonValue | null;
  transformError: string | null;
  /** what the target would send (the http target: the request, secrets redacted); null for targets without a preview */
  delivery: JsonObject | null;
  deliveryError: string | null;
}

// Names the core and the engine share.
export const SINKS_COLLECTION = 'sinks';
export const OWNERS_COLLECTION = 'sink-owners';
/** one entry per running delivery engine, so each takes a fair share of the sinks */
export const ENGINES_COLLECTION = 'sink-engines';
export const STATS_COLLECTION = 'sink-stats';
export const ATTEMPT_LOG_EVENTS = 10_000;

export function sinkConsumerName(sinkId: string): string {
  return `sink.${sinkId}`;
}
export function jobConsumerName(sinkId: string, jobId: string): string {
  return `sink.${sinkId}.job.${jobId}`;
}
export function attemptStreamName(sinkId: string): string {
  return `_sink.${sinkId}.attempts`;
}
export function deadLetterStreamFor(sink: Pick<SinkRecord, 'deadLetterStream'>, source: string): string {
  return sink.deadLetterStream ?? `${source}.dlq`;
}
