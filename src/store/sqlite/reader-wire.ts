/**
 * What the event log and its reader threads say to each other. A job reads one bounded slice
 * (a page, a count, a time seek) in one read transaction; the stream is named, not numbered,
 * and looked up in the same snapshot, so a slice never reads a deleted stream's successor.
 */
import type { EventRow } from './event-row.js';
import type { ReaderThreads } from '../reader-threads.js';
import type { FromReader as Answer, PageQuery, TextsAnswer, ToReader as Ask } from '../thread-wire.js';

export interface ReaderSettings {
  path: string;
  /** 1 = NORMAL, 2 = FULL: checked like the other connections' */
  synchronous: number;
  busyTimeoutMs: number;
  /** lower the reader threads' CPU priority (Linux: per thread), so reads yield to appends */
  niceness: number;
  /** the connection's page cache, in bytes */
  cacheBytes: number;
}

export type EventQuery = PageQuery;

export type ReadJob =
  /** the events as rows */
  | { op: 'rows'; query: EventQuery }
  /** the events as the native API's JSON text, comma-separated, encoded as UTF-8 */
  | { op: 'json'; query: EventQuery }
  /** the events' data as JSON text, comma-separated, UTF-8, up to `maxBytes` (port.ts `readData`) */
  | { op: 'data'; query: EventQuery; maxBytes: number }
  /** the events as the native API's JSON text, each whole, with where each ends (port.ts `readTexts`) */
  | { op: 'texts'; query: EventQuery; maxBytes: number; types: boolean }
  /** the seq of the first event with time_ms >= timeMs */
  | { op: 'seqAtTime'; stream: string; timeMs: number }
  /** how many matching events follow a seq, and the receive time of the first */
  | { op: 'count'; stream: string; afterSeq: number; types?: string[] };

/** `lastSeq` is the stream's last seq in the snapshot the slice was read from */
export type ReadResult =
  | { found: false }
  | { found: true; op: 'rows'; rows: EventRow[]; lastSeq: number }
  | {
      found: true;
      op: 'json';
      /** a view of its own buffer, with `spare` unused bytes before and after it */
      bytes: Uint8Array;
      spare: { before: number; after: number };
      count: number;
      lastEventSeq: number;
      lastSeq: number;
    }
  | {
      found: true;
      op: 'data';
      bytes: Uint8Array;
      count: number;
      lastEventSeq: number;
      /** matching events follow the page */
      more: boolean;
      lastSeq: number;
    }
  | ({ found: true; op: 'texts'; lastSeq: number } & TextsAnswer)
  | { found: true; op: 'seqAtTime'; seq: number | null; lastSeq: number }
  | { found: true; op: 'count'; n: number; oldest: number | null; lastSeq: number };

export type ToReader = Ask<ReadJob>;

export type FromReader = Answer<ReadResult>;

export type SqliteReaders = ReaderThreads<ReadJob, ReadResult>;
