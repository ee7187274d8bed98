/**
 * Documents (keys, schemas, sinks, rules, specs, …) in one KV bucket. A document is the KV
 * entry `<collection>.<key>` (each part one base64url token); its Rivulet version is kept in
 * the value, and every conditional write is a compare-and-set on the entry's KV revision —
 * so `put` with `expectedVersion` is a real CAS across processes, which ownership leases
 * built on the DocumentStore rely on.
 */
import type { KV } from '@nats-io/kv';
import { RivuletError } from '../../core/errors.js';
import type { DocumentStore, StoredDocument } from '../port.js';
import { casUpdate, createJson, getJson, isRevisionConflict, listKeys, updateJson } from './kv-json.js';
import { fromToken, token } from './nats-names.js';

interface Entry<T> {
  value: T;
  version: number;
  updatedAt: string;
}

export class NatsDocumentStore implements DocumentStore {
  constructor(private readonly kv: KV) {}

  private key(collection: string, key: string): string {
    return `${token(collection)}.${token(key)}`;
  }

  async get<T>(collection: string, key: string): Promise<StoredDocument<T> | null> {
    const found = await getJson<Entry<T>>(this.kv, this.key(collection, key));
    return found ? { key, value: found.value.value, version: found.value.version, updatedAt: found.value.updatedAt } : null;
  }

  async put<T>(collection: string, key: string, value: T, options?: { expectedVersion?: number }): Promise<number> {
    const k = this.key(collection, key);
    const updatedAt = new Date().toISOString();
    const expected = options?.expectedVersion;
    if (expected === undefined) {
      return casUpdate<Entry<T>, number>(this.kv, k, (current) => {
        const version = (current?.value.version ?? 0) + 1;
        return { next: { value, version, updatedAt }, result: version };
      });
    }
    if (expected === 0) {
      if ((await createJson(this.kv, k, { value, version: 1, updatedAt })) === null) {
        throw new RivuletError('CONFLICT', `${collection}/${key} already exists`);
      }
      return 1;
    }
    const current = await getJson<Entry<T>>(this.kv, k);
    if (!current || current.value.version !== expected) throw new RivuletError('CONFLICT', `${collection}/${key} is not at version ${expected}`);
    const version = expected + 1;
    if ((await updateJson(this.kv, k, { value, version, updatedAt }, current.revision)) === null) {
      throw new RivuletError('CONFLICT', `${collection}/${key} is not at version ${expected}`);
    }
    return version;
  }

  async delete(collection: string, key: string, options?: { expectedVersion?: number }): Promise<boolean> {
    const k = this.key(collection, key);
    const current = await getJson<Entry<unknown>>(this.kv, k);
    if (!current) return false;
    if (options?.expectedVersion !== undefined && current.value.version !== options.expectedVersion) return false;
    try {
      await this.kv.delete(k, { previousSeq: current.revision });
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }

  async list<T>(collection: string, options?: { prefix?: string; after?: string; limit?: number }): Promise<StoredDocument<T>[]> {
    const prefix = options?.prefix ?? '';
    const after = options?.after ?? '';
    const keys = (await listKeys(this.kv, `${token(collection)}.*`))
      .map((k) => fromToken(k.slice(k.indexOf('.') + 1)))
      .filter((k) => k.startsWith(prefix) && k > after)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, options?.limit ?? Number.MAX_SAFE_INTEGER);
    const docs = await Promise.all(keys.map((k) => this.get<T>(collection, k)));
    return docs.filter((d): d is StoredDocument<T> => d !== null);
  }
}
