/**
 * A nats reader thread: a connection of its own to the cluster, answering whole pages. It
 * reads a page by batches of one short-lived consumer (nats-event-scan.ts), decodes each
 * message and writes the page's bytes, which move to the event loop without a copy. Reads
 * then neither decode nor render on the event loop, nor queue their messages on the socket
 * that carries the writers' acknowledgements.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { eventJson, eventJsonOfTexts } from '../../kernel/event-json.js';
import { errorToWire } from '../thread-wire.js';
import { dialNats } from './nats-connection.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import { bodyTexts, type BodyTexts } from './nats-body-text.js';
import { decodeEvent, typeSeqOf, type RawMessage } from './nats-event-codec.js';
import { NatsEventScan } from './nats-event-scan.js';
import { NatsNames } from './nats-names.js';
import { NatsPageReader } from './nats-page-reader.js';
import type {
  FromNatsReader,
  NatsReaderSettings,
  NatsReadJob,
  NatsReadResult,
  ToNatsReader,
} from './nats-reader-wire.js';
import type { PageQuery } from '../thread-wire.js';

/** a page buffer kept between pages is at most this large, and at most this many are kept */
const KEEP_OUT_BYTES = 8 * 1024 * 1024;
const KEEP_SPARES = 4;
/** room left around a JSON page for the native API's frame (as the SQLite reader threads leave) */
const SPARE_BEFORE = 16;
const SPARE_AFTER = 256;
/** how long a closing thread waits for its connection to drain */
const CLOSE_WAIT_MS = 2000;
/** as the SQLite store's reader threads: reads yield the CPU to the event loop */
const NICENESS = 10;

async function run(channel: NonNullable<typeof parentPort>, settings: NatsReaderSettings): Promise<void> {
  const send = (message: FromNatsReader, transfer?: ArrayBuffer[]) => channel.postMessage(message, transfer);
  let nc: NatsConnection;
  let reader: PageReader;
  try {
    nc = await dialNats({
      ...settings.connection,
      name: `${settings.connection.name ?? `rivulet-${process.pid}`}-reader`,
    });
    const pages = new NatsPageReader(nc);
    pages.start();
    reader = new PageReader(
      new NatsEventScan(await jetstreamManager(nc), new NatsNames(settings.prefix), pages),
      pages,
    );
  } catch (err) {
    send({ kind: 'open-failed', error: errorToWire(err) });
    return;
  }
  if (process.platform === 'linux') {
    try {
      setPriority(NICENESS);
    } catch {
      // not permitted here: reads then compete at the same priority
    }
  }
  const running = new Set<Promise<void>>();
  send({ kind: 'ready' });
  channel.on('message', (m: ToNatsReader) => {
    if ('close' in m) {
      void Promise.allSettled([...running]).then(async () => {
        reader.stop();
        // a cluster that stopped answering must not hold the store's close
        const late = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref());
        await Promise.race([nc.drain().catch(() => {}), late]);
        await nc.close().catch(() => {});
        channel.close();
      });
      return;
    }
    const job = reader.run(m.job).then(
      (result) => send({ id: m.id, ok: true, result }, transferable(result)),
      (err: unknown) => send({ id: m.id, ok: false, error: errorToWire(err) }),
    );
    running.add(job);
    void job.finally(() => running.delete(job));
  });
}

/** the buffers a result hands over rather than copies */
function transferable(result: NatsReadResult): ArrayBuffer[] {
  if (result.op === 'texts')
    return [result.bytes.buffer as ArrayBuffer, result.ends.buffer as ArrayBuffer, result.seqs.buffer as ArrayBuffer];
  return [result.bytes.buffer as ArrayBuffer];
}

/** an event of a page, as much of it as the page needs */
interface PageEvent {
  readonly seq: number;
  readonly type: string;
  time(): string;
  /** the native API's answer */
  json(): string;
  /** its data as JSON text */
  data(): string;
}

/** receive times as the answer writes them; consecutive messages often share a millisecond */
class ReceivedTimes {
  private ms = Number.NaN;
  private text = '';

  of(ms: number): string {
    if (ms !== this.ms) {
      this.ms = ms;
      this.text = `"${new Date(ms).toISOString()}"`;
    }
    return this.text;
  }
}

/** a message whose body's fields are spliced into the answer */
class SplicedEvent implements PageEvent {
  readonly seq: number;

  constructor(
    private readonly stream: string,
    private readonly m: RawMessage,
    private readonly t: BodyTexts,
    readonly type: string,
    private readonly received: ReceivedTimes,
  ) {
    this.seq = m.seq;
  }

  time(): string {
    return JSON.parse(this.t.time) as string;
  }

  json(): string {
    const t = this.t;
    return eventJsonOfTexts({
      id: t.id,
      stream: this.stream,
      seq: this.m.seq,
      typeSeq: typeSeqOf(this.m.header),
      type: t.type,
      source: t.source,
      time: t.time,
      received: this.received.of(this.m.receivedMs),
      producer: t.producer,
      dataJson: t.data,
      metaJson: t.meta,
      schemaVersion: t.schemaVersion,
    });
  }

  data(): string {
    return this.t.data;
  }
}

/** a message decoded whole (a body of another shape) */
class DecodedEvent implements PageEvent {
  readonly seq: number;
  readonly type: string;

  constructor(private readonly e: StoredEvent) {
    this.seq = e.seq;
    this.type = e.type;
  }

  time(): string {
    return this.e.time;
  }

  json(): string {
    return eventJson(this.e);
  }

  data(): string {
    return JSON.stringify(this.e.data) ?? 'null';
  }
}

class PageReader {
  /**
   * Buffers pages are written in, kept between pages: a page takes one for itself (several
   * pages are read at once, each between its own awaits) and gives it back when handed over.
   */
  private readonly spares: Buffer[] = [];
  /** types' names by their JSON text */
  private readonly types = new Map<string, string>();
  private readonly received = new ReceivedTimes();

  constructor(
    private readonly scan: NatsEventScan,
    private readonly pages: NatsPageReader,
  ) {}

  stop(): void {
    this.pages.stop();
  }

  run(job: NatsReadJob): Promise<NatsReadResult> {
    switch (job.op) {
      case 'json':
        return this.json(job.query);
      case 'data':
        return this.data(job.query, job.maxBytes);
      case 'texts':
        return this.texts(job.query, job.maxBytes, job.types);
    }
  }

  /**
   * The events matching the query in seq order, at most `limit + extra` (one past the limit
   * says whether more follows). One type is a subject filter the server applies; several, and
   * times, are filtered here, as the event log's `read` does.
   */
  private async *events(q: PageQuery, extra: number): AsyncIterable<PageEvent> {
    const names = this.scan.names;
    const types = q.types && q.types.length > 0 ? new Set(q.types) : null;
    const filter = types?.size === 1 ? names.typeFilter(q.stream, [...types][0]!) : names.streamSubjects(q.stream);
    const exact = (!types || types.size === 1) && q.fromTimeMs === undefined && q.toTimeMs === undefined;
    const want = q.limit + extra;
    const stream = JSON.stringify(q.stream);
    let n = 0;
    if (want <= 0) return;
    for await (const batch of this.scan.batches(q.stream, q.afterSeq + 1, filter, exact ? want : undefined)) {
      for (const m of batch) {
        const e = this.pageEvent(q.stream, stream, m);
        if (types && !types.has(e.type)) continue;
        if (q.fromTimeMs !== undefined || q.toTimeMs !== undefined) {
          const time = Date.parse(e.time());
          if (q.fromTimeMs !== undefined && time < q.fromTimeMs) continue;
          if (q.toTimeMs !== undefined && time > q.toTimeMs) continue;
        }
        yield e;
        if (++n >= want) return;
      }
    }
  }

  /** a message's fields spliced as stored where its body has the usual shape, else decoded */
  private pageEvent(name: string, stream: string, m: RawMessage): PageEvent {
    const body = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8');
    const t = bodyTexts(body);
    return t
      ? new SplicedEvent(stream, m, t, this.typeOf(t.type), this.received)
      : new DecodedEvent(decodeEvent(name, m));
  }

  /** a type's name from its JSON text: a stream has few types, so each is parsed once */
  private typeOf(text: string): string {
    let type = this.types.get(text);
    if (type === undefined) {
      if (this.types.size >= 1024) this.types.clear();
      type = JSON.parse(text) as string;
      this.types.set(text, type);
    }
    return type;
  }

  /**
   * Each answer is written into the page's buffer as it is rendered (a page joined as one string
   * first would be a string of hundreds of KiB, allocated where the collector scans it again);
   * the page moves out with room around it for the API's frame.
   */
  private async json(q: PageQuery): Promise<NatsReadResult> {
    let out = this.spares.pop() ?? Buffer.allocUnsafe(64 * 1024);
    let bytes = 0;
    let count = 0;
    let lastEventSeq = q.afterSeq;
    for await (const e of this.events(q, 0)) {
      const text = e.json();
      if (out.length - bytes < text.length * 3 + 1) out = grow(out, bytes + text.length * 3 + 1);
      if (count > 0) out[bytes++] = 0x2c;
      bytes += out.write(text, bytes);
      count++;
      lastEventSeq = e.seq;
    }
    // a buffer of its own (never the shared pool's, it is transferred), with room around the text
    const page = new Uint8Array(SPARE_BEFORE + bytes + SPARE_AFTER);
    page.set(out.subarray(0, bytes), SPARE_BEFORE);
    this.keep(out);
    return {
      op: 'json',
      bytes: new Uint8Array(page.buffer, SPARE_BEFORE, bytes),
      spare: { before: SPARE_BEFORE, after: SPARE_AFTER },
      count,
      lastEventSeq,
    };
  }

  /** as the SQLite reader threads' `data`: each event counted with a byte for its separator */
  private async data(q: PageQuery, maxBytes: number): Promise<NatsReadResult> {
    let out = this.spares.pop() ?? Buffer.allocUnsafe(64 * 1024);
    let bytes = 0;
    let count = 0;
    let more = false;
    let lastEventSeq = q.afterSeq;
    for await (const e of this.events(q, 1)) {
      if (count === q.limit || bytes >= maxBytes) {
        more = true;
        break;
      }
      const text = e.data();
      if (out.length - bytes < text.length * 3 + 1) out = grow(out, bytes + text.length * 3 + 1);
      if (count > 0) out[bytes - 1] = 0x2c;
      bytes += out.write(text, bytes) + 1;
      count++;
      lastEventSeq = e.seq;
    }
    return { op: 'data', bytes: this.handOver(out, Math.max(0, bytes - 1)), count, lastEventSeq, more };
  }

  /** as the SQLite reader threads' `texts`: the events' answers one after another, with where each ends */
  private async texts(q: PageQuery, maxBytes: number, withTypes: boolean): Promise<NatsReadResult> {
    const ends: number[] = [];
    const seqs: number[] = [];
    const types: string[] | null = withTypes ? [] : null;
    let out = this.spares.pop() ?? Buffer.allocUnsafe(64 * 1024);
    let bytes = 0;
    let more = false;
    for await (const e of this.events(q, 1)) {
      if (seqs.length === q.limit || (seqs.length > 0 && bytes >= maxBytes)) {
        more = true;
        break;
      }
      const text = e.json();
      if (out.length - bytes < text.length * 3) out = grow(out, bytes + text.length * 3);
      bytes += out.write(text, bytes);
      ends.push(bytes);
      seqs.push(e.seq);
      types?.push(e.type);
    }
    return {
      op: 'texts',
      bytes: this.handOver(out, bytes),
      ends: Uint32Array.from(ends),
      seqs: Float64Array.from(seqs),
      types,
      lastEventSeq: seqs.length > 0 ? seqs[seqs.length - 1]! : q.afterSeq,
      more,
    };
  }

  /** the first `length` bytes of a page, copied out to be handed over; the buffer is kept unless a page made it large */
  private handOver(out: Buffer, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    bytes.set(out.subarray(0, length));
    this.keep(out);
    return bytes;
  }

  private keep(out: Buffer): void {
    if (out.length <= KEEP_OUT_BYTES && this.spares.length < KEEP_SPARES) this.spares.push(out);
  }
}

/** a larger buffer holding what `out` held */
function grow(out: Buffer, atLeast: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(atLeast, out.length * 2));
  out.copy(bigger);
  return bigger;
}

// last, so the classes above are initialised before the thread starts answering
const port = parentPort;
if (port) void run(port, workerData as NatsReaderSettings);
