/**
 * Consumers on NATS. Each consumer is one KV entry holding its committed position, how far
 * the leased style has scanned, and a lease per handed-out, unacknowledged event. Every
 * operation is a compare-and-set on that entry's revision, so clients of one consumer on
 * any number of processes never share a lease, and a lease token (`<seq>.<random>`) can be
 * settled through any process. Events are read from the JetStream stream itself.
 *
 * Why not one JetStream durable consumer per Rivulet consumer: the port asks for things a
 * 2.9 consumer cannot answer — a per-receive lease length, `release` that does not count a
 * delivery, `not-held` for a stale token, `peek` without delivering, and several type filters
 * — see docs/store-nats.md.
 */
import { randomBytes } from 'node:crypto';
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
import type { JsonBucket, Versioned } from './kv-json.js';
import { fromToken, token } from './nats-names.js';
import type { NatsEventLog } from './nats-event-log.js';
import type { NatsStreamCatalog } from './nats-stream-catalog.js';

interface Lease {
  seq: number;
  deliveries: number;
  /** the lease (or the event's return to the queue) ends at this time */
  visibleMs: number;
  /** null once given back (nack, release) or never handed out since */
  token: string | null;
  /** when it was first handed out (absent on leases written before this was kept) */
  firstMs?: number;
}

interface State {
  def: ConsumerDefinition;
  committedSeq: number;
  scannedSeq: number;
  createdAt: string;
  updatedAt: string;
  leases: Lease[];
}

type Change<R> = (s: State) => Promise<R> | R;

export class NatsConsumerStore implements ConsumerStore {
  constructor(
    private readonly bucket: JsonBucket,
    private readonly catalog: NatsStreamCatalog,
    private readonly events: NatsEventLog,
  ) {}

  private key(stream: string, name: string): string {
    return `${token(stream)}.${token(name)}`;
  }

  async create(def: ConsumerDefinition, start: StartPosition, nowMs: number): Promise<ConsumerRecord> {
    await this.requireStream(def.stream);
    const position = await this.positionOf(def.stream, start);
    const now = new Date(nowMs).toISOString();
    const state: State = {
      def,
      committedSeq: position,
      scannedSeq: position,
      createdAt: now,
      updatedAt: now,
      leases: [],
    };
    if ((await this.bucket.create(this.key(def.stream, def.name), state)) === null) {
      throw new RivuletError('CONSUMER_EXISTS', `stream "${def.stream}" already has a consumer "${def.name}"`, {
        details: { stream: def.stream, consumer: def.name },
      });
    }
    return toRecord(state);
  }

  async get(stream: string, name: string): Promise<ConsumerRecord | null> {
    const found = await this.bucket.get<State>(this.key(stream, name));
    return found ? toRecord(found.value) : null;
  }

  async list(stream: string, options: { after?: string; limit: number }): Promise<ConsumerRecord[]> {
    await this.requireStream(stream);
    const after = options.after ?? '';
    const names = (await this.bucket.keys(`${token(stream)}.*`))
      .map((k) => fromToken(k.slice(k.indexOf('.') + 1)))
      .filter((n) => n > after)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, options.limit);
    const records = await Promise.all(names.map((n) => this.get(stream, n)));
    return records.filter((r): r is ConsumerRecord => r !== null);
  }

  async delete(stream: string, name: string): Promise<boolean> {
    await this.requireStream(stream);
    // at the revision read, so a read after it sees the delete; a receive or ack that moved the
    // entry on meanwhile only means reading it again
    for (;;) {
      const found = await this.bucket.get<State>(this.key(stream, name));
      if (!found) return false;
      if (await this.bucket.delete(this.key(stream, name), found.revision)) return true;
    }
  }

  /** drops every consumer of a deleted stream */
  async forgetStream(stream: string): Promise<void> {
    for (const key of await this.bucket.keys(`${token(stream)}.*`)) await this.bucket.purge(key).catch(() => {});
  }

  async peek(stream: string, name: string, limit: number): Promise<StoredEvent[]> {
    const { value: c } = await this.state(stream, name);
    return this.readAfter(stream, c, c.committedSeq, limit);
  }

  async commit(stream: string, name: string, seq: number, nowMs: number): Promise<ConsumerRecord> {
    return this.change(stream, name, nowMs, (c) => {
      if (seq < c.committedSeq) {
        c.leases = [];
        c.committedSeq = seq;
        c.scannedSeq = seq;
      } else {
        c.leases = c.leases.filter((l) => l.seq > seq);
        c.scannedSeq = Math.max(c.scannedSeq, seq);
        settle(c);
      }
      return toRecord(c);
    });
  }

  async receive(
    stream: string,
    name: string,
    options: { max: number; leaseMs: number; clientId: string | null; nowMs: number },
  ): Promise<ReceiveResult> {
    const { nowMs, leaseMs, max } = options;
    return this.change(stream, name, nowMs, async (c) => {
      const until = nowMs + leaseMs;
      const result: ReceiveResult = { deliveries: [], exhausted: [] };
      const due = c.leases
        .filter((l) => l.visibleMs <= nowMs)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, max);
      const gone = new Set<number>();
      const dueEvents = new Map(
        (
          await this.events.getBySeqs(
            stream,
            due.map((l) => l.seq),
          )
        ).map((e) => [e.seq, e]),
      );
      for (const lease of due) {
        const event = dueEvents.get(lease.seq);
        if (!event) {
          // removed by retention while unacknowledged: nothing left to deliver
          gone.add(lease.seq);
          continue;
        }
        const leaseToken = newToken(lease.seq);
        const reason = lease.token === null ? 'nacked' : 'lease-expired';
        const firstDeliveredMs = (lease.firstMs ??= nowMs);
        if (lease.deliveries >= c.def.maxDeliveries) {
          result.exhausted.push({
            event,
            deliveries: lease.deliveries,
            firstDeliveredMs,
            leaseToken,
            leaseExpiresMs: until,
            reason,
          });
        } else {
          lease.deliveries++;
          result.deliveries.push({
            event,
            deliveries: lease.deliveries,
            firstDeliveredMs,
            leaseToken,
            leaseExpiresMs: until,
          });
        }
        lease.visibleMs = until;
        lease.token = leaseToken;
      }
      if (gone.size > 0) c.leases = c.leases.filter((l) => !gone.has(l.seq));
      const room = max - due.length;
      if (room > 0) {
        const lastSeq = await this.events.lastSeq(stream);
        const fresh = await this.readAfter(stream, c, c.scannedSeq, room);
        for (const event of fresh) {
          const leaseToken = newToken(event.seq);
          c.leases.push({ seq: event.seq, deliveries: 1, visibleMs: until, token: leaseToken, firstMs: nowMs });
          result.deliveries.push({ event, deliveries: 1, firstDeliveredMs: nowMs, leaseToken, leaseExpiresMs: until });
        }
        // a short page means the log was read to its end; the frontier moves past skipped types
        const scanned =
          fresh.length === room ? fresh[fresh.length - 1]!.seq : Math.max(lastSeq, fresh.at(-1)?.seq ?? 0);
        c.scannedSeq = Math.max(c.scannedSeq, scanned);
      }
      settle(c);
      result.deliveries.sort((a, b) => a.event.seq - b.event.seq);
      return result;
    });
  }

  async ack(stream: string, name: string, tokens: string[], nowMs: number): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, nowMs, (c, lease) => {
      c.leases = c.leases.filter((l) => l !== lease);
    });
  }

  async nack(stream: string, name: string, tokens: string[], delayMs: number, nowMs: number): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, nowMs, (_c, lease) => {
      lease.visibleMs = nowMs + delayMs;
      lease.token = null;
    });
  }

  async release(stream: string, name: string, tokens: string[], nowMs: number): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, nowMs, (_c, lease) => {
      lease.visibleMs = nowMs;
      lease.token = null;
      lease.deliveries--;
    });
  }

  async extend(
    stream: string,
    name: string,
    tokens: string[],
    leaseMs: number,
    nowMs: number,
  ): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, nowMs, (_c, lease) => {
      lease.visibleMs = nowMs + leaseMs;
    });
  }

  async seek(stream: string, name: string, start: StartPosition, nowMs: number): Promise<ConsumerRecord> {
    const position = await this.positionOf(stream, start);
    return this.change(stream, name, nowMs, (c) => {
      c.leases = [];
      c.committedSeq = position;
      c.scannedSeq = position;
      return toRecord(c);
    });
  }

  async lag(stream: string, name: string, nowMs: number): Promise<ConsumerLag> {
    const { value: c } = await this.state(stream, name);
    const stats = await this.events.stats(stream);
    let pending = 0;
    let oldestUnackedMs: number | null = null;
    if (c.def.types.length === 0) {
      pending = Math.max(0, stats.lastSeq - Math.max(c.committedSeq, stats.firstSeq - 1));
      const first = pending > 0 ? await this.readAfter(stream, c, c.committedSeq, 1) : [];
      if (first[0]) oldestUnackedMs = Date.parse(first[0].received);
    } else {
      for await (const e of this.events.read(stream, {
        afterSeq: c.committedSeq,
        types: c.def.types,
        limit: Number.MAX_SAFE_INTEGER,
      })) {
        if (pending === 0) oldestUnackedMs = Date.parse(e.received);
        pending++;
      }
    }
    const leased = c.leases.filter((l) => l.token !== null && l.visibleMs > nowMs).length;
    return { committedSeq: c.committedSeq, lastSeq: stats.lastSeq, pending, leased, oldestUnackedMs };
  }

  private settleTokens(
    stream: string,
    name: string,
    tokens: string[],
    nowMs: number,
    apply: (c: State, lease: Lease) => void,
  ): Promise<LeaseOutcome[]> {
    return this.change(stream, name, nowMs, (c) => {
      const out = tokens.map((t): LeaseOutcome => {
        const seq = seqOfToken(t);
        const lease = seq === null ? undefined : c.leases.find((l) => l.seq === seq);
        if (!lease || lease.token !== t) return 'not-held';
        apply(c, lease);
        return 'ok';
      });
      settle(c);
      return out;
    });
  }

  /** one read-modify-write of the consumer's entry, retried when another process won the race */
  private async change<R>(stream: string, name: string, nowMs: number, fn: Change<R>): Promise<R> {
    return this.bucket.casUpdate<State, R>(this.key(stream, name), async (current) => {
      if (!current) throw await this.missing(stream, name);
      const c = structuredClone(current.value);
      const result = await fn(c);
      c.updatedAt = new Date(nowMs).toISOString();
      return { next: c, result };
    });
  }

  private async state(stream: string, name: string): Promise<Versioned<State>> {
    const found = await this.bucket.get<State>(this.key(stream, name));
    if (!found) throw await this.missing(stream, name);
    return found;
  }

  private async missing(stream: string, name: string): Promise<RivuletError> {
    await this.requireStream(stream);
    return new RivuletError('CONSUMER_NOT_FOUND', `stream "${stream}" has no consumer "${name}"`, {
      details: { stream, consumer: name },
    });
  }

  private async requireStream(stream: string): Promise<void> {
    if (!(await this.catalog.get(stream))) {
      throw new RivuletError('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { details: { stream } });
    }
  }

  private async readAfter(stream: string, c: State, after: number, limit: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    const types = c.def.types.length > 0 ? c.def.types : undefined;
    for await (const e of this.events.read(stream, { afterSeq: after, ...(types ? { types } : {}), limit }))
      out.push(e);
    return out;
  }

  private async positionOf(stream: string, start: StartPosition): Promise<number> {
    switch (start.from) {
      case 'beginning':
        return 0;
      case 'end':
        return (await this.events.stats(stream)).lastSeq;
      case 'seq':
        return Math.max(0, start.seq - 1);
      case 'time':
        return (await this.events.seqAtTime(stream, start.timeMs)) - 1;
    }
  }
}

/** the committed position moves up to just before the oldest event still leased or due */
function settle(c: State): void {
  const oldest = c.leases.reduce((min, l) => Math.min(min, l.seq), Number.POSITIVE_INFINITY);
  c.committedSeq = oldest === Number.POSITIVE_INFINITY ? c.scannedSeq : oldest - 1;
}

/** `<seq>.<random>`: the seq finds the lease, the random part proves it is this delivery's */
function newToken(seq: number): string {
  return `${seq}.${randomBytes(12).toString('base64url')}`;
}

function seqOfToken(t: string): number | null {
  const dot = t.indexOf('.');
  if (dot <= 0) return null;
  const seq = Number(t.slice(0, dot));
  return Number.isSafeInteger(seq) && seq > 0 ? seq : null;
}

function toRecord(c: State): ConsumerRecord {
  return { ...c.def, committedSeq: c.committedSeq, createdAt: c.createdAt, updatedAt: c.updatedAt };
}
