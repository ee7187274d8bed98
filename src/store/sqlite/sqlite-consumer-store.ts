/**
 * Consumers in SQLite. A consumer row holds the committed position (every matching event at
 * or before it is acknowledged) and how far the leased style has scanned the log; a lease row
 * exists for each scanned, matching event not yet acknowledged. Every change is one
 * transaction on the writer connection, so two clients can never lease the same event at once.
 * Transactions are IMMEDIATE: appends commit on the append worker's own connection, and a
 * deferred transaction that reads before it writes could find its snapshot outdated.
 * What may scan many events (the next events of a receive, a lag count, a seek by time) is
 * read on a reader thread first, and only the writes run in the transaction on this thread.
 */
import { randomFillSync } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { RivuletError } from '../../kernel/errors.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import type {
  ConsumerDefinition,
  ConsumerLag,
  ConsumerRecord,
  ConsumerStore,
  LeaseOutcome,
  ReceiveResult,
  StartPosition,
} from '../port.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-row.js';
import type { SqliteEventLog } from './sqlite-event-log.js';

interface ConsumerRow {
  id: number;
  stream_id: number;
  name: string;
  types: string;
  lease_ms: number;
  max_deliveries: number;
  dead_letter_stream: string | null;
  committed_seq: number;
  scanned_seq: number;
  created_at: string;
  updated_at: string;
}

interface LeaseRow {
  seq: number;
  deliveries: number;
  token: string | null;
  first_ms: number | null;
}

const CONSUMER_COLUMNS =
  'c.id, c.stream_id, c.name, c.types, c.lease_ms, c.max_deliveries, c.dead_letter_stream, c.committed_seq, c.scanned_seq, c.created_at, c.updated_at';

export class SqliteConsumerStore implements ConsumerStore {
  private readonly st: ReturnType<typeof prepareStatements>;
  private readonly scans = new Map<number, Statement>();

  constructor(
    private readonly db: Database,
    private readonly events: SqliteEventLog,
  ) {
    this.st = prepareStatements(db);
  }

  async create(def: ConsumerDefinition, start: StartPosition, nowMs: number): Promise<ConsumerRecord> {
    const atTime = await this.timePosition(def.stream, start);
    return this.db
      .transaction(() => {
        const stream = this.streamRow(def.stream);
        const position = atTime ?? this.positionOf(stream, start);
        const now = new Date(nowMs).toISOString();
        const info = this.st.insert.run(
          stream.id,
          def.name,
          JSON.stringify(def.types),
          def.leaseMs,
          def.maxDeliveries,
          def.deadLetterStream,
          position,
          position,
          now,
          now,
        );
        if (info.changes === 0) {
          throw new RivuletError('CONSUMER_EXISTS', `stream "${def.stream}" already has a consumer "${def.name}"`, {
            details: { stream: def.stream, consumer: def.name },
          });
        }
        return toRecord(def.stream, this.st.get.get(def.stream, def.name) as ConsumerRow);
      })
      .immediate();
  }

  async get(stream: string, name: string): Promise<ConsumerRecord | null> {
    const row = this.st.get.get(stream, name) as ConsumerRow | undefined;
    return row ? toRecord(stream, row) : null;
  }

  async list(stream: string, options: { after?: string; limit: number }): Promise<ConsumerRecord[]> {
    this.streamRow(stream);
    return (this.st.list.all(stream, options.after ?? '', options.limit) as ConsumerRow[]).map((r) =>
      toRecord(stream, r),
    );
  }

  async delete(stream: string, name: string): Promise<boolean> {
    this.streamRow(stream);
    return this.st.delete.run(stream, name).changes > 0;
  }

  async peek(stream: string, name: string, limit: number): Promise<StoredEvent[]> {
    const c = this.consumerRow(stream, name);
    const out: StoredEvent[] = [];
    for await (const e of this.events.read(stream, { afterSeq: c.committed_seq, types: typesOf(c), limit }))
      out.push(e);
    return out;
  }

  async commit(stream: string, name: string, seq: number, nowMs: number): Promise<ConsumerRecord> {
    return this.db
      .transaction(() => {
        const c = this.consumerRow(stream, name);
        if (seq < c.committed_seq) {
          this.st.dropLeases.run(c.id);
          this.st.setPosition.run(seq, seq, new Date(nowMs).toISOString(), c.id);
        } else {
          this.st.dropLeasesUpTo.run(c.id, seq);
          this.st.setScanned.run(Math.max(c.scanned_seq, seq), c.id);
          this.settle(c.id, nowMs);
        }
        return toRecord(stream, this.consumerRow(stream, name));
      })
      .immediate();
  }

  async receive(
    stream: string,
    name: string,
    options: { max: number; leaseMs: number; clientId: string | null; nowMs: number },
  ): Promise<ReceiveResult> {
    // The events after the scan frontier are read first, on a reader thread; the transaction
    // uses them if the frontier has not moved meanwhile (another receive of the same consumer),
    // and otherwise scans again itself.
    const before = this.consumerRow(stream, name);
    const types = typesOf(before);
    const ahead = await this.events.readJob(stream, {
      op: 'rows',
      query: { stream, afterSeq: before.scanned_seq, types, limit: options.max },
    });
    return this.db
      .transaction(() => {
        const c = this.consumerRow(stream, name);
        const { nowMs, leaseMs, clientId } = options;
        const until = nowMs + leaseMs;
        const result: ReceiveResult = { deliveries: [], exhausted: [] };
        const due = this.st.due.all(c.id, nowMs, options.max) as LeaseRow[];
        for (const row of due) {
          const event = this.eventAt(c.stream_id, stream, row.seq);
          if (!event) {
            // removed by retention while unacknowledged: nothing left to deliver
            this.st.dropLease.run(c.id, row.seq);
            continue;
          }
          const token = newToken(row.seq);
          const firstDeliveredMs = row.first_ms ?? nowMs;
          if (row.deliveries >= c.max_deliveries) {
            this.st.lease.run(row.deliveries, until, token, clientId, firstDeliveredMs, c.id, row.seq);
            result.exhausted.push({
              event,
              deliveries: row.deliveries,
              firstDeliveredMs,
              leaseToken: token,
              leaseExpiresMs: until,
              reason: row.token === null ? 'nacked' : 'lease-expired',
            });
          } else {
            this.st.lease.run(row.deliveries + 1, until, token, clientId, firstDeliveredMs, c.id, row.seq);
            result.deliveries.push({
              event,
              deliveries: row.deliveries + 1,
              firstDeliveredMs,
              leaseToken: token,
              leaseExpiresMs: until,
            });
          }
        }
        const room = options.max - due.length;
        if (room > 0) {
          const fresh = c.scanned_seq === before.scanned_seq && c.id === before.id;
          const rows = fresh
            ? ahead.rows.slice(0, room)
            : (this.scan(types?.length ?? 0).all(c.stream_id, c.scanned_seq, ...(types ?? []), room) as EventRow[]);
          // the end of the log is the one the rows were read from, not a later one
          const lastSeq = fresh ? ahead.lastSeq : (this.st.lastSeq.get(c.stream_id) as { last_seq: number }).last_seq;
          for (const row of rows) {
            const token = newToken(row.seq);
            this.st.newLease.run(c.id, row.seq, until, token, clientId, nowMs);
            result.deliveries.push({
              event: toEvent(stream, row),
              deliveries: 1,
              firstDeliveredMs: nowMs,
              leaseToken: token,
              leaseExpiresMs: until,
            });
          }
          // a short page means the log was read to its end; the frontier can move past skipped types
          const scanned = rows.length === room ? rows[rows.length - 1]!.seq : lastSeq;
          if (scanned > c.scanned_seq) {
            this.st.setScanned.run(scanned, c.id);
            this.settle(c.id, nowMs);
          }
        }
        result.deliveries.sort((a, b) => a.event.seq - b.event.seq);
        return result;
      })
      .immediate();
  }

  async ack(stream: string, name: string, tokens: string[], nowMs: number): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, nowMs, (id, seq) => {
      this.st.dropLease.run(id, seq);
    });
  }

  async nack(stream: string, name: string, tokens: string[], delayMs: number, nowMs: number): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, nowMs, (id, seq) => {
      this.st.giveBack.run(nowMs + delayMs, 0, id, seq);
    });
  }

  async release(stream: string, name: string, tokens: string[], nowMs: number): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, nowMs, (id, seq) => {
      this.st.giveBack.run(nowMs, 1, id, seq);
    });
  }

  async extend(
    stream: string,
    name: string,
    tokens: string[],
    leaseMs: number,
    nowMs: number,
  ): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, nowMs, (id, seq) => {
      this.st.extend.run(nowMs + leaseMs, id, seq);
    });
  }

  async seek(stream: string, name: string, start: StartPosition, nowMs: number): Promise<ConsumerRecord> {
    this.consumerRow(stream, name);
    const atTime = await this.timePosition(stream, start);
    return this.db
      .transaction(() => {
        const c = this.consumerRow(stream, name);
        const position = atTime ?? this.positionOf(this.streamRow(stream), start);
        this.st.dropLeases.run(c.id);
        this.st.setPosition.run(position, position, new Date(nowMs).toISOString(), c.id);
        return toRecord(stream, this.consumerRow(stream, name));
      })
      .immediate();
  }

  async lag(stream: string, name: string, nowMs: number): Promise<ConsumerLag> {
    const c = this.consumerRow(stream, name);
    // counting the pending events walks them all: on a reader thread
    const counted = await this.events.readJob(stream, {
      op: 'count',
      stream,
      afterSeq: c.committed_seq,
      types: typesOf(c),
    });
    const leased = this.st.leased.get(c.id, nowMs) as { n: number };
    return {
      committedSeq: c.committed_seq,
      lastSeq: counted.lastSeq,
      pending: counted.n,
      leased: leased.n,
      oldestUnackedMs: counted.oldest,
    };
  }

  /** applies `change` to each lease its token still holds, in one transaction */
  private settleTokens(
    stream: string,
    name: string,
    tokens: string[],
    nowMs: number,
    change: (consumerId: number, seq: number) => void,
  ): LeaseOutcome[] {
    return this.db
      .transaction(() => {
        const c = this.consumerRow(stream, name);
        const out = tokens.map((token): LeaseOutcome => {
          const seq = seqOfToken(token);
          if (seq === null) return 'not-held';
          const row = this.st.leaseOf.get(c.id, seq) as { token: string | null } | undefined;
          if (!row || row.token !== token) return 'not-held';
          change(c.id, seq);
          return 'ok';
        });
        this.settle(c.id, nowMs);
        return out;
      })
      .immediate();
  }

  /** moves the committed position up to just before the oldest unacknowledged event */
  private settle(consumerId: number, nowMs: number): void {
    this.st.settle.run(new Date(nowMs).toISOString(), consumerId);
  }

  private positionOf(stream: { id: number; last_seq: number }, start: StartPosition): number {
    switch (start.from) {
      case 'beginning':
        return 0;
      case 'end':
        return stream.last_seq;
      case 'seq':
        return Math.max(0, start.seq - 1);
      case 'time':
        // read beforehand on a reader thread (timePosition)
        throw new Error('a position by time is read before the transaction');
    }
  }

  /** for a start by time, the position before the first event at or after it (a range scan, so on a reader thread) */
  private async timePosition(stream: string, start: StartPosition): Promise<number | null> {
    if (start.from !== 'time') return null;
    return (await this.events.seqAtTime(stream, start.timeMs)) - 1;
  }

  private eventAt(streamId: number, stream: string, seq: number): StoredEvent | null {
    const row = this.st.eventAt.get(streamId, seq) as EventRow | undefined;
    return row ? toEvent(stream, row) : null;
  }

  private scan(typeCount: number): Statement {
    let st = this.scans.get(typeCount);
    if (!st) {
      const filter = typeCount > 0 ? ` AND type IN (${new Array(typeCount).fill('?').join(', ')})` : '';
      st = this.db.prepare(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND seq > ?${filter} ORDER BY seq LIMIT ?`,
      );
      this.scans.set(typeCount, st);
    }
    return st;
  }

  private streamRow(name: string): { id: number; last_seq: number } {
    const row = this.st.stream.get(name) as { id: number; last_seq: number } | undefined;
    if (!row)
      throw new RivuletError('STREAM_NOT_FOUND', `stream "${name}" does not exist`, { details: { stream: name } });
    return row;
  }

  private consumerRow(stream: string, name: string): ConsumerRow {
    const row = this.st.get.get(stream, name) as ConsumerRow | undefined;
    if (row) return row;
    this.streamRow(stream);
    throw new RivuletError('CONSUMER_NOT_FOUND', `stream "${stream}" has no consumer "${name}"`, {
      details: { stream, consumer: name },
    });
  }
}

function typesOf(c: ConsumerRow): string[] | undefined {
  const types = JSON.parse(c.types) as string[];
  return types.length > 0 ? types : undefined;
}

const TOKEN_BYTES = 12;
let tokenPool: Buffer | null = null;
let tokenPoolAt = 0;

/** `<seq>.<random>`: the seq finds the lease, the random part proves it is this delivery's */
function newToken(seq: number): string {
  // drawn from a pool of CSPRNG bytes refilled 4 KiB at a time: a call into the generator per
  // token cost more than the rest of leasing the event
  if (tokenPool === null || tokenPoolAt + TOKEN_BYTES > tokenPool.length) {
    tokenPool ??= Buffer.allocUnsafe(4096);
    randomFillSync(tokenPool);
    tokenPoolAt = 0;
  }
  const random = tokenPool.toString('base64url', tokenPoolAt, tokenPoolAt + TOKEN_BYTES);
  tokenPoolAt += TOKEN_BYTES;
  return `${seq}.${random}`;
}

function seqOfToken(token: string): number | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const seq = Number(token.slice(0, dot));
  return Number.isSafeInteger(seq) && seq > 0 ? seq : null;
}

function toRecord(stream: string, row: ConsumerRow): ConsumerRecord {
  return {
    name: row.name,
    stream,
    types: JSON.parse(row.types) as string[],
    leaseMs: row.lease_ms,
    maxDeliveries: row.max_deliveries,
    deadLetterStream: row.dead_letter_stream,
    committedSeq: row.committed_seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function prepareStatements(db: Database) {
  return {
    stream: db.prepare('SELECT id, last_seq FROM streams WHERE name = ?'),
    lastSeq: db.prepare('SELECT last_seq FROM streams WHERE id = ?'),
    eventAt: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND seq = ?`),
    insert: db.prepare(
      `INSERT INTO consumers (stream_id, name, types, lease_ms, max_deliveries, dead_letter_stream, committed_seq, scanned_seq, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stream_id, name) DO NOTHING`,
    ),
    get: db.prepare(
      `SELECT ${CONSUMER_COLUMNS} FROM consumers c JOIN streams s ON s.id = c.stream_id WHERE s.name = ? AND c.name = ?`,
    ),
    list: db.prepare(
      `SELECT ${CONSUMER_COLUMNS} FROM consumers c JOIN streams s ON s.id = c.stream_id WHERE s.name = ? AND c.name > ? ORDER BY c.name LIMIT ?`,
    ),
    delete: db.prepare('DELETE FROM consumers WHERE stream_id = (SELECT id FROM streams WHERE name = ?) AND name = ?'),
    setPosition: db.prepare('UPDATE consumers SET committed_seq = ?, scanned_seq = ?, updated_at = ? WHERE id = ?'),
    setScanned: db.prepare('UPDATE consumers SET scanned_seq = ? WHERE id = ?'),
    settle: db.prepare(
      `UPDATE consumers SET updated_at = ?,
         committed_seq = COALESCE((SELECT MIN(seq) - 1 FROM consumer_leases WHERE consumer_id = consumers.id), scanned_seq)
       WHERE id = ?`,
    ),
    due: db.prepare(
      'SELECT seq, deliveries, token, first_ms FROM consumer_leases WHERE consumer_id = ? AND visible_ms <= ? ORDER BY seq LIMIT ?',
    ),
    lease: db.prepare(
      'UPDATE consumer_leases SET deliveries = ?, visible_ms = ?, token = ?, client_id = ?, first_ms = ? WHERE consumer_id = ? AND seq = ?',
    ),
    newLease: db.prepare(
      'INSERT INTO consumer_leases (consumer_id, seq, deliveries, visible_ms, token, client_id, first_ms) VALUES (?, ?, 1, ?, ?, ?, ?)',
    ),
    leaseOf: db.prepare('SELECT token FROM consumer_leases WHERE consumer_id = ? AND seq = ?'),
    dropLease: db.prepare('DELETE FROM consumer_leases WHERE consumer_id = ? AND seq = ?'),
    dropLeases: db.prepare('DELETE FROM consumer_leases WHERE consumer_id = ?'),
    dropLeasesUpTo: db.prepare('DELETE FROM consumer_leases WHERE consumer_id = ? AND seq <= ?'),
    giveBack: db.prepare(
      'UPDATE consumer_leases SET visible_ms = ?, token = NULL, client_id = NULL, deliveries = deliveries - ? WHERE consumer_id = ? AND seq = ?',
    ),
    extend: db.prepare('UPDATE consumer_leases SET visible_ms = ? WHERE consumer_id = ? AND seq = ?'),
    leased: db.prepare(
      'SELECT COUNT(*) AS n FROM consumer_leases WHERE consumer_id = ? AND token IS NOT NULL AND visible_ms > ?',
    ),
  };
}
