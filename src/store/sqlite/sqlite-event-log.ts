/**
 * The SQLite event log. Appends go through the group committer to the append worker's connection;
 * reads use a second connection (WAL lets them run beside the writer) and fetch in pages,
 * so no read transaction stays open across an await.
 */
import { EventEmitter } from 'node:events';
import type { Database, Statement } from 'better-sqlite3';
import { RivuletError } from '../../kernel/errors.js';
import type { AppendResult, StoredEvent } from '../../kernel/envelope.js';
import type { AppendRequest, EventLog, ReadQuery, RetentionPolicy, StreamStats } from '../port.js';
import type { GroupCommitter } from './group-commit.js';

export interface EventRow {
  seq: number;
  id: string;
  type: string;
  type_seq: number;
  source: string;
  time: string;
  received_ms: number;
  producer: string | null;
  data: string;
  meta: string;
  schema_version: number | null;
}


export const EVENT_COLUMNS = 'seq, id, type, type_seq, source, time, received_ms, producer, data, meta, schema_version';
/** rows fetched per page of a read; small enough to keep the loop responsive */
const READ_PAGE = 256;

export class SqliteEventLog implements EventLog {
  private readonly committer: GroupCommitter;
  private readonly emitter = new EventEmitter();
  private readonly w: ReturnType<typeof prepareWriteStatements>;
  private readonly r: ReturnType<typeof prepareReadStatements>;
  private readonly readStatements = new Map<string, Statement>();

  constructor(
    private readonly writer: Database,
    private readonly reader: Database,
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
    const s = this.r.stream.get(stream) as { id: number } | undefined;
    if (!s) throw new RivuletError('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { details: { stream } });
    const types = query.types && query.types.length > 0 ? query.types : undefined;
    const statement = this.readStatement(query.fromTimeMs !== undefined, query.toTimeMs !== undefined, types?.length ?? 0);
    let after = query.afterSeq ?? 0;
    let remaining = query.limit;
    while (remaining > 0) {
      const params: unknown[] = [s.id, after];
      if (query.fromTimeMs !== undefined) params.push(query.fromTimeMs);
      if (query.toTimeMs !== undefined) params.push(query.toTimeMs);
      if (types) params.push(...types);
      const page = Math.min(remaining, READ_PAGE);
      params.push(page);
      const rows = statement.all(...params) as EventRow[];
      for (const row of rows) yield toEvent(stream, row);
      if (rows.length < page) return;
      after = rows[rows.length - 1]!.seq;
      remaining -= rows.length;
    }
  }

  private readStatement(from: boolean, to: boolean, typeCount: number): Statement {
    const key = `${from ? 1 : 0}${to ? 1 : 0}:${typeCount}`;
    let st = this.readStatements.get(key);
    if (!st) {
      const where = ['stream_id = ?', 'seq > ?'];
      if (from) where.push('time_ms >= ?');
      if (to) where.push('time_ms <= ?');
      if (typeCount > 0) where.push(`type IN (${new Array(typeCount).fill('?').join(', ')})`);
      st = this.reader.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT ?`);
      this.readStatements.set(key, st);
    }
    return st;
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
    const s = this.r.stream.get(stream) as { id: number; last_seq: number } | undefined;
    if (!s) throw new RivuletError('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { details: { stream } });
    const row = this.r.seqAtTime.get(s.id, timeMs) as { seq: number | null };
    return row.seq ?? s.last_seq + 1;
  }

  async stats(stream: string): Promise<StreamStats> {
    const s = this.r.stream.get(stream) as { id: number; first_seq: number; last_seq: number; count: number; bytes: number } | undefined;
    if (!s) throw new RivuletError('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { details: { stream } });
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
    const removed = this.writer.transaction(() => {
      const s = this.w.streamForRetention.get(stream) as
        | { id: number; first_seq: number; last_seq: number; count: number; bytes: number }
        | undefined;
      if (!s || s.count === 0) return 0;
      // The new first seq is the highest cut any policy asks for; events are removed as a prefix
      // so seqs stay contiguous and readers can tell "before retention" from "missing".
      let cut = s.first_seq;
      if (policy.maxEvents != null && s.count > policy.maxEvents) cut = Math.max(cut, s.last_seq - policy.maxEvents + 1);
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
    }).immediate();
    return removed;
  }

  async purgeIdempotencyKeys(nowMs: number): Promise<number> {
    return this.w.idemPurge.run(nowMs - this.idempotencyWindowMs).changes;
  }

  private streamId(stream: string): number {
    const s = this.r.stream.get(stream) as { id: number } | undefined;
    if (!s) throw new RivuletError('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { details: { stream } });
    return s.id;
  }
}

export function toEvent(stream: string, row: EventRow): StoredEvent {
  return {
    id: row.id,
    stream,
    seq: row.seq,
    typeSeq: row.type_seq,
    type: row.type,
    source: row.source,
    time: row.time,
    received: new Date(row.received_ms).toISOString(),
    producer: row.producer,
    data: JSON.parse(row.data),
    meta: JSON.parse(row.meta),
    schemaVersion: row.schema_version,
  };
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
    seqAtTime: reader.prepare('SELECT MIN(seq) AS seq FROM events WHERE stream_id = ? AND time_ms >= ?'),
  };
}
