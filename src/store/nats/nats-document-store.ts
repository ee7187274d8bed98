/**
 * Documents (keys, schemas, sinks, rules, specs, …) in one KV bucket. A document is the KV
 * entry `<collection>.<key>` (each part one base64url token); its Rivulet version is kept in
 * the value, and every conditional write is a compare-and-set on the entry's KV revision —
 * so `put` with `expectedVersion` is a real CAS across processes, which ownership leases
 * built on the DocumentStore rely on.
 *
 * `watch` follows one collection with a KV watch (kv-watch.ts: an ordered consumer filtered to
 * `<collection>.*`, new changes only): the server pushes every process's writes to it, so puts
 * do no extra work, and writes to other collections (sinks' leases and stats) never reach it.
 * An ordered consumer resumes after a gap or a reconnect by itself, but may notice the gap
 * late; so after a reconnect, and whenever a watch has to be set up again, listeners are told
 * to drop everything (`null`).
 */
import { RivuletError } from '../../kernel/errors.js';
import type { DocumentStore, StoredDocument } from '../port.js';
import type { JsonBucket } from './kv-json.js';
import { KeyWatch } from './kv-watch.js';
import { fromToken, token } from './nats-names.js';

interface Entry<T> {
  value: T;
  version: number;
  updatedAt: string;
}

type ChangeListener = (key: string | null) => void;

export class NatsDocumentStore implements DocumentStore {
  private readonly watches = new Map<string, CollectionWatch>();
  private watchesStopped = false;

  constructor(private readonly bucket: JsonBucket) {}

  watch(collection: string, listener: ChangeListener): () => void {
    // a closed store has nothing left to report
    if (this.watchesStopped) return () => {};
    let w = this.watches.get(collection);
    if (!w) {
      w = new CollectionWatch(this.bucket, `${token(collection)}.*`);
      this.watches.set(collection, w);
    }
    const watch = w;
    watch.listeners.add(listener);
    return () => {
      watch.listeners.delete(listener);
      if (watch.listeners.size > 0 || this.watches.get(collection) !== watch) return;
      this.watches.delete(collection);
      void watch.stop();
    };
  }

  /**
   * Tells every listener that changes may have gone unreported. Called on a reconnect: the
   * ordered consumer notices changes pushed while the connection was down only at its next
   * message or missed heartbeat, which may be long after.
   */
  resync(): void {
    for (const w of this.watches.values()) w.emit(null);
  }

  /** ends every watch and removes their consumers (the store is closing) */
  async stopWatches(): Promise<void> {
    this.watchesStopped = true;
    const stopping = [...this.watches.values()].map((w) => w.stop());
    this.watches.clear();
    await Promise.all(stopping);
  }

  private key(collection: string, key: string): string {
    return `${token(collection)}.${token(key)}`;
  }

  async get<T>(collection: string, key: string): Promise<StoredDocument<T> | null> {
    const found = await this.bucket.get<Entry<T>>(this.key(collection, key));
    return found
      ? { key, value: found.value.value, version: found.value.version, updatedAt: found.value.updatedAt }
      : null;
  }

  async put<T>(collection: string, key: string, value: T, options?: { expectedVersion?: number }): Promise<number> {
    const k = this.key(collection, key);
    const updatedAt = new Date().toISOString();
    const expected = options?.expectedVersion;
    if (expected === undefined) {
      return this.bucket.casUpdate<Entry<T>, number>(k, (current) => {
        const version = (current?.value.version ?? 0) + 1;
        return { next: { value, version, updatedAt }, result: version };
      });
    }
    if (expected === 0) {
      if ((await this.bucket.create(k, { value, version: 1, updatedAt })) === null) {
        throw new RivuletError('CONFLICT', `${collection}/${key} already exists`);
      }
      return 1;
    }
    const current = await this.bucket.get<Entry<T>>(k);
    if (!current || current.value.version !== expected)
      throw new RivuletError('CONFLICT', `${collection}/${key} is not at version ${expected}`);
    const version = expected + 1;
    if ((await this.bucket.update(k, { value, version, updatedAt }, current.revision)) === null) {
      throw new RivuletError('CONFLICT', `${collection}/${key} is not at version ${expected}`);
    }
    return version;
  }

  async delete(collection: string, key: string, options?: { expectedVersion?: number }): Promise<boolean> {
    const k = this.key(collection, key);
    const current = await this.bucket.get<Entry<unknown>>(k);
    if (!current) return false;
    if (options?.expectedVersion !== undefined && current.value.version !== options.expectedVersion) return false;
    return this.bucket.delete(k, current.revision);
  }

  async list<T>(
    collection: string,
    options?: { prefix?: string; after?: string; limit?: number },
  ): Promise<StoredDocument<T>[]> {
    const prefix = options?.prefix ?? '';
    const after = options?.after ?? '';
    const keys = (await this.bucket.keys(`${token(collection)}.*`))
      .map((k) => fromToken(k.slice(k.indexOf('.') + 1)))
      .filter((k) => k.startsWith(prefix) && k > after)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, options?.limit ?? Number.MAX_SAFE_INTEGER);
    const docs = await Promise.all(keys.map((k) => this.get<T>(collection, k)));
    return docs.filter((d): d is StoredDocument<T> => d !== null);
  }
}

/** One collection's KV watch, shared by every listener of that collection in this process. */
class CollectionWatch {
  readonly listeners = new Set<ChangeListener>();
  private readonly watch: KeyWatch;

  constructor(bucket: JsonBucket, filter: string) {
    this.watch = new KeyWatch(bucket, filter, (key) =>
      this.emit(key === null ? null : fromToken(key.slice(key.indexOf('.') + 1))),
    );
  }

  stop(): Promise<void> {
    return this.watch.stop();
  }

  emit(key: string | null): void {
    for (const listener of this.listeners) {
      try {
        listener(key);
      } catch {
        // one listener's failure must not starve the others
      }
    }
  }
}
