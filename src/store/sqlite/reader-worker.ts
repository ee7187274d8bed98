/**
 * A reader thread: a read-only connection of its own (WAL lets it read beside the writer),
 * answering one job at a time. better-sqlite3 is synchronous, so a large read blocks this
 * thread and no other; the main thread gets rows, or for the native API the page's bytes,
 * built here by concatenating the JSON text each event was stored as.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { eventJsonOfParts } from '../../core/events/event-json.js';
import { errorToWire } from './append-wire.js';
import type { EventQuery, FromReader, ReadJob, ReaderSettings, ReadResult, ToReader } from './reader-wire.js';
import { EVENT_COLUMNS, type EventRow } from './event-row.js';


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
      send({ id: m.id, ok: true, result }, result.found && result.op === 'json' ? [result.bytes.buffer as ArrayBuffer] : undefined);
    } catch (err) {
      send({ id: m.id, ok: false, error: errorToWire(err) });
    }
  });
}

class Reader {
  private readonly db: Database.Database;
  private readonly stream: Statement;
  private readonly seqAtTime: Statement;
  private readonly statements = new Map<string, Statement>();
  private readonly encoder = new TextEncoder();

  constructor(settings: ReaderSettings) {
    const db = new Database(settings.path, { fileMustExist: true });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${settings.synchronous}`);
    const actual = db.pragma('synchronous', { simple: true });
    if (actual !== settings.synchronous) throw new Error(`SQLite refused synchronous=${settings.synchronous} (it reports ${String(actual)})`);
    db.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
    db.pragma('query_only = ON');
    this.db = db;
    this.stream = db.prepare('SELECT id, last_seq FROM streams WHERE name = ?');
    this.seqAtTime = db.prepare('SELECT MIN(seq) AS seq FROM events WHERE stream_id = ? AND time_ms >= ?');
  }

  close(): void {
    this.db.close();
  }

  /** one job in one read transaction, so the stream row and its events come from one snapshot */
  run(job: ReadJob): ReadResult {
    return this.db.transaction((): ReadResult => {
      const s = this.stream.get(job.op === 'rows' || job.op === 'json' ? job.query.stream : job.stream) as { id: number; last_seq: number } | undefined;
      if (!s) return { found: false };
      switch (job.op) {
        case 'rows':
          return { found: true, op: 'rows', rows: this.events(s.id, job.query), lastSeq: s.last_seq };
        case 'json':
          return this.json(s.id, s.last_seq, job.query);
        case 'seqAtTime': {
          const row = this.seqAtTime.get(s.id, job.timeMs) as { seq: number | null };
          return { found: true, op: 'seqAtTime', seq: row.seq, lastSeq: s.last_seq };
        }
        case 'count': {
          const types = job.types && job.types.length > 0 ? job.types : undefined;
          const row = this.statement('count', false, false, types?.length ?? 0).get(s.id, job.afterSeq, ...(types ?? [])) as { n: number; oldest: number | null };
          return { found: true, op: 'count', n: row.n, oldest: row.oldest, lastSeq: s.last_seq };
        }
      }
    })();
  }

  private events(streamId: number, q: EventQuery): EventRow[] {
    return this.select(streamId, q).all(...this.params(streamId, q)) as EventRow[];
  }

  private json(streamId: number, lastSeq: number, q: EventQuery): ReadResult {
    let text = '';
    let count = 0;
    let last = q.afterSeq;
    for (const row of this.select(streamId, q).iterate(...this.params(streamId, q)) as IterableIterator<EventRow>) {
      if (count++ > 0) text += ',';
      text += eventJsonOfParts({
        id: row.id, stream: q.stream, seq: row.seq, typeSeq: row.type_seq, type: row.type, source: row.source, time: row.time,
        received: new Date(row.received_ms).toISOString(), producer: row.producer, dataJson: row.data, metaJson: row.meta,
        schemaVersion: row.schema_version,
      });
      last = row.seq;
    }
    return { found: true, op: 'json', bytes: this.encoder.encode(text), count, lastEventSeq: last, lastSeq };
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

  private statement(kind: 'events' | 'count', from: boolean, to: boolean, typeCount: number): Statement {
    const key = `${kind}:${from ? 1 : 0}${to ? 1 : 0}:${typeCount}`;
    let st = this.statements.get(key);
    if (!st) {
      const where = ['stream_id = ?', 'seq > ?'];
      if (from) where.push('time_ms >= ?');
      if (to) where.push('time_ms <= ?');
      if (typeCount > 0) where.push(`type IN (${new Array(typeCount).fill('?').join(', ')})`);
      st = kind === 'events'
        ? this.db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT ?`)
        : this.db.prepare(`SELECT COUNT(*) AS n, MIN(received_ms) AS oldest FROM events WHERE ${where.join(' AND ')}`);
      this.statements.set(key, st);
    }
    return st;
  }
}

// last, so the class above is initialised before the thread starts answering
const port = parentPort;
if (port) run(port, workerData as ReaderSettings);
