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
import { errorToWire } from '../thread-wire.js';
import type { EventQuery, FromReader, ReadJob, ReaderSettings, ReadResult, ToReader } from './reader-wire.js';
import { EVENT_COLUMNS, eventJsonOfRow, type EventRow } from './event-row.js';
import { eventDataText } from '../json-field.js';
import { cacheSizePragma } from './page-cache.js';
import { grow, PageBuffers } from '../page-buffers.js';

/** rows fetched at a time for a page of data */
const DATA_CHUNK = 1024;

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
      send({ id: m.id, ok: true, result }, transferable(result));
    } catch (err) {
      send({ id: m.id, ok: false, error: errorToWire(err) });
    }
  });
}

/** the buffers a result hands over rather than copies */
function transferable(result: ReadResult): ArrayBuffer[] | undefined {
  if (!result.found) return undefined;
  if (result.op === 'json' || result.op === 'data') return [result.bytes.buffer as ArrayBuffer];
  if (result.op === 'texts')
    return [result.bytes.buffer as ArrayBuffer, result.ends.buffer as ArrayBuffer, result.seqs.buffer as ArrayBuffer];
  return undefined;
}

class Reader {
  private readonly db: Database.Database;
  private readonly stream: Statement;
  private readonly timeBound: Statement;
  private readonly firstAtTime: Statement;
  private readonly bySeq: Statement;
  private readonly statements = new Map<string, Statement>();
  private readonly encoder = new TextEncoder();
  /** where a page is written: one at a time, as the thread reads one job at a time */
  private readonly buffers = new PageBuffers(1);

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
        job.op === 'rows' || job.op === 'json' || job.op === 'data' || job.op === 'texts'
          ? job.query.stream
          : job.stream,
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
          return this.data(s.id, s.last_seq, this.bounded(s.id, s.last_seq, job.query), job.maxBytes);
        case 'texts':
          return this.texts(s.id, s.last_seq, this.bounded(s.id, s.last_seq, job.query), job.maxBytes, job.types);
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

  /**
   * The data of up to `limit` events, joined: rows are fetched a chunk at a time as one text
   * column each (an array per row costs more than the row's text), and each message is written
   * into one buffer as it is sliced out, so no row's text outlives its chunk (a list of them
   * kept until a join would outlive this thread's small young generation, and be copied).
   */
  private data(streamId: number, lastSeq: number, q: EventQuery, maxBytes: number): ReadResult {
    const filtered = [q.fromTimeMs !== undefined, q.toTimeMs !== undefined, q.types?.length ?? 0] as const;
    const texts = this.statement('data', ...filtered);
    let out = this.buffers.take();
    let count = 0;
    let bytes = 0;
    let more = false;
    let after = q.afterSeq;
    let lastEventSeq = q.afterSeq;
    for (;;) {
      // one row past the limit says whether more follows
      const want = Math.min(DATA_CHUNK, q.limit + 1 - count);
      const params = this.params(streamId, { ...q, afterSeq: after, limit: want });
      const rows = texts.all(...params) as string[];
      let taken = 0;
      for (const row of rows) {
        if (count === q.limit || bytes >= maxBytes) {
          more = true;
          break;
        }
        // a row from before answers were stored has its data in its own column, marked by a
        // leading space (JSON.stringify never writes one)
        const text = row.charCodeAt(0) === 0x20 ? row.slice(1) : eventDataText(row)!;
        // at most 3 bytes of UTF-8 per UTF-16 unit, and a comma
        if (out.length - bytes < text.length * 3 + 1) out = grow(out, bytes + text.length * 3 + 1);
        if (count > 0) out[bytes - 1] = 0x2c;
        bytes += out.write(text, bytes) + 1;
        count++;
        taken++;
      }
      if (taken > 0) {
        // the seq of the last row taken: its position among the rows just read
        params[params.length - 1] = 1;
        lastEventSeq = this.statement('seqAt', ...filtered).get(...params, taken - 1) as number;
      }
      if (more || rows.length < want) break;
      after = lastEventSeq;
    }
    const joined = this.buffers.handOver(out, Math.max(0, bytes - 1));
    return { found: true, op: 'data', bytes: joined, count, lastEventSeq, more, lastSeq };
  }

  /**
   * Up to `limit` events' stored answers, written one after another into one buffer with where
   * each ends: the main thread frames them for a live subscriber without parsing or rendering
   * an event. One row past the limit says whether more follows.
   */
  private texts(streamId: number, lastSeq: number, q: EventQuery, maxBytes: number, withTypes: boolean): ReadResult {
    const rows = this.statement(
      'texts',
      q.fromTimeMs !== undefined,
      q.toTimeMs !== undefined,
      q.types?.length ?? 0,
    ).all(...this.params(streamId, { ...q, limit: q.limit + 1 })) as [number, string, string | null][];
    const take = Math.min(rows.length, q.limit);
    const ends = new Uint32Array(take);
    const seqs = new Float64Array(take);
    const types: string[] | null = withTypes ? [] : null;
    let out = this.buffers.take();
    let bytes = 0;
    let count = 0;
    while (count < take && (count === 0 || bytes < maxBytes)) {
      const [seq, type, json] = rows[count]!;
      const text = json ?? eventJsonOfRow(q.stream, this.bySeq.get(streamId, seq) as EventRow);
      if (out.length - bytes < text.length * 3) out = grow(out, bytes + text.length * 3);
      bytes += out.write(text, bytes);
      ends[count] = bytes;
      seqs[count] = seq;
      types?.push(type);
      count++;
    }
    return {
      found: true,
      op: 'texts',
      bytes: this.buffers.handOver(out, bytes),
      // views of their own buffers, exactly as long as the page, so they can be handed over
      ends: count === take ? ends : ends.slice(0, count),
      seqs: count === take ? seqs : seqs.slice(0, count),
      types,
      lastEventSeq: count > 0 ? seqs[count - 1]! : q.afterSeq,
      more: rows.length > count,
      lastSeq,
    };
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
    kind: 'events' | 'json' | 'texts' | 'data' | 'seqAt' | 'count',
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
      else if (kind === 'texts')
        st = this.db
          .prepare(`SELECT seq, type, json FROM events WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT ?`)
          .raw(true);
      else if (kind === 'data')
        st = this.db
          .prepare(
            `SELECT CASE WHEN json IS NULL THEN ' ' || data ELSE json END FROM events WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT ?`,
          )
          .pluck();
      else if (kind === 'seqAt')
        st = this.db
          .prepare(`SELECT seq FROM events WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT ? OFFSET ?`)
          .pluck();
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
