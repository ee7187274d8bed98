/**
 * The storage port: the small set of interfaces a store implements.
 *
 * Glossary (docs/glossary.md): a store keeps streams and their events, and a handful of
 * document collections (keys, schemas, sinks, rules, specs). Optional abilities are
 * declared as capability flags; services branch on flags, never on a store's name.
 * Every store passes the one conformance suite in `test/conformance/store/`.
 */
import type { AppendResult, JsonObject, NewEvent, StoredEvent } from '../kernel/envelope.js';

export interface StoreCapabilities {
  /** appends made through any process sharing the store are seen by `events.watch` here */
  crossProcessWatch: boolean;
  /** reads by time use an index rather than a scan */
  timeIndex: boolean;
  /** several Rivulet processes may share this store at once */
  multiProcess: boolean;
  /**
   * `documents.watch` reports document changes made through any process sharing the store, so
   * per-process caches of documents (keys, schemas) drop a changed entry at once instead of
   * waiting for it to expire
   */
  documentWatch: boolean;
  /**
   * `events.readJson` (and `readTexts`) answer pages as the native API's JSON text, built where
   * the events are read from the text they were stored as, so the caller sends bytes it did not
   * build
   */
  eventJson: boolean;
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

/** A slice of a page as the native API's JSON text: events separated by commas, UTF-8. */
export interface EventJsonSlice {
  bytes: Uint8Array;
  count: number;
  /** seq of the slice's last event */
  lastSeq: number;
  /**
   * Bytes of `bytes.buffer` just before and just after the view that nothing else uses: a page
   * of one slice can be framed in place there instead of copied whole (absent: none).
   */
  spare?: { before: number; after: number };
}

/**
 * The data of a run of events as JSON text (what `JSON.stringify` of each event's data gives),
 * separated by commas, UTF-8.
 */
export interface EventDataPage {
  bytes: Uint8Array;
  count: number;
  /** seq of the page's last event; the query's `afterSeq` when it holds none */
  lastSeq: number;
  /** matching events follow the page */
  more: boolean;
}

/**
 * A run of events as the native API's JSON text, each whole and one after another without
 * separators, with where each ends: a caller frames each event (an SSE message, a WebSocket
 * frame) around bytes it did not build.
 */
export interface EventTextPage {
  /** the events' texts, UTF-8 */
  bytes: Uint8Array;
  /** where each event's text ends in `bytes`; the next one starts there */
  ends: Uint32Array;
  seqs: Float64Array;
  /** each event's type, when asked for */
  types: string[] | null;
  /** seq of the page's last event; the query's `afterSeq` when it holds none */
  lastSeq: number;
  /** matching events follow the page */
  more: boolean;
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
  /**
   * Present when the store declares `eventJson`: the events `read` answers, as the native API's
   * JSON text (byte for byte what rendering each event answers), in slices. Fails as `read` does.
   */
  readJson?(stream: string, query: ReadQuery): AsyncIterable<EventJsonSlice>;
  /**
   * Optional: the data of the events `read` answers, as JSON text, for readers that need
   * nothing else of an event (the Durable Streams mount's messages): at most `limit` events,
   * and none after the one that brings the data to `maxBytes` (each event counted with one byte
   * for its separator). Fails as `read` does.
   */
  readData?(stream: string, query: ReadQuery, maxBytes: number): Promise<EventDataPage>;
  /**
   * Present when the store declares `eventJson`: at most `limit` of the events `read` answers as
   * one `EventTextPage`, and none after the one that brings the texts to `maxBytes`. Fails as
   * `read` does.
   */
  readTexts?(stream: string, query: ReadQuery, options: { maxBytes: number; types: boolean }): Promise<EventTextPage>;
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
  put<T = JsonObject>(
    collection: string,
    key: string,
    value: T,
    options?: { expectedVersion?: number },
  ): Promise<number>;
  delete(collection: string, key: string, options?: { expectedVersion?: number }): Promise<boolean>;
  list<T = JsonObject>(
    collection: string,
    options?: { prefix?: string; after?: string; limit?: number },
  ): Promise<StoredDocument<T>[]>;
  /**
   * Present when the store declares `documentWatch`. Calls `listener(key)` after a document of
   * `collection` is written or deleted through any process sharing the store, this one
   * included (a key may be reported more than once). Calls `listener(null)` when changes may
   * have gone unreported — once the watch is in place, and again whenever it had to be set up
   * anew — so the listener then drops everything it cached from the collection. Answers an
   * unsubscribe function; closing the store ends every watch.
   */
  watch?(collection: string, listener: (key: string | null) => void): () => void;
}

/** Where a new consumer (or a seek) starts: the first event it delivers is the first one after this. */
export type StartPosition =
  | { from: 'beginning' }
  | { from: 'end' }
  /** deliver from this seq on (inclusive) */
  | { from: 'seq'; seq: number }
  /** deliver from the first event whose time is at or after this (epoch ms) */
  | { from: 'time'; timeMs: number };

export interface ConsumerDefinition {
  name: string;
  stream: string;
  /** only events of these types; empty means all */
  types: string[];
  /** default lease of a leased receive, in milliseconds */
  leaseMs: number;
  /** deliveries after which an unacked event goes to the dead-letter stream */
  maxDeliveries: number;
  /** where exhausted events go; null means `<stream>.dlq` */
  deadLetterStream: string | null;
}

export interface ConsumerRecord extends ConsumerDefinition {
  /** every matching event with seq <= committedSeq is acknowledged */
  committedSeq: number;
  createdAt: string;
  updatedAt: string;
}

/** One leased delivery of an event. */
export interface Delivery {
  event: StoredEvent;
  /** how many times this event has been handed out, this time included */
  deliveries: number;
  /**
   * when this consumer first handed the event out (ms since the epoch), kept across
   * redeliveries, restarts and processes; a sink's retry `maxAgeMs` counts from it
   */
  firstDeliveredMs: number;
  /** names this delivery in ack / nack / release / extend; stale once the event is redelivered */
  leaseToken: string;
  leaseExpiresMs: number;
}

export interface ReceiveResult {
  deliveries: Delivery[];
  /**
   * events whose last lease ran out after `maxDeliveries`: leased to the caller, which
   * dead-letters and then acks them. Left alone, they come back here when the lease ends.
   */
  exhausted: (Delivery & { reason: 'lease-expired' | 'nacked' })[];
}

export type LeaseOutcome = 'ok' | 'not-held';

export interface ConsumerLag {
  committedSeq: number;
  lastSeq: number;
  /** matching events after the committed position (acked out of order ones included) */
  pending: number;
  /** events currently leased to a client */
  leased: number;
  /** receive time of the oldest matching event not yet acknowledged, epoch ms */
  oldestUnackedMs: number | null;
}

/**
 * Durable consumers of one stream. Two styles share one state: the cursor style reads after
 * the committed position (`peek`) and moves it (`commit`); the leased style hands events out
 * under leases (`receive`) and settles them one by one (`ack`, `nack`, `release`, `extend`).
 * A store maps this to its own primitives (a JetStream durable pull consumer with explicit
 * ack: lease = ack wait, nack delay, max deliver). All times are passed in (`nowMs`).
 * Fails with STREAM_NOT_FOUND, CONSUMER_NOT_FOUND, CONSUMER_EXISTS.
 */
export interface ConsumerStore {
  create(def: ConsumerDefinition, start: StartPosition, nowMs: number): Promise<ConsumerRecord>;
  get(stream: string, name: string): Promise<ConsumerRecord | null>;
  /** names in order, after `after`, at most `limit` */
  list(stream: string, options: { after?: string; limit: number }): Promise<ConsumerRecord[]>;
  delete(stream: string, name: string): Promise<boolean>;
  /** matching events after the committed position, without moving it */
  peek(stream: string, name: string, limit: number): Promise<StoredEvent[]>;
  /** moves the committed position to `seq` (forward or back) and drops leases at or before it */
  commit(stream: string, name: string, seq: number, nowMs: number): Promise<ConsumerRecord>;
  receive(
    stream: string,
    name: string,
    options: { max: number; leaseMs: number; clientId: string | null; nowMs: number },
  ): Promise<ReceiveResult>;
  ack(stream: string, name: string, tokens: string[], nowMs: number): Promise<LeaseOutcome[]>;
  /** gives the events back; they become deliverable again after `delayMs` */
  nack(stream: string, name: string, tokens: string[], delayMs: number, nowMs: number): Promise<LeaseOutcome[]>;
  /** gives the events back at once, without counting the delivery against `maxDeliveries` */
  release(stream: string, name: string, tokens: string[], nowMs: number): Promise<LeaseOutcome[]>;
  /** the leases now end `leaseMs` from now */
  extend(stream: string, name: string, tokens: string[], leaseMs: number, nowMs: number): Promise<LeaseOutcome[]>;
  /** the next event delivered is the first at or after the position; every lease is dropped */
  seek(stream: string, name: string, start: StartPosition, nowMs: number): Promise<ConsumerRecord>;
  lag(stream: string, name: string, nowMs: number): Promise<ConsumerLag>;
}

export interface StoreHealth {
  ok: boolean;
  detail?: string;
}

/** a store's reader threads at a moment, for metrics (counts since the store opened) */
export interface ReaderStats {
  threads: number;
  /** jobs waiting for a thread */
  queued: number;
  running: number;
  jobs: number;
  /** time jobs spent waiting for a thread, in all */
  waitMs: number;
}

export interface Store {
  readonly kind: string;
  readonly capabilities: StoreCapabilities;
  readonly streams: StreamCatalog;
  readonly events: EventLog;
  readonly documents: DocumentStore;
  readonly consumers: ConsumerStore;
  open(): Promise<void>;
  health(): Promise<StoreHealth>;
  /** optional: the store's reader threads, when it has them (null while it is not open) */
  readerStats?(): ReaderStats | null;
  /** idempotent; waits for in-flight writes, then releases everything */
  close(): Promise<void>;
}
