/**
 * The SQLite event log. Appends go through the group committer to the append worker's
 * connection; event reads are jobs for the reader threads (../reader-threads.ts), in bounded slices,
 * each one read transaction, so no read runs on the event loop or stays open across an await.
 * Point lookups by key (an event by id or seq, a stream's first and last event) and reads of
 * the last few events of a stream stay on the main thread's read-only connection: a probe of
 * the primary key costs less than the hop to a thread.
 */
import { EventEmitter } from 'node:events';
import type { Database, Statement } from 'better-sqlite3';
import { RivuletError } from '../../kernel/errors.js';
import type { AppendResult, StoredEvent } from '../../kernel/envelope.js';
import type {
  AppendRequest,
  EventDataPage,
  EventJsonSlice,
  EventLog,
  EventTextPage,
  ReadQuery,
  RetentionPolicy,
  StreamStats,
} from '../port.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-row.js';
import { eventDataText } from '../json-field.js';
import type { GroupCommitter } from './group-commit.js';
import type { EventQuery, ReadJob, ReadResult, SqliteReaders } from './reader-wire.js';
import { textPageOf } from '../thread-wire.js';

/** rows per slice read as events: each slice is rebuilt on the main thread, so keep it short */
const ROWS_SLICE = 256;
/** events per slice read as JSON text: the main thread only sends these bytes */
const JSON_SLICE = 1000;
/** a read ending within this many events of the tail is answered on the event loop (`nearTail`) */
const NEAR_TAIL = 32;

export class SqliteEventLog implements EventLog {
  private readonly committer: GroupCommitter;
  private readonly emitter = new EventEmitter();
  private readonly w: ReturnType<typeof prepareWriteStatements>;
  private readonly r: ReturnType<typeof prepareReadStatements>;
  private readonly tailStatements = new Map<number, Statement>();

  constructor(
    private readonly writer: Database,
    private readonly reader: Database,
    private readonly readers: SqliteReaders,
    private readonly idempotencyWindowMs: number,
    /** the append pipeline; built with `SqliteEventLog.afterCommit` of this log as its hook */
    committer: (afterCommit: (results: AppendResult[], lockedStreams: string[]) => void) => GroupCommitter,
    /** told when the log changes a stream's row (the producer lock), so caches can drop it */
    private readonly onStreamChanged: (stream: string) => void = () => {},
  ) {
    this.emitter.setMaxListeners(0);
    this.w = prepareWriteStatements(writer);
    this.r = prepareReadStatements(reader);
    this.committer = committer((results, locked) => {
      // caches drop a locked stream's record before any request of the group is answered
      for (const stream of locked) this.onStreamChanged(stream);
      this.notify(results);
    });
  }

  get commitStats() {
    return this.committer.stats;
  }

  append(request: AppendRequest): Promise<AppendResult> {
    return this.committer.submit(request);
  }

  drain(): Promise<void> {
    return this.committer.drain();
  }

  /** drains and ends the append worker */
  closeWriter(): Promise<void> {
    return this.committer.close();
  }

  private notify(results: AppendResult[]): void {
    const last = new Map<string, number>();
    for (const r of results) {
      for (const e of r.events) if (!e.duplicate) last.set(r.stream, Math.max(last.get(r.stream) ?? 0, e.seq));
    }
    for (const [stream, seq] of last) this.emitter.emit('append', stream, seq);
  }

  watch(listener: (stream: string, lastSeq: number) => void): () => void {
    this.emitter.on('append', listener);
    return () => this.emitter.off('append', listener);
  }

  async *read(stream: string, query: ReadQuery): AsyncIterable<StoredEvent> {
    let after = query.afterSeq ?? 0;
    let remaining = query.limit;
    let first = true;
    // a read in seq order ending near the tail is answered here; otherwise the probe that said
    // so also said the stream exists and events follow, so the first slice asks nothing more
    let probed = false;
    if (query.fromTimeMs === undefined && query.toTimeMs === undefined) {
      const near = this.nearTail(stream, query);
      if (near) {
        for (const row of near) yield toEvent(stream, row);
        return;
      }
      probed = true;
    }
    while (remaining > 0) {
      if (!probed && this.atTail(stream, after, first)) return;
      probed = false;
      const slice = Math.min(remaining, ROWS_SLICE);
      const result = await this.readers.run({ op: 'rows', query: sliceOf(stream, query, after, slice) });
      if (!result.found) {
        // gone between slices: the read ends where the stream did
        if (first) throw notFound(stream);
        return;
      }
      first = false;
      const rows = (result as Extract<ReadResult, { op: 'rows' }>).rows;
      for (const row of rows) yield toEvent(stream, row);
      if (rows.length < slice) return;
      after = rows[rows.length - 1]!.seq;
      remaining -= rows.length;
    }
  }

  async *readJson(stream: string, query: ReadQuery): AsyncIterable<EventJsonSlice> {
    let after = query.afterSeq ?? 0;
    let remaining = query.limit;
    let first = true;
    while (remaining > 0) {
      if (this.atTail(stream, after, first)) return;
      const slice = Math.min(remaining, JSON_SLICE);
      const result = await this.readers.run({ op: 'json', query: sliceOf(stream, query, after, slice) });
      if (!result.found) {
        if (first) throw notFound(stream);
        return;
      }
      first = false;
      const page = result as Extract<ReadResult, { op: 'json' }>;
      if (page.count > 0) yield { bytes: page.bytes, spare: page.spare, count: page.count, lastSeq: page.lastEventSeq };
      if (page.count < slice) return;
      after = page.lastEventSeq;
      remaining -= page.count;
    }
  }

  /**
   * One job for the whole page: the thread joins the data and the bytes move to this thread
   * without a copy, so a page costs one hop, where slices of rows cost one hop and a copy of
   * every message each.
   */
  async readData(stream: string, query: ReadQuery, maxBytes: number): Promise<EventDataPage> {
    const afterSeq = query.afterSeq ?? 0;
    if (this.atTail(stream, afterSeq, true))
      return { bytes: new Uint8Array(0), count: 0, lastSeq: afterSeq, more: false };
    // a live reader's next few messages: no hop to a thread (see `nearTail`)
    if (query.fromTimeMs === undefined && query.toTimeMs === undefined) {
      // one row past the limit says whether more follows, as on the thread
      const near = this.nearTail(stream, query, 1);
      if (near) return dataOfRows(near, query.limit, maxBytes, afterSeq);
    }
    const page = await this.readJob(stream, {
      op: 'data',
      query: sliceOf(stream, query, afterSeq, query.limit),
      maxBytes,
    });
    return { bytes: page.bytes, count: page.count, lastSeq: page.lastEventSeq, more: page.more };
  }

  /** one job per page, as `readData` */
  async readTexts(
    stream: string,
    query: ReadQuery,
    options: { maxBytes: number; types: boolean },
  ): Promise<EventTextPage> {
    const afterSeq = query.afterSeq ?? 0;
    if (this.atTail(stream, afterSeq, true))
      return {
        bytes: new Uint8Array(0),
        ends: new Uint32Array(0),
        seqs: new Float64Array(0),
        types: options.types ? [] : null,
        lastSeq: afterSeq,
        more: false,
      };
    return textPageOf(
      await this.readJob(stream, {
        op: 'texts',
        query: sliceOf(stream, query, afterSeq, query.limit),
        maxBytes: options.maxBytes,
        types: options.types,
      }),
    );
  }

  /** runs one job on a reader thread; STREAM_NOT_FOUND when the stream does not exist */
  async readJob<Op extends ReadJob['op']>(
    stream: string,
    job: Extract<ReadJob, { op: Op }>,
  ): Promise<Extract<ReadResult, { op: Op }>> {
    const result = await this.readers.run(job);
    if (!result.found) throw notFound(stream);
    return result as Extract<ReadResult, { op: Op }>;
  }

  async getById(stream: string, id: string): Promise<StoredEvent | null> {
    const s = this.streamId(stream);
    const row = this.r.byId.get(s, id) as EventRow | undefined;
    return row ? toEvent(stream, row) : null;
  }

  async getBySeq(stream: string, seq: number): Promise<StoredEvent | null> {
    const s = this.streamId(stream);
    const row = this.r.bySeq.get(s, seq) as EventRow | undefined;
    return row ? toEvent(stream, row) : null;
  }

  async seqAtTime(stream: string, timeMs: number): Promise<number> {
    // the time index orders by time, not seq: the smallest seq at or after a time is a range scan
    const found = await this.readJob(stream, { op: 'seqAtTime', stream, timeMs });
    return found.seq ?? found.lastSeq + 1;
  }

  async stats(stream: string): Promise<StreamStats> {
    const s = this.r.stream.get(stream) as
      { id: number; first_seq: number; last_seq: number; count: number; bytes: number } | undefined;
    if (!s) throw notFound(stream);
    const first = this.r.firstTime.get(s.id) as { time: string } | undefined;
    const last = this.r.lastTime.get(s.id) as { time: string } | undefined;
    return {
      count: s.count,
      firstSeq: s.first_seq,
      lastSeq: s.last_seq,
      firstTime: first?.time ?? null,
      lastTime: last?.time ?? null,
      bytes: s.bytes,
    };
  }

  async enforceRetention(stream: string, policy: RetentionPolicy, nowMs: number): Promise<number> {
    // IMMEDIATE: the append worker writes on its own connection; a deferred transaction that
    // reads before it writes could find its snapshot outdated (SQLITE_BUSY_SNAPSHOT).
    const removed = this.writer
      .transaction(() => {
        const s = this.w.streamForRetention.get(stream) as
          { id: number; first_seq: number; last_seq: number; count: number; bytes: number } | undefined;
        if (!s || s.count === 0) return 0;
        // The new first seq is the highest cut any policy asks for; events are removed as a prefix
        // so seqs stay contiguous and readers can tell "before retention" from "missing".
        let cut = s.first_seq;
        if (policy.maxEvents != null && s.count > policy.maxEvents)
          cut = Math.max(cut, s.last_seq - policy.maxEvents + 1);
        if (policy.maxAgeMs != null) {
          const row = this.writer
            .prepare('SELECT MIN(seq) AS seq FROM events WHERE stream_id = ? AND received_ms >= ?')
            .get(s.id, nowMs - policy.maxAgeMs) as { seq: number | null };
          cut = Math.max(cut, row.seq ?? s.last_seq + 1);
        }
        if (policy.maxBytes != null && s.bytes > policy.maxBytes) {
          // walk from the newest event back until the budget is spent
          const rows = this.writer
            .prepare('SELECT seq, size FROM events WHERE stream_id = ? ORDER BY seq DESC')
            .iterate(s.id) as IterableIterator<{ seq: number; size: number }>;
          let kept = 0;
          let firstKept = s.last_seq + 1;
          for (const row of rows) {
            if (kept + row.size > policy.maxBytes) break;
            kept += row.size;
            firstKept = row.seq;
          }
          cut = Math.max(cut, firstKept);
        }
        if (cut <= s.first_seq) return 0;
        const gone = this.writer
          .prepare('DELETE FROM events WHERE stream_id = ? AND seq < ? RETURNING size')
          .all(s.id, cut) as { size: number }[];
        const goneBytes = gone.reduce((sum, r) => sum + r.size, 0);
        this.writer
          .prepare('UPDATE streams SET first_seq = ?, count = count - ?, bytes = bytes - ? WHERE id = ?')
          .run(cut, gone.length, goneBytes, s.id);
        return gone.length;
      })
      .immediate();
    return removed;
  }

  async purgeIdempotencyKeys(nowMs: number): Promise<number> {
    return this.w.idemPurge.run(nowMs - this.idempotencyWindowMs).changes;
  }

  /**
   * The rows of a read that ends within a few events of the stream's tail (a live tail's next
   * events, a consumer at the tail), read here on the event loop's own connection: a handful of
   * rows by the primary key cost less than the hop to a reader thread, and such reads must not
   * queue behind a large read's slice there, on threads that yield the CPU to everything else.
   * Null when the read is longer, and goes to the reader threads. Not for reads by time. `extra`
   * rows past the limit say whether the read goes on.
   */
  private nearTail(stream: string, query: ReadQuery, extra = 0): EventRow[] | null {
    const s = this.r.stream.get(stream) as { id: number; last_seq: number } | undefined;
    if (!s) throw notFound(stream);
    const after = query.afterSeq ?? 0;
    if (s.last_seq - after > NEAR_TAIL) return null;
    const types = query.types && query.types.length > 0 ? query.types : [];
    return this.tailStatement(types.length).all(
      s.id,
      after,
      ...types,
      Math.min(query.limit, NEAR_TAIL) + extra,
    ) as EventRow[];
  }

  private tailStatement(typeCount: number): Statement {
    let st = this.tailStatements.get(typeCount);
    if (!st) {
      const types = typeCount > 0 ? ` AND type IN (${new Array(typeCount).fill('?').join(', ')})` : '';
      st = this.reader.prepare(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND seq > ?${types} ORDER BY seq ASC LIMIT ?`,
      );
      this.tailStatements.set(typeCount, st);
    }
    return st;
  }

  /**
   * True when nothing follows `afterSeq`: a read at the tail (a live reader's next page, the
   * "is there more?" after a full one) is answered here by one index probe instead of a hop to
   * a reader thread, which runs at a lower priority. The main thread's connection sees every
   * acknowledged append, so the stream's last seq here is never behind an acknowledged event.
   * A stream missing before the first slice is refused; one gone between slices ends the read.
   */
  private atTail(stream: string, afterSeq: number, first: boolean): boolean {
    const s = this.r.stream.get(stream) as { last_seq: number } | undefined;
    if (!s) {
      if (first) throw notFound(stream);
      return true;
    }
    return afterSeq >= s.last_seq;
  }

  private streamId(stream: string): number {
    const s = this.r.stream.get(stream) as { id: number } | undefined;
    if (!s) throw notFound(stream);
    return s.id;
  }
}

function notFound(stream: string): RivuletError {
  return new RivuletError('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { details: { stream } });
}

function sliceOf(stream: string, query: ReadQuery, afterSeq: number, limit: number): EventQuery {
  const types = query.types && query.types.length > 0 ? query.types : undefined;
  return { stream, afterSeq, fromTimeMs: query.fromTimeMs, toTimeMs: query.toTimeMs, types, limit };
}

function prepareWriteStatements(writer: Database) {
  return {
    idemPurge: writer.prepare('DELETE FROM idempotency WHERE created_ms < ?'),
    streamForRetention: writer.prepare('SELECT id, first_seq, last_seq, count, bytes FROM streams WHERE name = ?'),
  };
}

function prepareReadStatements(reader: Database) {
  return {
    stream: reader.prepare('SELECT id, first_seq, last_seq, count, bytes FROM streams WHERE name = ?'),
    byId: reader.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND id = ?`),
    bySeq: reader.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND seq = ?`),
    firstTime: reader.prepare('SELECT time FROM events WHERE stream_id = ? ORDER BY seq ASC LIMIT 1'),
    lastTime: reader.prepare('SELECT time FROM events WHERE stream_id = ? ORDER BY seq DESC LIMIT 1'),
  };
}

/**
 * The data of the rows, joined with commas, as the reader thread's `data` job answers it: at
 * most `limit` messages, none past the one that reaches `maxBytes`, and `more` when a row is
 * left over.
 */
function dataOfRows(rows: EventRow[], limit: number, maxBytes: number, afterSeq: number): EventDataPage {
  const texts: string[] = [];
  let bytes = 0;
  let lastEventSeq = afterSeq;
  let more = false;
  for (const row of rows) {
    if (texts.length === limit || bytes >= maxBytes) {
      more = true;
      break;
    }
    const text = row.json !== null ? eventDataText(row.json)! : row.data;
    texts.push(text);
    bytes += Buffer.byteLength(text) + 1;
    lastEventSeq = row.seq;
  }
  return { bytes: Buffer.from(texts.join(',')), count: texts.length, lastSeq: lastEventSeq, more };
}
