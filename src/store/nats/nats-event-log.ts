/**
 * The event log on JetStream: appends through one StreamWriter per stream (see
 * nats-stream-writer.ts), reads and lookups with the stream's message-get API (served by the
 * stream leader, so a read after an ack sees the write; types and ids as subject filters), retention by purging a prefix, and cross-process watch over a core-NATS notify
 * subject that every writer announces its new last seq on.
 */
import { EventEmitter } from 'node:events';
import { type JetStreamManager } from '@nats-io/jetstream';
import { type NatsConnection, type Subscription } from '@nats-io/transport-node';
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
import type { JsonBucket } from './kv-json.js';
import { decodeEvent, encodeBody, type RawMessage } from './nats-event-codec.js';
import { token, type NatsNames } from './nats-names.js';
import type { NatsStreamCatalog } from './nats-stream-catalog.js';
import { writeModeOf, type WriteMode } from '../../kernel/write-mode.js';
import { ConcurrentStreamWriter } from './nats-concurrent-writer.js';
import { StreamWriter } from './nats-stream-writer.js';
import { NatsPageReader } from './nats-page-reader.js';
import { NatsEventScan, notFound, scanPlan, type MessageQuery } from './nats-event-scan.js';
import { PubAckInbox } from './pub-ack-inbox.js';
import { AppendAnnouncer } from './append-announcer.js';
import type { NatsReaders, NatsReadJob, NatsReadResult } from './nats-reader-wire.js';
import { DecodedEvent, PageWriter, type PageEvent, type PageSource } from './nats-pages.js';
import { textPageOf, type PageQuery } from '../thread-wire.js';
import { ReadTurns } from './read-turns.js';

interface IdempotencyRecord {
  hash: string | null;
  createdMs: number;
  /** null while the first request holding the key is still being written */
  result: AppendResult | null;
}

/**
 * How long an append's announcement to other processes may wait for the next chain's socket
 * write (see append-announcer.ts): the cross-process wake-up's added latency at most
 */
const ANNOUNCE_DELAY_MS = 2;

/** events decoded between two turns of the event loop */
const DECODE_SLICE = 64;

export interface EventLogDeps {
  nc: NatsConnection;
  jsm: JetStreamManager;
  names: NatsNames;
  catalog: NatsStreamCatalog;
  idem: JsonBucket;
  idempotencyWindowMs: number;
  /** how long a write keeps retrying through a leader election before it fails */
  retryForMs: number;
  /** reader threads for whole pages (readJson, readData, readTexts); none: pages are read here */
  readers: NatsReaders | null;
}

export class NatsEventLog implements EventLog {
  private readonly writers = new Map<string, StreamWriter | ConcurrentStreamWriter>();
  private readonly emitter = new EventEmitter();
  private notifySub: Subscription | null = null;
  private readonly inbox: PubAckInbox;
  private readonly announcer: AppendAnnouncer;
  private readonly pages: NatsPageReader;
  private readonly scanner: NatsEventScan;
  /** writes pages on the event loop when there is no reader thread */
  private readonly pageWriter = new PageWriter();
  /** appends between their start and their answer: reads step back while there are any */
  private appending = 0;
  private readonly turns = new ReadTurns(() => this.appending > 0);

  constructor(private readonly d: EventLogDeps) {
    this.emitter.setMaxListeners(0);
    this.announcer = new AppendAnnouncer(d.nc, d.names, ANNOUNCE_DELAY_MS);
    this.inbox = new PubAckInbox(d.nc, () => this.announcer.flush());
    this.pages = new NatsPageReader(d.nc);
    this.scanner = new NatsEventScan(d.jsm, d.names, this.pages);
  }

  start(): void {
    this.inbox.start();
    this.pages.start();
    this.notifySub = this.d.nc.subscribe(this.d.names.notifyAll(), {
      callback: (err, msg) => {
        // the connection is dialled with noEcho: our own announcements, emitted here when they
        // were made, do not come back
        if (err) return;
        const seq = Number(msg.string());
        if (Number.isSafeInteger(seq)) this.emitter.emit('append', this.d.names.streamOfNotify(msg.subject), seq);
      },
    });
  }

  async drain(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.idle()));
    this.announcer.stop();
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
        this.announcer.announce(s, seq);
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
    let remaining = query.limit;
    if (remaining <= 0) return;
    const plan = scanPlan(this.d.names, stream, query, remaining);
    for await (const e of this.scan(stream, (query.afterSeq ?? 0) + 1, plan.filter, plan.max)) {
      if (!plan.matches(e.type, () => e.time)) continue;
      yield e;
      if (--remaining === 0) return;
    }
  }

  /**
   * Every event from `fromSeq` on that matches the subject filter, in seq order, at most `max`
   * (nats-event-scan.ts), decoded a slice at a time, each slice on a turn of the event loop
   * shared by all reads (read-turns.ts), so a large page never holds the loop for long and
   * reads, however many, leave room for writes.
   */
  private async *scan(
    stream: string,
    fromSeq: number,
    filter: string,
    max = Number.POSITIVE_INFINITY,
  ): AsyncIterable<StoredEvent> {
    for await (const batch of this.scanner.batches(stream, fromSeq, filter, max)) {
      for (let i = 0; i < batch.length; i++) {
        if (i % DECODE_SLICE === 0) await this.turns.take();
        yield decodeEvent(stream, batch[i]!);
      }
    }
  }

  /**
   * A page as the native API's JSON text, read and written on the reader thread as one job, so
   * the event loop only sends its bytes (`capabilities.eventJson`); without a reader thread,
   * written here from decoded events.
   */
  async *readJson(stream: string, query: ReadQuery): AsyncIterable<EventJsonSlice> {
    const page = await this.readPage(stream, { op: 'json', query: pageQuery(stream, query) });
    if (page.count > 0) yield { bytes: page.bytes, spare: page.spare, count: page.count, lastSeq: page.lastEventSeq };
  }

  /** the data of a page (port.ts `readData`), as `readJson` reads a page */
  async readData(stream: string, query: ReadQuery, maxBytes: number): Promise<EventDataPage> {
    const page = await this.readPage(stream, { op: 'data', query: pageQuery(stream, query), maxBytes });
    return { bytes: page.bytes, count: page.count, lastSeq: page.lastEventSeq, more: page.more };
  }

  /** a page of whole answers with where each ends (port.ts `readTexts`), as `readJson` reads a page */
  async readTexts(
    stream: string,
    query: ReadQuery,
    options: { maxBytes: number; types: boolean },
  ): Promise<EventTextPage> {
    return textPageOf(
      await this.readPage(stream, {
        op: 'texts',
        query: pageQuery(stream, query),
        maxBytes: options.maxBytes,
        types: options.types,
      }),
    );
  }

  private async readPage<Op extends NatsReadJob['op']>(
    stream: string,
    job: Extract<NatsReadJob, { op: Op }>,
  ): Promise<Extract<NatsReadResult, { op: Op }>> {
    if (!(await this.d.catalog.get(stream))) throw notFound(stream);
    if (this.d.readers) return (await this.d.readers.run(job)) as Extract<NatsReadResult, { op: Op }>;
    // without a reader thread: the same page, written here from the events `read` decodes
    const q = job.query;
    const events: PageSource = (extra) => decoded(this.read(stream, { ...q, limit: q.limit + extra }));
    return (await this.pageWriter.write(events, job)) as Extract<NatsReadResult, { op: Op }>;
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

  private state(stream: string) {
    return this.scanner.state(stream);
  }

  private getMessage(stream: string, query: MessageQuery): Promise<RawMessage | null> {
    return this.scanner.getMessage(stream, query);
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

async function* decoded(events: AsyncIterable<StoredEvent>): AsyncIterable<PageEvent> {
  for await (const e of events) yield new DecodedEvent(e);
}

function pageQuery(stream: string, q: ReadQuery): PageQuery {
  return {
    stream,
    afterSeq: q.afterSeq ?? 0,
    ...(q.fromTimeMs === undefined ? {} : { fromTimeMs: q.fromTimeMs }),
    ...(q.toTimeMs === undefined ? {} : { toTimeMs: q.toTimeMs }),
    ...(q.types === undefined ? {} : { types: q.types }),
    limit: q.limit,
  };
}

/** what a message costs in the file store, as JetStream counts a stream's bytes */
function storedSize(m: RawMessage): number {
  const header = m.header ? Buffer.byteLength(m.header.toString()) : 0;
  return 22 + Buffer.byteLength(m.subject ?? '') + header + m.data.byteLength + 8;
}
