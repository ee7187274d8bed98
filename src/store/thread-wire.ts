/**
 * What a store's threads and the main thread say to each other that does not depend on the
 * store: errors as plain data (an Error does not survive a thread boundary with its code), and
 * the reader threads' messages (reader-threads.ts), and the pages both stores' reader threads
 * read and answer alike.
 */
import type { EventTextPage } from './port.js';

export interface WireError {
  /** a RivuletError (rebuilt with its code) or anything else (a driver's code, or none) */
  rivulet: boolean;
  code: string;
  message: string;
  details?: Record<string, unknown>;
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

/** to a reader thread: a job to run, or the end */
export type ToReader<Job> = { id: number; job: Job } | { close: true };

/** from a reader thread: whether it opened, then one answer per job, by the job's id */
export type FromReader<Result> =
  | { kind: 'ready' }
  | { kind: 'open-failed'; error: WireError }
  | { id: number; ok: true; result: Result }
  | { id: number; ok: false; error: WireError };

/** what a reader thread's page job reads: the events after `afterSeq` that match, at most `limit` */
export interface PageQuery {
  stream: string;
  afterSeq: number;
  fromTimeMs?: number;
  toTimeMs?: number;
  types?: string[];
  limit: number;
}

/** a page of whole answers as a reader thread hands it over (port.ts `readTexts`) */
export interface TextsAnswer {
  bytes: Uint8Array;
  ends: Uint32Array;
  seqs: Float64Array;
  types: string[] | null;
  /** the seq of the page's last event, or the query's `afterSeq` when it holds none */
  lastEventSeq: number;
  more: boolean;
}

export function textPageOf(a: TextsAnswer): EventTextPage {
  return { bytes: a.bytes, ends: a.ends, seqs: a.seqs, types: a.types, lastSeq: a.lastEventSeq, more: a.more };
}
