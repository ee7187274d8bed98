/**
 * What the nats event log and its reader threads say to each other. A job is one whole page:
 * the thread reads the stream on a connection of its own, decodes each message and writes the
 * page's bytes, which move to the event loop without a copy.
 */
import type { ReaderThreads } from '../reader-threads.js';
import type { FromReader as Answer, PageQuery, TextsAnswer, ToReader as Ask } from '../thread-wire.js';
import type { NatsStoreOptions } from './nats-connection.js';

export interface NatsReaderSettings {
  connection: NatsStoreOptions;
  prefix: string;
}

export type NatsReadJob =
  /** the events as the native API's JSON text, comma-separated, UTF-8 (port.ts `readJson`) */
  | { op: 'json'; query: PageQuery }
  /** the events' data as JSON text, comma-separated, UTF-8, up to `maxBytes` (port.ts `readData`) */
  | { op: 'data'; query: PageQuery; maxBytes: number }
  /** the events as the native API's JSON text, each whole, with where each ends (port.ts `readTexts`) */
  | { op: 'texts'; query: PageQuery; maxBytes: number; types: boolean };

/** `lastEventSeq` is the seq of the page's last event, or the query's `afterSeq` when it holds none */
export type NatsReadResult =
  | {
      op: 'json';
      /** a view of its own buffer, with `spare` unused bytes before and after it */
      bytes: Uint8Array;
      spare: { before: number; after: number };
      count: number;
      lastEventSeq: number;
    }
  | { op: 'data'; bytes: Uint8Array; count: number; lastEventSeq: number; more: boolean }
  | ({ op: 'texts' } & TextsAnswer);

export type ToNatsReader = Ask<NatsReadJob>;
export type FromNatsReader = Answer<NatsReadResult>;
export type NatsReaders = ReaderThreads<NatsReadJob, NatsReadResult>;
