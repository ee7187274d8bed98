/**
 * JSON values in a KV bucket with compare-and-set on the entry's revision. Every change made
 * from several processes at once goes through `casUpdate`: read, compute, write at the read
 * revision, and on a lost race read again — JetStream's own `Nats-Expected-Last-Subject-Sequence`
 * decides who won.
 */
import type { KV } from '@nats-io/kv';
import { JetStreamApiError } from '@nats-io/jetstream';
import { RivuletError } from '../../core/errors.js';

export interface Versioned<T> {
  value: T;
  revision: number;
}

/**
 * While a bucket's stream has no leader (a node was lost and its replicas are electing one,
 * which on a busy cluster takes seconds), the server answers "no responders": nothing was
 * read or written, so the operation is tried again for up to `forMs`, then STORE_UNAVAILABLE
 * (503 with Retry-After) rather than an internal error.
 */
async function throughElection<T>(fn: () => Promise<T>, forMs = 15_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isNoResponders(err)) throw err;
      if (Date.now() > deadline) {
        throw new RivuletError('STORE_UNAVAILABLE', 'the nats cluster answered no metadata request in time (no leader); try again shortly', { cause: err, retryAfter: 5 });
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}

/**
 * "no responders" anywhere in the error's chain: the client reports it as JetStreamNotEnabled
 * ("jetstream is not enabled") with the NoResponders error as its cause
 */
function isNoResponders(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'NoResponders' || e.name === 'JetStreamNotEnabled' || /no responders/i.test(e.message)) return true;
  }
  return false;
}

export async function getJson<T>(kv: KV, key: string): Promise<Versioned<T> | null> {
  const entry = await throughElection(() => kv.get(key));
  if (!entry || entry.operation !== 'PUT') return null;
  return { value: entry.json<T>(), revision: entry.revision };
}

/** true when a write lost a race on the revision (or `create` found the key) */
export function isRevisionConflict(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.code === 10071 || err.code === 10164;
  return /wrong last sequence|key exists/i.test((err as Error)?.message ?? '');
}

export async function createJson<T>(kv: KV, key: string, value: T): Promise<number | null> {
  try {
    return await throughElection(() => kv.create(key, JSON.stringify(value)));
  } catch (err) {
    if (isRevisionConflict(err)) return null;
    throw err;
  }
}

/** writes at `revision`; null when another writer got there first */
export async function updateJson<T>(kv: KV, key: string, value: T, revision: number): Promise<number | null> {
  try {
    return await throughElection(() => kv.update(key, JSON.stringify(value), revision));
  } catch (err) {
    if (isRevisionConflict(err)) return null;
    throw err;
  }
}

/**
 * Applies `change` to the current value until a write at the read revision succeeds.
 * `change` sees null for a missing key and answers the new value (or `undefined` to leave
 * it as it is) and a result.
 */
export async function casUpdate<T, R>(
  kv: KV,
  key: string,
  change: (current: Versioned<T> | null) => Promise<{ next?: T; result: R }> | { next?: T; result: R },
): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    const current = await getJson<T>(kv, key);
    const { next, result } = await change(current);
    if (next === undefined) return result;
    const written = current ? await updateJson(kv, key, next, current.revision) : await createJson(kv, key, next);
    if (written !== null) return result;
    // lost the race: back off a little, more each time, so busy keys do not spin
    if (attempt > 2) await new Promise((r) => setTimeout(r, Math.min(50, attempt * 2) * Math.random()));
  }
}

/** every key under `filter` (`>` for all) */
export async function listKeys(kv: KV, filter = '>'): Promise<string[]> {
  const keys: string[] = [];
  const iter = await kv.keys(filter);
  for await (const k of iter) keys.push(k);
  return keys;
}
