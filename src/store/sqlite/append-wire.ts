/**
 * What the event log and its append worker say to each other. A request's events travel as
 * one string (their text fields end to end) and one array of integers (the fields' lengths,
 * flags and schema versions): copying a group between threads then costs a few large copies
 * instead of one per field, ~8× less than the earlier flat array of primitives for a batch of
 * 100. Data and meta are already JSON text, so a value that cannot be serialised fails its
 * own request on the main thread.
 */
import type { NewEvent } from '../../kernel/envelope.js';
import type { WireError } from '../thread-wire.js';

export { errorToWire, type WireError } from '../thread-wire.js';

/** integers per event in `WireRequest.ints`; the first TEXT_FIELDS are lengths of the text fields, in this order */
export const EVENT_INTS = 9;
/** id, type, source, time, producer (−1: null), data, meta */
export const TEXT_FIELDS = 7;
/** ints[o + IDX_SUPPLIED]: 1 when the producer supplied the id; ints[o + IDX_SCHEMA]: the schema version, −1 for none */
export const IDX_SUPPLIED = 7;
export const IDX_SCHEMA = 8;
/** requests with at least this many events send their integers as an Int32Array (one copy), smaller ones as a plain array (cheaper to clone when short) */
const TYPED_FROM = 8;

/** one append request */
export interface WireRequest {
  stream: string;
  producer: string | null;
  idempotencyKey: string | undefined;
  requestHash: string | undefined;
  /** how many events */
  count: number;
  /** the events' text fields end to end */
  text: string;
  /** EVENT_INTS per event */
  ints: Int32Array | number[];
}

export type WireOutcome =
  /** positions are [seq, typeSeq, duplicate (0|1)] per event; `locked` when this request locked an exclusive stream */
  | { ok: true; positions: number[]; locked: boolean }
  /** an Idempotency-Key seen before: the stored answer */
  | { ok: true; replay: string }
  | { ok: false; error: WireError };

/** WireOutcomes.codes */
export const OUTCOME_OK = 0;
export const OUTCOME_OK_LOCKED = 1;
export const OUTCOME_REPLAY = 2;
export const OUTCOME_FAILED = 3;

/**
 * A group's outcomes as they cross to the main thread: two typed arrays and a list of the rare
 * ones, not an object and an array per request. Cloning an object per request cost the main
 * thread ~0.55 µs per request to read back; this costs ~0.17 µs.
 */
export interface WireOutcomes {
  /** one code per request, in ring order */
  codes: Uint8Array;
  /** [seq, typeSeq, duplicate (0|1)] per event of each OK request, in order */
  positions: Float64Array;
  /** per REPLAY (its stored answer) or FAILED (its error) request, in order */
  others: (string | WireError)[];
}

export function packOutcomes(outcomes: WireOutcome[]): WireOutcomes {
  let count = 0;
  for (const o of outcomes) if (o.ok && 'positions' in o) count += o.positions.length;
  const packed: WireOutcomes = {
    codes: new Uint8Array(outcomes.length),
    positions: new Float64Array(count),
    others: [],
  };
  let at = 0;
  outcomes.forEach((o, i) => {
    if (!o.ok) {
      packed.codes[i] = OUTCOME_FAILED;
      packed.others.push(o.error);
    } else if ('replay' in o) {
      packed.codes[i] = OUTCOME_REPLAY;
      packed.others.push(o.replay);
    } else {
      packed.codes[i] = o.locked ? OUTCOME_OK_LOCKED : OUTCOME_OK;
      packed.positions.set(o.positions, at);
      at += o.positions.length;
    }
  });
  return packed;
}

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'open-failed'; error: WireError }
  /** one outcome per request taken, in ring order; `startedAt` on the performance.timeOrigin-based clock */
  | { kind: 'committed'; outcomes: WireOutcomes; durationMs: number; startedAt: number }
  /** the group's `requests` oldest requests all failed */
  | { kind: 'commit-failed'; error: WireError; requests: number }
  | { kind: 'closed' };

export interface WorkerSettings {
  path: string;
  /** 1 = NORMAL, 2 = FULL */
  synchronous: number;
  busyTimeoutMs: number;
  /** upper bound on the database file; a write past it fails with SQLITE_FULL */
  maxDatabaseBytes?: number;
  /** the connection's page cache, in bytes */
  cacheBytes: number;
}

export function toWire(
  stream: string,
  producer: string | null,
  idempotencyKey: string | undefined,
  requestHash: string | undefined,
  events: NewEvent[],
): WireRequest {
  const count = events.length;
  const ints: Int32Array | number[] =
    count >= TYPED_FROM ? new Int32Array(count * EVENT_INTS) : new Array<number>(count * EVENT_INTS);
  let text = '';
  let o = 0;
  for (const ev of events) {
    const data = JSON.stringify(ev.data) ?? 'null';
    const meta = isEmpty(ev.meta) ? '{}' : JSON.stringify(ev.meta);
    const evProducer = ev.producer;
    text += ev.id + ev.type + ev.source + ev.time + (evProducer ?? '') + data + meta;
    ints[o] = ev.id.length;
    ints[o + 1] = ev.type.length;
    ints[o + 2] = ev.source.length;
    ints[o + 3] = ev.time.length;
    ints[o + 4] = evProducer === null ? -1 : evProducer.length;
    ints[o + 5] = data.length;
    ints[o + 6] = meta.length;
    ints[o + IDX_SUPPLIED] = ev.idSupplied ? 1 : 0;
    ints[o + IDX_SCHEMA] = ev.schemaVersion ?? -1;
    o += EVENT_INTS;
  }
  return { stream, producer, idempotencyKey, requestHash, count, text, ints };
}

/** the ids of a request's events, in order (the worker's answer to a keyed request names them) */
export function wireIds(req: WireRequest): string[] {
  const ids: string[] = new Array(req.count);
  let at = 0;
  for (let i = 0, o = 0; i < req.count; i++, o += EVENT_INTS) {
    ids[i] = req.text.slice(at, at + req.ints[o]!);
    for (let f = 0; f < TEXT_FIELDS; f++) at += Math.max(0, req.ints[o + f]!);
  }
  return ids;
}

function isEmpty(meta: object): boolean {
  for (const _ in meta) return false;
  return true;
}
