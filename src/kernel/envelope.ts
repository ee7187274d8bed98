/**
 * The event envelope: the one stored form of an event, whatever API it arrived through.
 *
 * Glossary (see docs/glossary.md):
 * - event: one immutable record in a stream.
 * - seq: the event's 1-based, gap-free position in its stream.
 * - typeSeq: the event's 1-based position among the events of its type in its stream
 *   (the event server dialect numbers events per (stream, event name)).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** An event as a producer described it, normalised, before the store gives it a position. */
export interface NewEvent {
  /** producer-supplied id, or a generated UUIDv7 */
  id: string;
  /** true when the producer supplied `id`: it then takes part in de-duplication */
  idSupplied: boolean;
  type: string;
  source: string;
  /** producer's timestamp, RFC 3339 */
  time: string;
  producer: string | null;
  data: JsonValue;
  /** everything else the producer sent, verbatim, so a dialect can give back what it received */
  meta: JsonObject;
  /** schema version the data was validated against, if any */
  schemaVersion?: number | null;
}

/** An event as stored: a NewEvent with its position and the server's receive time. */
export interface StoredEvent {
  id: string;
  stream: string;
  seq: number;
  typeSeq: number;
  type: string;
  source: string;
  time: string;
  /** server time the event was committed, RFC 3339 */
  received: string;
  producer: string | null;
  data: JsonValue;
  meta: JsonObject;
  schemaVersion: number | null;
}

/** What an append answers per event. */
export interface AppendedEvent {
  id: string;
  seq: number;
  typeSeq: number;
  /** true when the event had been written before (same producer-supplied id): nothing was written */
  duplicate: boolean;
}

export interface AppendResult {
  stream: string;
  events: AppendedEvent[];
  /** true when the whole answer is a replay of an earlier request with the same Idempotency-Key */
  replayed: boolean;
}

/** An event as the native API answers it: `meta` only when it holds something, `schemaVersion` only when set. */
export type EventAnswer = Omit<StoredEvent, 'meta' | 'schemaVersion'> & { meta?: JsonObject; schemaVersion?: number };
