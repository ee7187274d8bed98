/**
 * The nats store: Rivulet on a NATS JetStream cluster, shared by any number of stateless
 * Rivulet processes. Streams' events are JetStream streams; settings, documents,
 * idempotency keys and consumer state are KV buckets; appends are announced on a core-NATS
 * subject so every process's live subscriptions follow every other's writes, and document
 * changes are followed through KV watches so every process's caches of keys and schemas drop
 * what another process changed.
 * The mapping of each port concept, and what an acknowledged produce means, is in
 * docs/store-nats.md.
 */
import {
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { RivuletError, isRivuletError } from '../../kernel/errors.js';
import type { ReaderStats, Store, StoreCapabilities, StoreHealth } from '../port.js';
import { JsonBucket } from './kv-json.js';
import { dialNats, type NatsStoreOptions } from './nats-connection.js';
import { NatsConsumerStore } from './nats-consumer-store.js';
import { NatsDocumentStore } from './nats-document-store.js';
import { NatsEventLog } from './nats-event-log.js';
import { NatsNames } from './nats-names.js';
import { NatsStreamCatalog } from './nats-stream-catalog.js';
import type { NatsReaders, NatsReadJob, NatsReadResult, NatsReaderSettings } from './nats-reader-wire.js';
import { ReaderThreads, rivuletFromWire } from '../reader-threads.js';
import { spawnStoreThread } from '../store-thread.js';

const HEALTH_TIMEOUT_MS = 2000;
/**
 * Pages one reader thread reads at once: each is mostly a wait on the cluster. More threads or
 * more pages at once read faster but load nats-server, which the appends need as well: two
 * threads at four each took single-event produce beside 1000-event readers from 0.6× of alone
 * to 0.1× (docs/benchmarks.md, reads-nats).
 */
const READS_PER_THREAD = 4;
/**
 * The NATS client allocates several objects per message: with the 4 MiB young generation of
 * the SQLite threads, collection took a third of the thread's time; 16 MiB read ~20 % more.
 */
const READER_LIMITS = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 512 };
/** how long closing waits for the cluster before it lets go of the connection */
const CLOSE_WAIT_MS = 10_000;
/** the one key every process's readiness probe overwrites */
const READINESS_KEY = '_readiness';

export class NatsStore implements Store {
  readonly kind = 'nats';
  readonly capabilities: StoreCapabilities = {
    crossProcessWatch: true,
    timeIndex: false,
    multiProcess: true,
    documentWatch: true,
    // set once the reader threads are up (`readerThreads` > 0)
    eventJson: false,
  };
  private nc!: NatsConnection;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private catalog!: NatsStreamCatalog;
  private eventLog!: NatsEventLog;
  private docs!: NatsDocumentStore;
  /** where readiness writes its probe */
  private probeBucket!: JsonBucket;
  private consumerStore!: NatsConsumerStore;
  private readers: NatsReaders | null = null;
  private closed: Promise<void> | null = null;
  readonly names: NatsNames;

  constructor(private readonly options: NatsStoreOptions) {
    this.names = new NatsNames(options.prefix ?? 'rivulet');
  }

  get streams(): NatsStreamCatalog {
    return this.catalog;
  }
  get events(): NatsEventLog {
    return this.eventLog;
  }
  get documents(): NatsDocumentStore {
    return this.docs;
  }
  get consumers(): NatsConsumerStore {
    return this.consumerStore;
  }

  /**
   * Dials the cluster and sets up the buckets. A cluster that cannot be reached or does not
   * answer in time is STORE_UNAVAILABLE (the caller may try again); refused credentials are
   * not, since trying again cannot help.
   */
  async open(): Promise<void> {
    try {
      this.nc = await dialNats(this.options);
    } catch (err) {
      throw unavailable(err, `cannot reach the nats cluster at ${this.options.servers.join(', ')}`);
    }
    try {
      this.js = jetstream(this.nc, { timeout: 10_000 });
      this.jsm = await jetstreamManager(this.nc, { timeout: 10_000 });
      const replicas = this.options.replicas ?? 1;
      const kvm = new Kvm(this.js);
      const bucket = async (kind: 'streams' | 'docs' | 'idem' | 'consumers'): Promise<JsonBucket> => {
        const name = this.names.bucket(kind);
        const kv = await kvm.create(name, { history: 1, replicas, storage: StorageType.File });
        // the same bucket read through its leader: what a read-your-writes read falls back on
        return new JsonBucket(kv, await kvm.open(name, { allow_direct: false }), {
          name,
          js: this.js,
          jsm: this.jsm,
          replicas,
        });
      };
      const [streams, docs, idem, consumers] = await Promise.all([
        bucket('streams'),
        bucket('docs'),
        bucket('idem'),
        bucket('consumers'),
      ]);
      const windowMs = this.options.idempotencyWindowMs ?? 24 * 3600_000;
      this.catalog = new NatsStreamCatalog({
        bucket: streams,
        jsm: this.jsm,
        names: this.names,
        replicas,
        duplicateWindowMs: windowMs,
        onDeleted: async (name) => {
          this.eventLog.forget(name);
          await Promise.all([this.eventLog.forgetKeysOf(name), this.consumerStore.forgetStream(name)]);
        },
      });
      this.readers = await this.startReaders();
      this.eventLog = new NatsEventLog({
        readers: this.readers,
        nc: this.nc,
        jsm: this.jsm,
        names: this.names,
        catalog: this.catalog,
        idem,
        idempotencyWindowMs: windowMs,
        retryForMs: 30_000,
      });
      this.docs = new NatsDocumentStore(docs);
      this.probeBucket = docs;
      // changes made while the connection was down may reach the watches late
      void (async () => {
        for await (const s of this.nc.status()) {
          if (s.type !== 'reconnect') continue;
          this.docs.resync();
          this.catalog.resync();
        }
      })().catch(() => {});
      this.consumerStore = new NatsConsumerStore(consumers, this.catalog, this.eventLog, this.jsm, this.names);
      this.catalog.start();
      this.eventLog.start();
      await this.nc.flush();
    } catch (err) {
      await this.readers?.close();
      this.readers = null;
      await this.nc.close().catch(() => {});
      throw unavailable(err, 'the nats cluster did not set up the store in time');
    }
  }

  /**
   * Threads that read whole pages on connections of their own (nats-reader-worker.ts): a page
   * is decoded and rendered there, and its messages do not queue on the connection that
   * carries the appends' acknowledgements. A thread mostly waits on the network, so each runs
   * a few pages at once.
   */
  private async startReaders(): Promise<NatsReaders | null> {
    const size = this.options.readerThreads ?? 1;
    if (size <= 0) return null;
    const settings: NatsReaderSettings = { connection: this.options, prefix: this.names.prefix };
    const readers = await ReaderThreads.start<NatsReadJob, NatsReadResult>({
      spawn: () => spawnStoreThread(import.meta.url, 'nats-reader-worker', settings, READER_LIMITS),
      size,
      perThread: READS_PER_THREAD,
      fromWire: (error) =>
        rivuletFromWire(
          error,
          (original) =>
            new RivuletError('STORE_UNAVAILABLE', `the nats cluster did not answer a read: ${original.message}`, {
              retryAfter: 1,
            }),
        ),
    });
    this.capabilities.eventJson = true;
    return readers;
  }

  readerStats(): ReaderStats | null {
    return this.readers?.stats ?? null;
  }

  async health(): Promise<StoreHealth> {
    // a probe answers within a load balancer's health-check timeout, even on a stalled cluster
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the nats cluster did not answer within ${HEALTH_TIMEOUT_MS} ms`)),
        HEALTH_TIMEOUT_MS,
      );
    });
    try {
      const info = await Promise.race([this.jsm.getAccountInfo(), late]);
      // a real (tiny, overwritten) write: JetStream out of storage refuses it, so readiness is
      // off while writes fail and back as soon as one succeeds, as on the sqlite store
      await Promise.race([this.probeBucket.put(READINESS_KEY, { at: Date.now() }), late]);
      return { ok: true, detail: `nats ${this.nc.getServer()} streams=${info.streams}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits for in-flight writes and hands back what the process holds on the cluster, for at most
   * CLOSE_WAIT_MS: a cluster that stopped answering (paused, partitioned) must not keep a
   * process from exiting, so the connection is then closed without draining.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (!this.nc) return;
      const graceful = (async () => {
        await Promise.all([this.eventLog?.drain(), this.consumerStore?.close(), this.readers?.close()]);
        // their consumers go with them, rather than linger on the server
        await Promise.all([this.catalog?.stop(), this.docs?.stopWatches()]);
        if (!this.nc.isClosed()) await this.nc.drain();
      })().catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
      });
      await Promise.race([graceful, late]);
      clearTimeout(timer);
      if (!this.nc.isClosed()) await this.nc.close().catch(() => {});
      await this.readers?.close();
    })();
    return this.closed;
  }
}

/** A failure to reach or set up the cluster, as the error the runtime retries on. */
function unavailable(err: unknown, what: string): unknown {
  if (isRivuletError(err)) return err;
  const message = (err as Error | null)?.message ?? String(err);
  // refused credentials or permissions: retrying cannot help, so it stays a start-up failure
  if (/authorization|authentication|permissions violation/i.test(message)) return err;
  return new RivuletError('STORE_UNAVAILABLE', `${what}: ${message}`, { cause: err, retryAfter: 5 });
}
