/**
 * A reader thread: a read-only connection of its own (WAL lets it read beside the writer),
 * answering one job at a time. better-sqlite3 is synchronous, so a large read blocks this
 * thread and no other; the main thread gets rows, or for the native API the page's bytes:
 * the answers the append stored for each event, joined (an event from before they were stored
 * has its answer built here from its parts).
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { errorToWire } from './append-wire.js';
import type { EventQuery, FromReader, ReadJob, ReaderSettings, ReadResult, ToReader } from './reader-wire.js';
import { EVENT_COLUMNS, eventJsonOfRow, type EventRow } from './event-row.js';
import { fieldText } from './json-field.js';
import { cacheSizePragma } from './page-cache.js';

/**
 * Room left around a slice's text for the native API's frame of a page, `{"events":[` before
 * and `],"next":"<cursor>"}` after: a page of one slice is then sent from this buffer as it is,
 * instead of copied once more on the main thread (a copy per page of up to ~1 MiB, and as much
 * memory again waiting for the collector).
 */
const SPARE_BEFORE = 16;
const SPARE_AFTER = 256;

function run(channel: NonNullable<typeof parentPort>, settings: ReaderSettings): void {
  const send = (message: FromReader, transfer?: ArrayBuffer[]) => channel.postMessage(message, transfer);
  let reader: Reader;
  try {
    reader = new Reader(settings);
  } catch (err) {
    send({ kind: 'open-failed', error: errorToWire(err) });
    return;
  }
  // On Linux a thread has its own nice value, so this lowers this thread only: with every core
  // busy, the scheduler gives the append worker and the event loop the larger share.
  if (settings.niceness > 0 && process.platform === 'linux') {
    try {
      setPriority(settings.niceness);
    } catch {
      // not permitted here: reads then compete at the same priority
    }
  }
  send({ kind: 'ready' });
  channel.on('message', (m: ToReader) => {
    if ('close' in m) {
      reader.close();
      channel.close();
      return;
    }
    try {
      const result = reader.run(m.job);
      send(
        { id: m.id, ok: true, result },
        result.found && result.op === 'json' ? [result.bytes.buffer as ArrayBuffer] : undefined,
      );
    } catch (err) {
      send({ id: m.id, ok: false, error: errorToWire(err) });
    }
  });
}

class Reader {
  private readonly db: Database.Database;
  private readonly stream: Statement;
  private readonly timeBound: Statement;
  private readonly firstAtTime: Statement;
  private readonly bySeq: Statement;
  private readonly statements = new Map<string, Statement>();

  constructor(settings: ReaderSettings) {
    const db = new Database(settings.path, { fileMustExist: true });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${settings.synchronous}`);
    const actual = db.pragma('synchronous', { simple: true });
    if (actual !== settings.synchronous)
      throw new Error(`SQLite refused synchronous=${settings.synchronous} (it reports ${String(actual)})`);
    db.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
    db.pragma(cacheSizePragma(settings.cacheBytes));
    db.pragma('query_only = ON');
    this.db = db;
    this.stream = db.prepare('SELECT id, last_seq FROM streams WHERE name = ?');
    // the first event whose running maximum of times reaches the time: no event before it is
    // at or after that time, so a seek starts there (one index probe)
    this.timeBound = db
      .prepare(
        'SELECT seq FROM events INDEXED BY events_by_time_max WHERE stream_id = ? AND time_max_ms >= ? ORDER BY time_max_ms, seq LIMIT 1',
      )
      .pluck();
    // from there, the first event at or after the time: the bound itself unless retention cut
    // events with later times than those it kept
    this.firstAtTime = db
      .prepare('SELECT seq FROM events WHERE stream_id = ? AND seq >= ? AND time_ms >= ? ORDER BY seq LIMIT 1')
      .pluck();
    this.bySeq = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND seq = ?`);
  }

  close(): void {
    this.db.close();
  }

  /** one job in one read transaction, so the stream row and its events come from one snapshot */
  run(job: ReadJob): ReadResult {
    return this.db.transaction((): ReadResult => {
      const s = this.stream.get(
        job.op === 'rows' || job.op === 'json' || job.op === 'data' ? job.query.stream : job.stream,
      ) as { id: number; last_seq: number } | undefined;
      if (!s) return { found: false };
      switch (job.op) {
        case 'rows':
          return {
            found: true,
            op: 'rows',
            rows: this.events(s.id, this.bounded(s.id, s.last_seq, job.query)),
            lastSeq: s.last_seq,
          };
        case 'json':
          return this.json(s.id, s.last_seq, this.bounded(s.id, s.last_seq, job.query));
        case 'data':
          return this.data(s.last_seq, this.bounded(s.id, s.last_seq, job.query), s.id);
        case 'seqAtTime': {
          const bound = this.timeBound.get(s.id, job.timeMs) as number | undefined;
          const seq =
            bound === undefined ? undefined : (this.firstAtTime.get(s.id, bound, job.timeMs) as number | undefined);
          return { found: true, op: 'seqAtTime', seq: seq ?? null, lastSeq: s.last_seq };
        }
        case 'count': {
          const types = job.types && job.types.length > 0 ? job.types : undefined;
          const row = this.statement('count', false, false, types?.length ?? 0).get(
            s.id,
            job.afterSeq,
            ...(types ?? []),
          ) as { n: number; oldest: number | null };
          return { found: true, op: 'count', n: row.n, oldest: row.oldest, lastSeq: s.last_seq };
        }
      }
    })();
  }

  /** a read from a time starts no earlier than the first event that can be at or after it */
  private bounded(streamId: number, lastSeq: number, q: EventQuery): EventQuery {
    if (q.fromTimeMs === undefined) return q;
    const bound = this.timeBound.get(streamId, q.fromTimeMs) as number | undefined;
    const after = bound === undefined ? lastSeq : bound - 1;
    return after > q.afterSeq ? { ...q, afterSeq: after } : q;
  }

  private events(streamId: number, q: EventQuery): EventRow[] {
    return this.select(streamId, q).all(...this.params(streamId, q)) as EventRow[];
  }

  private json(streamId: number, lastSeq: number, q: EventQuery): ReadResult {
    // two columns as arrays: fetching the stored answer costs a fraction of fetching the row
    const rows = this.statement('json', q.fromTimeMs !== undefined, q.toTimeMs !== undefined, q.types?.length ?? 0).all(
      ...this.params(streamId, q),
    ) as [number, string | null][];
    const texts = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const [seq, json] = rows[i]!;
      texts[i] = json ?? eventJsonOfRow(q.stream, this.bySeq.get(streamId, seq) as EventRow);
    }
    const text = texts.join(',');
    const length = Buffer.byteLength(text);
    // a buffer of its own (never the shared pool's, it is transferred), with room around the text
    const buffer = Buffer.allocUnsafeSlow(SPARE_BEFORE + length + SPARE_AFTER);
    buffer.write(text, SPARE_BEFORE);
    return {
      found: true,
      op: 'json',
      bytes: new Uint8Array(buffer.buffer, SPARE_BEFORE, length),
      spare: { before: SPARE_BEFORE, after: SPARE_AFTER },
      count: rows.length,
      lastEventSeq: rows.length > 0 ? rows[rows.length - 1]![0] : q.afterSeq,
      lastSeq,
    };
  }

  private data(lastSeq: number, q: EventQuery, streamId: number): ReadResult {
    const rows = this.statement('data', q.fromTimeMs !== undefined, q.toTimeMs !== undefined, q.types?.length ?? 0).all(
      ...this.params(streamId, q),
    ) as [number, string, string | null][];
    const seqs = new Array<number>(rows.length);
    const data = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const [seq, dataColumn, json] = rows[i]!;
      seqs[i] = seq;
      // an event stored with its answer keeps its data inside it; an older row in its own column
      data[i] = json === null ? dataColumn : fieldText(json, 'data')!;
    }
    return { found: true, op: 'data', seqs, data, lastSeq };
  }

  private select(_streamId: number, q: EventQuery): Statement {
    const types = q.types && q.types.length > 0 ? q.types.length : 0;
    return this.statement('events', q.fromTimeMs !== undefined, q.toTimeMs !== undefined, types);
  }

  private params(streamId: number, q: EventQuery): unknown[] {
    const params: unknown[] = [streamId, q.afterSeq];
    if (q.fromTimeMs !== undefined) params.push(q.fromTimeMs);
    if (q.toTimeMs !== undefined) params.push(q.toTimeMs);
    if (q.types && q.types.length > 0) params.push(...q.types);
    params.push(q.limit);
    return params;
  }

  private statement(
    kind: 'events' | 'json' | 'data' | 'count',
    from: boolean,
    to: boolean,
    typeCount: number,
  ): Statement {
    const key = `${kind}:${from ? 1 : 0}${to ? 1 : 0}:${typeCount}`;
    let st = this.statements.get(key);
    if (!st) {
      const where = ['stream_id = ?', 'seq > ?'];
      if (from) where.push('time_ms >= ?');
      if (to) where.push('time_ms <= ?');
      if (typeCount > 0) where.push(`type IN (${new Array(typeCount).fill('?').join(', ')})`);
      if (kind === 'count')
        st = this.db.prepare(
          `SELECT COUNT(*) AS n, MIN(received_ms) AS oldest FROM events WHERE ${where.join(' AND ')}`,
        );
      else if (kind === 'json')
        st = this.db
          .prepare(`SELECT seq, json FROM events WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT ?`)
          .raw(true);
      else if (kind === 'data')
        st = this.db
          .prepare(`SELECT seq, data, json FROM events WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT ?`)
          .raw(true);
      else
        st = this.db.prepare(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT ?`,
        );
      this.statements.set(key, st);
    }
    return st;
  }
}

// last, so the class above is initialised before the thread starts answering
const port = parentPort;
if (port) run(port, workerData as ReaderSettings);
