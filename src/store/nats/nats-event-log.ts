/**
 * The event log on JetStream: appends through one StreamWriter per stream (see
 * nats-stream-writer.ts), reads and lookups with the stream's message-get API (served by the
 * stream leader, so a read after an ack sees the write; types and ids as subject filters), retention by purging a prefix, and cross-process watch over a core-NATS notify
 * subject that every writer announces its new last seq on.
 */
import { EventEmitter } from 'node:events';
import { type JetStreamManager } from '@nats-io/jetstream';
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { RivuletError } from '../../kernel/errors.js';
import type { AppendResult, StoredEvent } from '../../kernel/envelope.js';
import type { AppendRequest, EventLog, ReadQuery, RetentionPolicy, StreamStats } from '../port.js';
import type { JsonBucket } from './kv-json.js';
import { decodeEvent, encodeBody, type RawMessage } from './nats-event-codec.js';
import { token, type NatsNames } from './nats-names.js';
import type { NatsStreamCatalog } from './nats-stream-catalog.js';
import { writeModeOf, type WriteMode } from '../../kernel/write-mode.js';
import { ConcurrentStreamWriter } from './nats-concurrent-writer.js';
import { isNoStream, StreamWriter } from './nats-stream-writer.js';
import { JetStreamApiError, NatsPageReader } from './nats-page-reader.js';
import { PubAckInbox } from './pub-ack-inbox.js';
import { ReadTurns } from './read-turns.js';

interface IdempotencyRecord {
  hash: string | null;
  createdMs: number;
  /** null while the first request holding the key is still being written */
  result: AppendResult | null;
}

/** events decoded between two turns of the event loop */
const DECODE_SLICE = 64;
/** message gets in flight at once on the fallback path */
const GET_WINDOW = 256;

export interface EventLogDeps {
  nc: NatsConnection;
  jsm: JetStreamManager;
  names: NatsNames;
  catalog: NatsStreamCatalog;
  idem: JsonBucket;
  idempotencyWindowMs: number;
  /** how long a write keeps retrying through a leader election before it fails */
  retryForMs: number;
}

export class NatsEventLog implements EventLog {
  private readonly writers = new Map<string, StreamWriter | ConcurrentStreamWriter>();
  private readonly emitter = new EventEmitter();
  private notifySub: Subscription | null = null;
  private readonly inbox: PubAckInbox;
  /** the reply subject this process's announcements carry, so it can skip them when they come back */
  private readonly origin = createInbox();
  private readonly pages: NatsPageReader;
  /** appends between their start and their answer: reads step back while there are any */
  private appending = 0;
  private readonly turns = new ReadTurns(() => this.appending > 0);

  constructor(private readonly d: EventLogDeps) {
    this.emitter.setMaxListeners(0);
    this.inbox = new PubAckInbox(d.nc);
    this.pages = new NatsPageReader(d.nc);
  }

  start(): void {
    this.inbox.start();
    this.pages.start();
    this.notifySub = this.d.nc.subscribe(this.d.names.notifyAll(), {
      callback: (err, msg) => {
        // our own announcements were emitted here when they were made
        if (err || msg.reply === this.origin) return;
        const seq = Number(msg.string());
        if (Number.isSafeInteger(seq)) this.emitter.emit('append', this.d.names.streamOfNotify(msg.subject), seq);
      },
    });
  }

  async drain(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.idle()));
    this.notifySub?.unsubscribe();
    this.inbox.stop();
    this.pages.stop();
  }

  /** forgets what this process cached about a stream that was deleted */
  forget(stream: string): void {
    this.writers.get(stream)?.reset();
  }

  private writer(stream: string, mode: WriteMode): StreamWriter | ConcurrentStreamWriter {
    let w = this.writers.get(stream);
    // a stream deleted and created again may have changed its mode
    if (!w || w instanceof ConcurrentStreamWriter !== (mode === 'concurrent')) {
      const notify = (s: string, seq: number) => {
        this.d.nc.publish(this.d.names.notifySubject(s), String(seq), { reply: this.origin });
        queueMicrotask(() => this.emitter.emit('append', s, seq));
      };
      w =
        mode === 'concurrent'
          ? new ConcurrentStreamWriter(stream, this.inbox, this.d.jsm, this.d.names, this.d.retryForMs, notify)
          : new StreamWriter(stream, this.inbox, this.d.jsm, this.d.names, this.d.retryForMs, notify);
      this.writers.set(stream, w);
    }
    return w;
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    this.appending++;
    try {
      return await this.appendNow(req);
    } finally {
      this.appending--;
    }
  }

  private async appendNow(req: AppendRequest): Promise<AppendResult> {
    const record = await this.d.catalog.get(req.stream);
    if (!record) throw notFound(req.stream);

    const idemKey = req.idempotencyKey !== undefined ? `${token(req.stream)}.${token(req.idempotencyKey)}` : null;
    if (idemKey !== null) {
      const replay = await this.claimIdempotencyKey(idemKey, req);
      if (replay) return replay;
    }
    try {
      if (record.exclusiveProducer) {
        let holder = record.lockedBy;
        if (holder === null && req.producer !== null) holder = await this.d.catalog.lockFor(req.stream, req.producer);
        if (holder !== null && holder !== req.producer) {
          throw new RivuletError('PRODUCER_LOCKED', `stream "${req.stream}" is exclusive to another producer`, {
            details: { stream: req.stream },
          });
        }
      }
      const bodies = req.events.map(encodeBody);
      const events = await this.writer(req.stream, writeModeOf(record.options)).submit(req.events, bodies);
      const result: AppendResult = { stream: req.stream, events, replayed: false };
      if (idemKey !== null) {
        await this.d.idem.put(idemKey, {
          hash: req.requestHash ?? null,
          createdMs: Date.now(),
          result,
        } satisfies IdempotencyRecord);
      }
      return result;
    } catch (err) {
      if (idemKey !== null) await this.d.idem.delete(idemKey).catch(() => {});
      throw err;
    }
  }

  /**
   * Reserves the key for this request, or answers the earlier request's result. A key being
   * written by another request (here or in another process) is waited for briefly.
   */
  private async claimIdempotencyKey(key: string, req: AppendRequest): Promise<AppendResult | null> {
    for (let i = 0; ; i++) {
      const mine: IdempotencyRecord = { hash: req.requestHash ?? null, createdMs: Date.now(), result: null };
      if ((await this.d.idem.create(key, mine)) !== null) return null;
      const seen = await this.d.idem.get<IdempotencyRecord>(key);
      if (!seen) continue;
      const r = seen.value;
      if (req.requestHash !== undefined && r.hash !== null && r.hash !== req.requestHash) {
        throw new RivuletError(
          'IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key "${req.idempotencyKey}" was used before with a different request`,
        );
      }
      if (r.result) return { ...r.result, replayed: true };
      if (i > 200)
        throw new RivuletError(
          'CONFLICT',
          `a request with Idempotency-Key "${req.idempotencyKey}" is still being written; retry`,
        );
      await new Promise((res) => setTimeout(res, 25));
    }
  }

  watch(listener: (stream: string, lastSeq: number) => void): () => void {
    this.emitter.on('append', listener);
    return () => this.emitter.off('append', listener);
  }

  async *read(stream: string, query: ReadQuery): AsyncIterable<StoredEvent> {
    if (!(await this.d.catalog.get(stream))) throw notFound(stream);
    const types = query.types && query.types.length > 0 ? new Set(query.types) : null;
    // one type is a server-side subject filter; several are filtered here (JetStream 2.9
    // takes one filter subject per consumer)
    const filter =
      types?.size === 1 ? this.d.names.typeFilter(stream, [...types][0]!) : this.d.names.streamSubjects(stream);
    const matches = (e: StoredEvent) =>
      (!types || types.has(e.type)) &&
      (query.fromTimeMs === undefined || Date.parse(e.time) >= query.fromTimeMs) &&
      (query.toTimeMs === undefined || Date.parse(e.time) <= query.toTimeMs);
    let remaining = query.limit;
    if (remaining <= 0) return;
    // with no filtering here, the page's size bounds what the server is asked for
    const exact = (!types || types.size === 1) && query.fromTimeMs === undefined && query.toTimeMs === undefined;
    for await (const e of this.scan(
      stream,
      (query.afterSeq ?? 0) + 1,
      filter,
      exact ? remaining : Number.POSITIVE_INFINITY,
    )) {
      if (!matches(e)) continue;
      yield e;
      if (--remaining === 0) return;
    }
  }

  /**
   * Every event from `fromSeq` on that matches the subject filter, in seq order, at most `max`:
   * batches of one short-lived consumer (nats-page-reader.ts), decoded a slice at a time, each
   * slice on a turn of the event loop shared by all reads (read-turns.ts), so a large page never
   * holds the loop for long and reads, however many, leave room for writes.
   * Should the cluster be unable to create a consumer (a meta leader being elected after a node
   * was lost), the read goes on with message gets, which need only the stream's leader; so
   * does the tail of a read that ended before its limit.
   */
  private async *scan(
    stream: string,
    fromSeq: number,
    filter: string,
    max = Number.POSITIVE_INFINITY,
  ): AsyncIterable<StoredEvent> {
    let next = Math.max(1, fromSeq);
    let left = max;
    try {
      const whole = filter === this.d.names.streamSubjects(stream);
      for await (const batch of this.pages.batches({
        jsStream: this.d.names.jsStream(stream),
        fromSeq: next,
        filter: whole ? null : filter,
        max,
      })) {
        for (let i = 0; i < batch.length; i++) {
          if (i % DECODE_SLICE === 0) await this.turns.take();
          const m = batch[i]!;
          next = m.seq + 1;
          left--;
          yield decodeEvent(stream, m);
        }
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
    yield* this.scanByGets(stream, next, filter, left);
  }

  /** the same by one message-get per event: the fallback while consumers cannot be created */
  private async *scanByGets(stream: string, fromSeq: number, filter: string, max: number): AsyncIterable<StoredEvent> {
    let left = max;
    if (filter === this.d.names.streamSubjects(stream)) {
      const s = await this.state(stream);
      for (let seq = Math.max(fromSeq, s.first_seq, 1); seq <= s.last_seq && left > 0; seq += GET_WINDOW) {
        const seqs = Array.from({ length: Math.min(GET_WINDOW, s.last_seq - seq + 1) }, (_, i) => seq + i);
        const page = await Promise.all(seqs.map((n) => this.getMessage(stream, { seq: n })));
        for (const m of page) {
          if (!m) continue;
          yield decodeEvent(stream, m);
          if (--left <= 0) return;
        }
      }
      return;
    }
    for (let seq = Math.max(1, fromSeq); left > 0;) {
      const m = await this.getMessage(stream, { seq, next_by_subj: filter });
      if (!m) return;
      yield decodeEvent(stream, m);
      left--;
      seq = m.seq + 1;
    }
  }

  /** the events at these seqs (those still stored), in seq order: one read when they are close together */
  async getBySeqs(stream: string, seqs: number[]): Promise<StoredEvent[]> {
    if (seqs.length === 0) return [];
    const sorted = [...new Set(seqs)].sort((a, b) => a - b);
    const lo = sorted[0]!;
    const span = sorted.at(-1)! - lo + 1;
    if (sorted.length > 1 && span <= 4 * sorted.length + 64) {
      const wanted = new Set(sorted);
      const out: StoredEvent[] = [];
      for await (const e of this.scan(stream, lo, this.d.names.streamSubjects(stream), span))
        if (wanted.has(e.seq)) out.push(e);
      return out;
    }
    const found = await Promise.all(sorted.map((seq) => this.getMessage(stream, { seq })));
    return found.filter((m): m is RawMessage => m !== null).map((m) => decodeEvent(stream, m));
  }

  private async getMessage(
    stream: string,
    query: { seq: number } | { seq: number; next_by_subj: string } | { last_by_subj: string },
  ): Promise<RawMessage | null> {
    try {
      const m = await retryThroughElection(() =>
        this.d.jsm.streams.getMessage(this.d.names.jsStream(stream), query as never),
      );
      return m
        ? { seq: m.seq, subject: m.subject, data: m.data, header: m.header, receivedMs: m.time.getTime() }
        : null;
    } catch (err) {
      if (isNoStream(err)) throw notFound(stream);
      throw err;
    }
  }

  async getById(stream: string, id: string): Promise<StoredEvent | null> {
    if (!(await this.d.catalog.get(stream))) throw notFound(stream);
    const m = await this.getMessage(stream, { seq: 1, next_by_subj: this.d.names.idFilter(stream, id) });
    return m ? decodeEvent(stream, m) : null;
  }

  async getBySeq(stream: string, seq: number): Promise<StoredEvent | null> {
    if (!(await this.d.catalog.get(stream))) throw notFound(stream);
    if (!Number.isSafeInteger(seq) || seq < 1) return null;
    const m = await this.getMessage(stream, { seq });
    return m ? decodeEvent(stream, m) : null;
  }

  /**
   * `time` is the producer's timestamp, which need not grow with seq, so this is a scan.
   * (JetStream's start-by-time indexes its own receive time; see docs/store-nats.md.)
   */
  async seqAtTime(stream: string, timeMs: number): Promise<number> {
    const state = await this.state(stream);
    for await (const e of this.scan(stream, state.first_seq, this.d.names.streamSubjects(stream))) {
      if (Date.parse(e.time) >= timeMs) return e.seq;
    }
    return state.last_seq + 1;
  }

  private async state(stream: string) {
    try {
      return (await this.d.jsm.streams.info(this.d.names.jsStream(stream))).state;
    } catch (err) {
      if (isNoStream(err)) throw notFound(stream);
      throw err;
    }
  }

  /** the stream's last seq (0 when nothing was ever written), without reading any event */
  async lastSeq(stream: string): Promise<number> {
    return (await this.state(stream)).last_seq;
  }

  async stats(stream: string): Promise<StreamStats> {
    if (!(await this.d.catalog.get(stream))) throw notFound(stream);
    const s = await this.state(stream);
    if (s.messages === 0)
      return { count: 0, firstSeq: s.last_seq + 1, lastSeq: s.last_seq, firstTime: null, lastTime: null, bytes: 0 };
    const [first, last] = await Promise.all([
      this.getMessage(stream, { seq: s.first_seq }),
      this.getMessage(stream, { seq: s.last_seq }),
    ]);
    return {
      count: s.messages,
      firstSeq: s.first_seq,
      lastSeq: s.last_seq,
      firstTime: first ? decodeEvent(stream, first).time : null,
      lastTime: last ? decodeEvent(stream, last).time : null,
      bytes: s.bytes,
    };
  }

  /**
   * JetStream already enforces the stream's limits (set from its retention); this applies a
   * policy at a given time, as the sweeper and the suite ask, by purging a prefix of seqs.
   */
  async enforceRetention(stream: string, policy: RetentionPolicy, nowMs: number): Promise<number> {
    const s = await this.state(stream);
    if (s.messages === 0) return 0;
    let cut = s.first_seq;
    if (policy.maxEvents != null && s.messages > policy.maxEvents)
      cut = Math.max(cut, s.last_seq - policy.maxEvents + 1);
    if (policy.maxAgeMs != null)
      cut = Math.max(cut, await this.firstReceivedAtOrAfter(stream, s.first_seq, s.last_seq, nowMs - policy.maxAgeMs));
    if (policy.maxBytes != null && s.bytes > policy.maxBytes) {
      let kept = 0;
      let firstKept = s.last_seq + 1;
      for (let seq = s.last_seq; seq >= s.first_seq; seq--) {
        const m = await this.getMessage(stream, { seq });
        if (!m) continue;
        const size = storedSize(m);
        if (kept + size > policy.maxBytes) break;
        kept += size;
        firstKept = seq;
      }
      cut = Math.max(cut, firstKept);
    }
    if (cut <= s.first_seq) return 0;
    const purged = await this.d.jsm.streams.purge(this.d.names.jsStream(stream), { seq: cut });
    return purged.purged;
  }

  /** receive times grow with seq (the server stamps them), so a binary search finds the cut */
  private async firstReceivedAtOrAfter(stream: string, lo: number, hi: number, cutMs: number): Promise<number> {
    let answer = hi + 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const m = await this.getMessage(stream, { seq: mid });
      if (!m || m.receivedMs < cutMs) lo = mid + 1;
      else {
        answer = mid;
        hi = mid - 1;
      }
    }
    return answer;
  }

  async purgeIdempotencyKeys(nowMs: number): Promise<number> {
    let removed = 0;
    for (const key of await this.d.idem.keys()) {
      const r = await this.d.idem.get<IdempotencyRecord>(key);
      if (r && r.value.createdMs < nowMs - this.d.idempotencyWindowMs) {
        await this.d.idem.purge(key, r.revision).catch(() => {});
        removed++;
      }
    }
    return removed;
  }

  /** drops the idempotency keys of a deleted stream */
  async forgetKeysOf(stream: string): Promise<void> {
    for (const key of await this.d.idem.keys(`${token(stream)}.*`)) await this.d.idem.purge(key).catch(() => {});
  }
}

/** what a message costs in the file store, as JetStream counts a stream's bytes */
function storedSize(m: RawMessage): number {
  const header = m.header ? Buffer.byteLength(m.header.toString()) : 0;
  return 22 + Buffer.byteLength(m.subject ?? '') + header + m.data.byteLength + 8;
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

function notFound(stream: string): RivuletError {
  return new RivuletError('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { details: { stream } });
}
