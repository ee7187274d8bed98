/**
 * Reading a stream's messages in seq order: batches of one short-lived consumer
 * (nats-page-reader.ts), with message gets from the stream's leader where consumers cannot
 * serve. Shared by the event log on the event loop and by the reader threads, each on its own
 * connection; callers decode (or render) what they get.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { RivuletError } from '../../kernel/errors.js';
import type { RawMessage } from './nats-event-codec.js';
import type { NatsNames } from './nats-names.js';
import { JetStreamApiError, type NatsPageReader } from './nats-page-reader.js';
import { isNoStream } from './nats-stream-writer.js';

/** message gets in flight at once on the fallback path */
const GET_WINDOW = 256;

export type MessageQuery = { seq: number } | { seq: number; next_by_subj: string } | { last_by_subj: string };

/** how a read's query is scanned: what the server filters, how much it is asked for, what is filtered here */
export interface ScanPlan {
  /** the subject filter of the read's consumer */
  filter: string;
  /** messages to ask for: `want` when the server's filter is the whole query, else no bound */
  max: number;
  /** whether an event the server gave matches the rest of the query (its time is asked only when needed) */
  matches(type: string, time: () => string): boolean;
}

/**
 * One type is a subject filter the server applies; several (JetStream 2.9 takes one filter
 * subject per consumer) and times are filtered by the reader.
 */
export function scanPlan(
  names: NatsNames,
  stream: string,
  q: { types?: string[]; fromTimeMs?: number; toTimeMs?: number },
  want: number,
): ScanPlan {
  const types = q.types && q.types.length > 0 ? new Set(q.types) : null;
  const filter = types?.size === 1 ? names.typeFilter(stream, [...types][0]!) : names.streamSubjects(stream);
  const { fromTimeMs: from, toTimeMs: to } = q;
  const exact = (!types || types.size === 1) && from === undefined && to === undefined;
  return {
    filter,
    max: exact ? want : Number.POSITIVE_INFINITY,
    matches(type, time) {
      if (types && !types.has(type)) return false;
      if (from === undefined && to === undefined) return true;
      const ms = Date.parse(time());
      return (from === undefined || ms >= from) && (to === undefined || ms <= to);
    },
  };
}

export class NatsEventScan {
  constructor(
    private readonly jsm: JetStreamManager,
    readonly names: NatsNames,
    private readonly pages: NatsPageReader,
  ) {}

  /**
   * Batches of every message from `fromSeq` on that matches the subject filter, in seq order,
   * at most `max` in all. Should the cluster be unable to create a consumer (a meta leader
   * being elected after a node was lost), the read goes on with message gets, which need only
   * the stream's leader; so does the tail of a read that ended before its limit.
   */
  async *batches(
    stream: string,
    fromSeq: number,
    filter: string,
    max = Number.POSITIVE_INFINITY,
  ): AsyncIterable<RawMessage[]> {
    let next = Math.max(1, fromSeq);
    let left = max;
    try {
      const whole = filter === this.names.streamSubjects(stream);
      for await (const batch of this.pages.batches({
        jsStream: this.names.jsStream(stream),
        fromSeq: next,
        filter: whole ? null : filter,
        max,
      })) {
        next = batch[batch.length - 1]!.seq + 1;
        left -= batch.length;
        yield batch;
      }
      if (left <= 0) return;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.errCode === 10059) throw notFound(stream);
      if (!unavailable(err)) throw err;
    }
    // The consumer is placed on any replica of the stream, and a replica may not have applied
    // the latest appends yet; the stream's leader has every acknowledged one. A read that ended
    // before its limit reads the rest from the leader (usually nothing: one get or one info),
    // so a read after an acknowledged append always sees it and a consumer's frontier never
    // moves past an event a lagging replica had not shown.
    yield* this.batchesByGets(stream, next, filter, left);
  }

  /** the same by one message-get per event: the fallback while consumers cannot be created */
  private async *batchesByGets(
    stream: string,
    fromSeq: number,
    filter: string,
    max: number,
  ): AsyncIterable<RawMessage[]> {
    let left = max;
    if (filter === this.names.streamSubjects(stream)) {
      const s = await this.state(stream);
      for (let seq = Math.max(fromSeq, s.first_seq, 1); seq <= s.last_seq && left > 0; seq += GET_WINDOW) {
        const seqs = Array.from({ length: Math.min(GET_WINDOW, s.last_seq - seq + 1, left) }, (_, i) => seq + i);
        const page = (await Promise.all(seqs.map((n) => this.getMessage(stream, { seq: n })))).filter(
          (m): m is RawMessage => m !== null,
        );
        if (page.length > 0) yield page;
        left -= page.length;
      }
      return;
    }
    for (let seq = Math.max(1, fromSeq); left > 0;) {
      const m = await this.getMessage(stream, { seq, next_by_subj: filter });
      if (!m) return;
      yield [m];
      left--;
      seq = m.seq + 1;
    }
  }

  async getMessage(stream: string, query: MessageQuery): Promise<RawMessage | null> {
    try {
      const m = await retryThroughElection(() =>
        this.jsm.streams.getMessage(this.names.jsStream(stream), query as never),
      );
      return m
        ? { seq: m.seq, subject: m.subject, data: m.data, header: m.header, receivedMs: m.time.getTime() }
        : null;
    } catch (err) {
      if (isNoStream(err)) throw notFound(stream);
      throw err;
    }
  }

  async state(stream: string) {
    try {
      return (await this.jsm.streams.info(this.names.jsStream(stream))).state;
    } catch (err) {
      if (isNoStream(err)) throw notFound(stream);
      throw err;
    }
  }
}

/**
 * Right after a node is lost the cluster elects new leaders for a few seconds, during which
 * requests time out or find no responder. Reads wait for it.
 */
async function retryThroughElection<T>(fn: () => Promise<T>, forMs = 15_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = /timeout|no responders/i.test((err as Error)?.message ?? '');
      if (!transient || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** attempt)));
    }
  }
}

/** the cluster cannot serve the consumer API just now (no meta leader, a timeout) */
function unavailable(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.code === 503 || err.code === 500;
  return /timeout|no responders|unavailable/i.test((err as Error)?.message ?? '');
}

export function notFound(stream: string): RivuletError {
  return new RivuletError('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { details: { stream } });
}
