/**
 * The storage port: the small set of interfaces a store implements.
 *
 * Glossary (docs/glossary.md): a store keeps streams and their events, and a handful of
 * document collections (keys, schemas, sinks, rules, specs). Optional abilities are
 * declared as capability flags; services branch on flags, never on a store's name.
 * Every store passes the one conformance suite in `src/store/conformance/`.
 */
import type { AppendResult, JsonObject, NewEvent, StoredEvent } from '../core/events/envelope.js';

export interface StoreCapabilities {
  /** appends made through any process sharing the store are seen by `events.watch` here */
  crossProcessWatch: boolean;
  /** reads by time use an index rather than a scan */
  timeIndex: boolean;
  /** several Rivulet processes may share this store at once */
  multiProcess: boolean;
}

export interface RetentionPolicy {
  /** keep events for at most this many milliseconds after they were received */
  maxAgeMs?: number | null;
  /** keep at most this many events */
  maxEvents?: number | null;
  /** keep at most this many bytes of event payload */
  maxBytes?: number | null;
}

/** A stream's settings as the user defines them. */
export interface StreamSettings {
  description: string;
  retention: RetentionPolicy;
  /** when true, the first producer to write owns the stream; others are refused */
  exclusiveProducer: boolean;
  /** free-form settings owned by other modules (schemas' validation mode, dead-letter name, …) */
  options: JsonObject;
}

export interface StreamRecord extends StreamSettings {
  name: string;
  /** key owner that created the stream */
  owner: string;
  /** the producer that owns an exclusive stream, once one has written */
  lockedBy: string | null;
  createdAt: string;
  updatedAt: string;
  /** increases on every settings change; used for optimistic concurrency */
  version: number;
}

export interface StreamStats {
  count: number;
  /** seq of the oldest retained event (lastSeq + 1 when empty) */
  firstSeq: number;
  lastSeq: number;
  firstTime: string | null;
  lastTime: string | null;
  bytes: number;
}

export interface ReadQuery {
  /** return events with seq > afterSeq */
  afterSeq?: number;
  /** inclusive bounds on the event's `time`, in epoch milliseconds */
  fromTimeMs?: number;
  toTimeMs?: number;
  types?: string[];
  limit: number;
}

export interface AppendRequest {
  stream: string;
  events: NewEvent[];
  producer: string | null;
  /** de-duplicates a whole request within the idempotency window */
  idempotencyKey?: string;
  /** fingerprint of the request body: a reused key with another body is refused */
  requestHash?: string;
}

export interface EventLog {
  /**
   * Appends all events or none. Resolves only after the events are durable as the store's
   * durability setting promises. Events whose producer-supplied id was seen before are not
   * written again: the original position is answered with `duplicate: true`.
   * Fails with STREAM_NOT_FOUND, PRODUCER_LOCKED, IDEMPOTENCY_KEY_REUSED, STORAGE_FULL.
   */
  append(request: AppendRequest): Promise<AppendResult>;
  /** events in seq order; pages are bounded by `limit` */
  read(stream: string, query: ReadQuery): AsyncIterable<StoredEvent>;
  getById(stream: string, id: string): Promise<StoredEvent | null>;
  getBySeq(stream: string, seq: number): Promise<StoredEvent | null>;
  /** the seq of the first event with time >= timeMs, or lastSeq + 1 */
  seqAtTime(stream: string, timeMs: number): Promise<number>;
  stats(stream: string): Promise<StreamStats>;
  /** calls `listener(stream, lastSeq)` after appends commit; returns an unsubscribe function */
  watch(listener: (stream: string, lastSeq: number) => void): () => void;
  /** drops events outside the stream's retention; answers how many were removed */
  enforceRetention(stream: string, policy: RetentionPolicy, nowMs: number): Promise<number>;
  /** forgets Idempotency-Keys older than the store's idempotency window */
  purgeIdempotencyKeys(nowMs: number): Promise<number>;
}

export interface StreamCatalog {
  create(record: Omit<StreamRecord, 'version' | 'lockedBy'>): Promise<StreamRecord>;
  get(name: string): Promise<StreamRecord | null>;
  /** names in order, after `after`, at most `limit` */
  list(options: { after?: string; limit: number; prefix?: string }): Promise<StreamRecord[]>;
  update(name: string, settings: Partial<StreamSettings>, expectedVersion?: number): Promise<StreamRecord>;
  /** deletes the stream and all its events */
  delete(name: string): Promise<boolean>;
}

export interface StoredDocument<T = JsonObject> {
  key: string;
  value: T;
  version: number;
  updatedAt: string;
}

/** Named collections of JSON documents with optimistic concurrency (KV buckets in nats). */
export interface DocumentStore {
  get<T = JsonObject>(collection: string, key: string): Promise<StoredDocument<T> | null>;
  /**
   * Writes a document. With `expectedVersion` 0 the document must not exist; with a positive
   * number it must be at that version; otherwise CONFLICT. Answers the new version.
   */
  put<T = JsonObject>(collection: string, key: string, value: T, options?: { expectedVersion?: number }): Promise<number>;
  delete(collection: string, key: string, options?: { expectedVersion?: number }): Promise<boolean>;
  list<T = JsonObject>(collection: string, options?: { prefix?: string; after?: string; limit?: number }): Promise<StoredDocument<T>[]>;
}

export interface StoreHealth {
  ok: boolean;
  detail?: string;
}

export interface Store {
  readonly kind: string;
  readonly capabilities: StoreCapabilities;
  readonly streams: StreamCatalog;
  readonly events: EventLog;
  readonly documents: DocumentStore;
  open(): Promise<void>;
  health(): Promise<StoreHealth>;
  /** idempotent; waits for in-flight writes, then releases everything */
  close(): Promise<void>;
}
