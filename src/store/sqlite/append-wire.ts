/**
 * What the event log and its append worker say to each other. Requests travel as flat arrays
 * of primitives (cheap to copy between threads); data and meta are already JSON text, so a
 * value that cannot be serialised fails its own request on the main thread.
 */
import type { NewEvent } from '../../core/events/envelope.js';

/** fields per event in `WireRequest.events` */
export const EVENT_FIELDS = 9;

/** one append request: events are [id, idSupplied (0|1), type, source, time, producer, data, meta, schemaVersion]… */
export interface WireRequest {
  stream: string;
  producer: string | null;
  idempotencyKey: string | undefined;
  requestHash: string | undefined;
  events: (string | number | null)[];
}

export interface WireError {
  /** a RivuletError (rebuilt with its code) or anything else (a SQLite code, or none) */
  rivulet: boolean;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type WireOutcome =
  /** positions are [seq, typeSeq, duplicate (0|1)] per event; `locked` when this request locked an exclusive stream */
  | { ok: true; positions: number[]; locked: boolean }
  /** an Idempotency-Key seen before: the stored answer */
  | { ok: true; replay: string }
  | { ok: false; error: WireError };

export type ToWorker =
  | { kind: 'group'; requests: WireRequest[] }
  | { kind: 'close' };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'open-failed'; error: WireError }
  | { kind: 'committed'; outcomes: WireOutcome[]; durationMs: number }
  | { kind: 'commit-failed'; error: WireError }
  | { kind: 'closed' };

export interface WorkerSettings {
  path: string;
  /** 1 = NORMAL, 2 = FULL */
  synchronous: number;
  busyTimeoutMs: number;
  /** upper bound on the database file; a write past it fails with SQLITE_FULL */
  maxDatabaseBytes?: number;
}

export function toWire(stream: string, producer: string | null, idempotencyKey: string | undefined, requestHash: string | undefined, events: NewEvent[]): WireRequest {
  const flat: (string | number | null)[] = new Array(events.length * EVENT_FIELDS);
  let o = 0;
  for (const ev of events) {
    flat[o++] = ev.id;
    flat[o++] = ev.idSupplied ? 1 : 0;
    flat[o++] = ev.type;
    flat[o++] = ev.source;
    flat[o++] = ev.time;
    flat[o++] = ev.producer;
    flat[o++] = JSON.stringify(ev.data);
    flat[o++] = JSON.stringify(ev.meta);
    flat[o++] = ev.schemaVersion ?? null;
  }
  return { stream, producer, idempotencyKey, requestHash, events: flat };
}

export function errorToWire(err: unknown): WireError {
  const e = err as { name?: string; code?: unknown; message?: unknown; details?: unknown } | null;
  return {
    rivulet: e?.name === 'RivuletError',
    code: typeof e?.code === 'string' ? e.code : '',
    message: typeof e?.message === 'string' ? e.message : String(err),
    details: e?.name === 'RivuletError' && e.details !== undefined ? (e.details as Record<string, unknown>) : undefined,
  };
}
