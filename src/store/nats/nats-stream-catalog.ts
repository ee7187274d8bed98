/**
 * The stream catalog on NATS: each Rivulet stream is a record in the `<prefix>_streams` KV
 * bucket (settings, owner, producer lock, version) plus a JetStream stream holding its
 * events. Versions live in the record and every change is a compare-and-set on the KV
 * revision, so two processes updating one stream cannot both win. Records are cached per
 * process and the cache is kept true by watching the bucket, which every process writes to.
 */
import { mapStorageError } from './nats-storage-errors.js';
import {
  DiscardPolicy,
  RetentionPolicy as JsRetention,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { RivuletError } from '../../kernel/errors.js';
import type { RetentionPolicy, StreamCatalog, StreamRecord, StreamSettings } from '../port.js';
import type { JsonBucket } from './kv-json.js';
import { KeyWatch } from './kv-watch.js';
import { fromToken, token, type NatsNames } from './nats-names.js';

export interface CatalogDeps {
  bucket: JsonBucket;
  jsm: JetStreamManager;
  names: NatsNames;
  replicas: number;
  /** JetStream's de-duplication window for `Nats-Msg-Id` */
  duplicateWindowMs: number;
  /** removes what other buckets hold about a deleted stream (consumers, idempotency keys) */
  onDeleted: (name: string) => Promise<void>;
}

export class NatsStreamCatalog implements StreamCatalog {
  private readonly cache = new Map<string, StreamRecord>();
  private watch: KeyWatch | null = null;
  /** counts invalidations, so a read that raced one does not cache what it read before it */
  private drops = 0;

  constructor(private readonly d: CatalogDeps) {}

  start(): void {
    // a record changed through another process drops this one's copy; while the watch is
    // being set up again (null), nothing cached can be trusted
    this.watch = new KeyWatch(this.d.bucket, '>', (key) => {
      this.drops++;
      if (key === null) this.cache.clear();
      else this.cache.delete(fromToken(key));
    });
  }

  /** drops every cached record: changes made while the connection was down may reach the watch late */
  resync(): void {
    this.drops++;
    this.cache.clear();
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
    this.cache.clear();
  }

  async create(record: Omit<StreamRecord, 'version' | 'lockedBy'>): Promise<StreamRecord> {
    const full: StreamRecord = { ...record, lockedBy: null, version: 1 };
    const key = token(record.name);
    if ((await this.d.bucket.create(key, full)) === null) {
      throw new RivuletError('STREAM_EXISTS', `stream "${record.name}" already exists`, {
        details: { stream: record.name },
      });
    }
    try {
      // a JetStream stream left by an interrupted delete holds events of a stream that is gone
      await this.d.jsm.streams.delete(this.d.names.jsStream(record.name)).catch(() => false);
      await this.d.jsm.streams.add(this.jsConfig(record.name, record.retention));
    } catch (err) {
      await this.d.bucket.delete(key).catch(() => {});
      throw mapStorageError(err);
    }
    return full;
  }

  async get(name: string): Promise<StreamRecord | null> {
    const cached = this.cache.get(name);
    if (cached) return copyOf(cached);
    const drops = this.drops;
    const found = await this.d.bucket.get<StreamRecord>(token(name));
    if (!found) return null;
    if (drops === this.drops) {
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(name, found.value);
    }
    return copyOf(found.value);
  }

  /** the record as stored now, bypassing the cache (used where a stale answer would be wrong) */
  async fresh(name: string): Promise<StreamRecord | null> {
    this.cache.delete(name);
    return this.get(name);
  }

  async list(options: { after?: string; limit: number; prefix?: string }): Promise<StreamRecord[]> {
    const prefix = options.prefix ?? '';
    const after = options.after ?? '';
    const names = (await this.d.bucket.keys())
      .map(fromToken)
      .filter((n) => n.startsWith(prefix) && n > after)
      .sort(compareCodeUnits)
      .slice(0, options.limit);
    const records = await Promise.all(names.map((n) => this.get(n)));
    return records.filter((r): r is StreamRecord => r !== null);
  }

  async update(name: string, settings: Partial<StreamSettings>, expectedVersion?: number): Promise<StreamRecord> {
    const updated = await this.d.bucket.casUpdate<StreamRecord, StreamRecord>(token(name), (current) => {
      if (!current)
        throw new RivuletError('STREAM_NOT_FOUND', `stream "${name}" does not exist`, { details: { stream: name } });
      const now = current.value;
      if (expectedVersion !== undefined && expectedVersion !== now.version) {
        throw new RivuletError('CONFLICT', `stream "${name}" is at version ${now.version}, not ${expectedVersion}`);
      }
      const next: StreamRecord = {
        ...now,
        ...settings,
        version: now.version + 1,
        updatedAt: new Date().toISOString(),
        lockedBy: (settings.exclusiveProducer ?? now.exclusiveProducer) ? now.lockedBy : null,
      };
      return { next, result: next };
    });
    this.cache.delete(name);
    if (settings.retention)
      await this.d.jsm.streams.update(this.d.names.jsStream(name), this.jsLimits(settings.retention));
    return updated;
  }

  /**
   * Claims an exclusive stream for `producer` unless another producer holds it. Answers who
   * holds it afterwards; the compare-and-set makes two processes' first writers agree.
   */
  async lockFor(name: string, producer: string): Promise<string | null> {
    const holder = await this.d.bucket.casUpdate<StreamRecord, string | null>(token(name), (current) => {
      if (!current)
        throw new RivuletError('STREAM_NOT_FOUND', `stream "${name}" does not exist`, { details: { stream: name } });
      const r = current.value;
      if (!r.exclusiveProducer || r.lockedBy !== null) return { result: r.lockedBy };
      return { next: { ...r, lockedBy: producer }, result: producer };
    });
    this.cache.delete(name);
    return holder;
  }

  async delete(name: string): Promise<boolean> {
    this.cache.delete(name);
    const key = token(name);
    const current = await this.d.bucket.get<StreamRecord>(key);
    if (!current) return false;
    await this.d.bucket.delete(key, current.revision).catch(() => {});
    await this.d.jsm.streams.delete(this.d.names.jsStream(name)).catch(() => false);
    await this.d.onDeleted(name);
    this.cache.delete(name);
    return true;
  }

  private jsConfig(name: string, retention: RetentionPolicy): Partial<StreamConfig> & { name: string } {
    return {
      name: this.d.names.jsStream(name),
      subjects: [this.d.names.streamSubjects(name)],
      storage: StorageType.File,
      retention: JsRetention.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: this.d.replicas,
      allow_direct: false,
      ...this.jsLimits(retention),
    };
  }

  /** Rivulet's retention as JetStream's own limits: the server drops old events itself */
  private jsLimits(retention: RetentionPolicy): Partial<StreamConfig> {
    const maxAgeMs = retention.maxAgeMs ?? null;
    return {
      max_msgs: retention.maxEvents ?? -1,
      max_bytes: retention.maxBytes ?? -1,
      max_age: maxAgeMs !== null ? maxAgeMs * 1_000_000 : 0,
      // JetStream refuses a de-duplication window longer than the events are kept
      duplicate_window: Math.min(this.d.duplicateWindowMs, maxAgeMs ?? Number.POSITIVE_INFINITY) * 1_000_000,
    };
  }
}

/** a copy the caller may change; cheaper than structuredClone on every produce (retention is flat) */
function copyOf(record: StreamRecord): StreamRecord {
  const options = Object.keys(record.options).length === 0 ? {} : structuredClone(record.options);
  return { ...record, retention: { ...record.retention }, options };
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
