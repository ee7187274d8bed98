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
import { errorToWire } from '../thread-wire.js';
import { dialNats } from './nats-connection.js';
import { bodyTexts } from './nats-body-text.js';
import { decodeEvent, type RawMessage } from './nats-event-codec.js';
import { DecodedEvent, PageWriter, ReceivedTimes, SplicedEvent, type PageEvent } from './nats-pages.js';
import { NatsEventScan, scanPlan } from './nats-event-scan.js';
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

class PageReader {
  private readonly writer = new PageWriter();
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
    return this.writer.write((extra) => this.events(job.query, extra), job);
  }

  /**
   * The events matching the query in seq order, at most `limit + extra` (one past the limit
   * says whether more follows). One type is a subject filter the server applies; several, and
   * times, are filtered here, as the event log's `read` does.
   */
  private async *events(q: PageQuery, extra: number): AsyncIterable<PageEvent> {
    const want = q.limit + extra;
    if (want <= 0) return;
    const plan = scanPlan(this.scan.names, q.stream, q, want);
    const stream = JSON.stringify(q.stream);
    let n = 0;
    for await (const batch of this.scan.batches(q.stream, q.afterSeq + 1, plan.filter, plan.max)) {
      for (const m of batch) {
        const e = this.pageEvent(q.stream, stream, m);
        if (!plan.matches(e.type, () => e.time())) continue;
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
}

// last, so the classes above are initialised before the thread starts answering
const port = parentPort;
if (port) void run(port, workerData as NatsReaderSettings);
