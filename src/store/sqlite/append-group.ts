/**
 * Applies one group of append requests in one write transaction on the worker's connection.
 *
 * Per-stream counters (last seq, count, bytes) and per-(stream, type) typeSeqs are read once
 * per group, advanced in memory and written back once before the commit, so an event costs
 * one INSERT. A request that fails must not take its neighbours down: the group first runs
 * without savepoints (two statements per request saved, and requests rarely fail); when one
 * does fail, that transaction is rolled back and the group runs again with a savepoint per
 * request, so the failing one rolls back its rows and in-memory counters alone.
 */
import type { Database } from 'better-sqlite3';
import { RivuletError } from '../../kernel/errors.js';
import { eventJsonOfParts } from '../../kernel/event-json.js';
import {
  EVENT_INTS,
  IDX_SCHEMA,
  IDX_SUPPLIED,
  errorToWire,
  wireIds,
  type WireOutcome,
  type WireRequest,
} from './append-wire.js';

interface StreamState {
  id: number;
  exclusive: boolean;
  lockedBy: string | null;
  lastSeq: number;
  /** the latest event time appended so far (epoch ms), null before the first */
  timeMax: number | null;
  addCount: number;
  addBytes: number;
}

interface TypeState {
  streamId: number;
  type: string;
  last: number;
  dirty: boolean;
}

/** thrown out of an optimistic group when a request fails, to roll it back and run it again carefully */
class RequestFailed extends Error {}

export class AppendGroupWriter {
  private readonly st: ReturnType<typeof statements>;
  private readonly group: (requests: WireRequest[], nowMs: number, savepoints: boolean) => WireOutcome[];

  constructor(private readonly db: Database) {
    this.st = statements(db);
    // IMMEDIATE takes the write lock before the first read, so the counters read below are
    // the ones this transaction writes back: another connection cannot commit in between.
    const tx = db.transaction((requests: WireRequest[], nowMs: number, savepoints: boolean) =>
      this.applyGroup(requests, nowMs, savepoints),
    );
    this.group = (requests, nowMs, savepoints) => tx.immediate(requests, nowMs, savepoints);
  }

  /** runs and commits the group; throws when the commit itself fails */
  write(requests: WireRequest[], nowMs: number): WireOutcome[] {
    try {
      return this.group(requests, nowMs, false);
    } catch (err) {
      if (!(err instanceof RequestFailed)) throw err;
      return this.group(requests, nowMs, true);
    }
  }

  private applyGroup(requests: WireRequest[], nowMs: number, savepoints: boolean): WireOutcome[] {
    const streams = new Map<string, StreamState>();
    const types = new Map<string, TypeState>();
    const outcomes: WireOutcome[] = [];
    for (const req of requests) {
      if (!savepoints) {
        try {
          outcomes.push(this.applyOne(req, this.streamState(streams, req.stream), types, [], nowMs));
        } catch (err) {
          // an error that ended the transaction (SQLITE_FULL, SQLITE_IOERR…) fails the group as one
          throw this.db.inTransaction ? new RequestFailed() : err;
        }
        continue;
      }
      const stream = this.streamState(streams, req.stream);
      const saved = stream
        ? {
            lastSeq: stream.lastSeq,
            timeMax: stream.timeMax,
            addCount: stream.addCount,
            addBytes: stream.addBytes,
            lockedBy: stream.lockedBy,
          }
        : null;
      const touched: [TypeState, number, boolean][] = [];
      this.st.savepoint.run();
      try {
        outcomes.push(this.applyOne(req, stream, types, touched, nowMs));
        this.st.release.run();
      } catch (err) {
        // some errors (SQLITE_FULL, SQLITE_IOERR…) roll the whole transaction back: then the
        // group fails as one, and none of it was acknowledged
        if (!this.db.inTransaction) throw err;
        this.st.rollbackTo.run();
        this.st.release.run();
        if (stream && saved) Object.assign(stream, saved);
        for (const [t, last, dirty] of touched) {
          t.last = last;
          t.dirty = dirty;
        }
        outcomes.push({ ok: false, error: errorToWire(err) });
      }
    }
    for (const s of streams.values()) {
      if (s.addCount > 0) this.st.bump.run(s.lastSeq, s.timeMax, s.addCount, s.addBytes, s.id);
    }
    for (const t of types.values()) {
      if (t.dirty) this.st.putType.run(t.streamId, t.type, t.last);
    }
    return outcomes;
  }

  private streamState(streams: Map<string, StreamState>, name: string): StreamState | undefined {
    let s = streams.get(name);
    if (!s) {
      const row = this.st.stream.get(name) as
        | {
            id: number;
            exclusive_producer: number;
            locked_by: string | null;
            last_seq: number;
            time_max_ms: number | null;
          }
        | undefined;
      if (!row) return undefined;
      s = {
        id: row.id,
        exclusive: row.exclusive_producer === 1,
        lockedBy: row.locked_by,
        lastSeq: row.last_seq,
        timeMax: row.time_max_ms,
        addCount: 0,
        addBytes: 0,
      };
      streams.set(name, s);
    }
    return s;
  }

  private typeState(
    types: Map<string, TypeState>,
    streamId: number,
    type: string,
    touched: [TypeState, number, boolean][],
  ): TypeState {
    const key = `${streamId}\u0000${type}`;
    let t = types.get(key);
    if (!t) {
      const row = this.st.getType.get(streamId, type) as { last_type_seq: number } | undefined;
      t = { streamId, type, last: row?.last_type_seq ?? 0, dirty: false };
      types.set(key, t);
    }
    touched.push([t, t.last, t.dirty]);
    return t;
  }

  private applyOne(
    req: WireRequest,
    stream: StreamState | undefined,
    types: Map<string, TypeState>,
    touched: [TypeState, number, boolean][],
    nowMs: number,
  ): WireOutcome {
    if (!stream)
      throw new RivuletError('STREAM_NOT_FOUND', `stream "${req.stream}" does not exist`, {
        details: { stream: req.stream },
      });

    if (req.idempotencyKey !== undefined) {
      const seen = this.st.idemGet.get(stream.id, req.idempotencyKey) as
        { request_hash: string | null; result: string } | undefined;
      if (seen) {
        if (req.requestHash !== undefined && seen.request_hash !== null && seen.request_hash !== req.requestHash) {
          throw new RivuletError(
            'IDEMPOTENCY_KEY_REUSED',
            `Idempotency-Key "${req.idempotencyKey}" was used before with a different request`,
          );
        }
        return { ok: true, replay: seen.result };
      }
    }

    let locked = false;
    if (stream.exclusive) {
      if (stream.lockedBy !== null && stream.lockedBy !== req.producer) {
        throw new RivuletError('PRODUCER_LOCKED', `stream "${req.stream}" is exclusive to another producer`, {
          details: { stream: req.stream },
        });
      }
      if (stream.lockedBy === null && req.producer !== null) {
        this.st.lock.run(req.producer, stream.id);
        stream.lockedBy = req.producer;
        locked = true;
      }
    }

    const { text, ints, count } = req;
    const positions: number[] = new Array(count * 3);
    // ids supplied in this request → index of the first event that carried it
    let inRequest: Map<string, number> | undefined;
    let receivedText: string | undefined;
    let at = 0;
    for (let i = 0, o = 0; i < count; i++, o += EVENT_INTS) {
      const id = text.slice(at, (at += ints[o]!));
      const type = text.slice(at, (at += ints[o + 1]!));
      const source = text.slice(at, (at += ints[o + 2]!));
      const time = text.slice(at, (at += ints[o + 3]!));
      const producerLength = ints[o + 4]!;
      const producer = producerLength < 0 ? null : text.slice(at, (at += producerLength));
      const data = text.slice(at, (at += ints[o + 5]!));
      const meta = text.slice(at, (at += ints[o + 6]!));
      if (ints[o + IDX_SUPPLIED] === 1) {
        inRequest ??= new Map();
        const first = inRequest.get(id);
        if (first !== undefined) {
          positions[i * 3] = positions[first * 3]!;
          positions[i * 3 + 1] = positions[first * 3 + 1]!;
          positions[i * 3 + 2] = 1;
          continue;
        }
        const stored = this.st.findId.get(stream.id, id) as { seq: number; type_seq: number } | undefined;
        if (stored) {
          positions[i * 3] = stored.seq;
          positions[i * 3 + 1] = stored.type_seq;
          positions[i * 3 + 2] = 1;
          continue;
        }
        inRequest.set(id, i);
      }
      const schemaVersion = ints[o + IDX_SCHEMA]!;
      const t = this.typeState(types, stream.id, type, touched);
      const seq = ++stream.lastSeq;
      const typeSeq = ++t.last;
      t.dirty = true;
      const size = Buffer.byteLength(data);
      stream.addCount++;
      stream.addBytes += size;
      // the answer reads will send, kept whole: a page is these texts joined (data and meta live in it)
      const json = eventJsonOfParts({
        id,
        stream: req.stream,
        seq,
        typeSeq,
        type,
        source,
        time,
        received: (receivedText ??= new Date(nowMs).toISOString()),
        producer,
        dataJson: data,
        metaJson: meta,
        schemaVersion: schemaVersion < 0 ? null : schemaVersion,
      });
      const timeMs = Date.parse(time);
      if (stream.timeMax === null || timeMs > stream.timeMax) stream.timeMax = timeMs;
      this.st.insert.run(
        stream.id,
        seq,
        id,
        type,
        typeSeq,
        source,
        time,
        timeMs,
        stream.timeMax,
        nowMs,
        producer,
        '',
        '',
        schemaVersion < 0 ? null : schemaVersion,
        size,
        json,
      );
      positions[i * 3] = seq;
      positions[i * 3 + 1] = typeSeq;
      positions[i * 3 + 2] = 0;
    }

    if (req.idempotencyKey !== undefined) {
      const answer = { stream: req.stream, events: answerEvents(wireIds(req), positions), replayed: false };
      this.st.idemPut.run(stream.id, req.idempotencyKey, req.requestHash ?? null, JSON.stringify(answer), nowMs);
    }
    return { ok: true, positions, locked };
  }
}

function answerEvents(ids: string[], positions: number[]) {
  return ids.map((id, i) => ({
    id,
    seq: positions[i * 3]!,
    typeSeq: positions[i * 3 + 1]!,
    duplicate: positions[i * 3 + 2] === 1,
  }));
}

function statements(db: Database) {
  return {
    savepoint: db.prepare('SAVEPOINT append_request'),
    release: db.prepare('RELEASE append_request'),
    rollbackTo: db.prepare('ROLLBACK TO append_request'),
    stream: db.prepare('SELECT id, exclusive_producer, locked_by, last_seq, time_max_ms FROM streams WHERE name = ?'),
    lock: db.prepare('UPDATE streams SET locked_by = ? WHERE id = ?'),
    bump: db.prepare(
      'UPDATE streams SET last_seq = ?, time_max_ms = ?, count = count + ?, bytes = bytes + ? WHERE id = ?',
    ),
    getType: db.prepare('SELECT last_type_seq FROM stream_types WHERE stream_id = ? AND type = ?'),
    putType: db.prepare(
      `INSERT INTO stream_types (stream_id, type, last_type_seq) VALUES (?, ?, ?)
       ON CONFLICT (stream_id, type) DO UPDATE SET last_type_seq = excluded.last_type_seq`,
    ),
    findId: db.prepare('SELECT seq, type_seq FROM events WHERE stream_id = ? AND id = ?'),
    insert: db.prepare(
      `INSERT INTO events (stream_id, seq, id, type, type_seq, source, time, time_ms, time_max_ms, received_ms, producer, data, meta, schema_version, size, json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    idemGet: db.prepare('SELECT request_hash, result FROM idempotency WHERE stream_id = ? AND key = ?'),
    idemPut: db.prepare(
      'INSERT INTO idempotency (stream_id, key, request_hash, result, created_ms) VALUES (?, ?, ?, ?, ?)',
    ),
  };
}
