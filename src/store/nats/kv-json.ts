/**
 * JSON values in a KV bucket with compare-and-set on the entry's revision. Every change made
 * from several processes at once goes through `casUpdate`: read, compute, write at the read
 * revision, and on a lost race read again — JetStream's own `Nats-Expected-Last-Subject-Sequence`
 * decides who won.
 *
 * Reads are direct gets, which any replica may answer: cheap, and they keep working while the
 * bucket elects a leader, but a replica may not have applied a write yet. So each bucket
 * remembers, for a few seconds, the revision of every write this process made; a direct read
 * older than that is read again from the stream's leader. A process therefore always reads
 * its own writes (a sink created and then shown, a consumer's lease taken and then acked),
 * while reads of keys it has not just written stay on the replicas.
 */
import type { KV } from '@nats-io/kv';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { mapStorageError } from './nats-storage-errors.js';
import { nanos } from '@nats-io/transport-node';
import { RivuletError } from '../../kernel/errors.js';

export interface Versioned<T> {
  value: T;
  revision: number;
}

/**
 * While a bucket's stream has no leader (a node was lost and its replicas are electing one,
 * which on a busy cluster takes seconds), the server answers "no responders": nothing was
 * read or written, so the operation is tried again for up to `forMs`, then STORE_UNAVAILABLE
 * (503 with Retry-After) rather than an internal error. A read that timed out (a stalled or
 * just-formed cluster) is tried again the same way; a write that timed out may or may not have
 * been made, so it is not repeated here but reported as STORE_UNAVAILABLE for the caller to retry.
 */
async function throughElection<T>(fn: () => Promise<T>, options: { read?: boolean; forMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.forMs ?? 15_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const timedOut = isTimeout(err);
      if (timedOut && !options.read) {
        throw new RivuletError(
          'STORE_UNAVAILABLE',
          'the nats cluster did not answer a metadata change in time; it may or may not have been made: try again shortly',
          { cause: err, retryAfter: 5 },
        );
      }
      if (!timedOut && !isNoResponders(err)) throw mapStorageError(err);
      if (Date.now() > deadline) {
        throw new RivuletError(
          'STORE_UNAVAILABLE',
          'the nats cluster answered no metadata request in time (no leader); try again shortly',
          { cause: err, retryAfter: 5 },
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}

function isTimeout(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'TimeoutError') return true;
  }
  return false;
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

/** what a watch reads: changed keys, until `stop()` (which also removes its consumer) */
export interface KeyFeed {
  keys: AsyncIterable<string>;
  stop(): Promise<void>;
}

/** how long the server keeps a watch's or a listing's consumer once nobody reads it (a process died) */
const WATCH_INACTIVE_MS = 30_000;

/** how long a write's revision is remembered: far beyond any replica's lag on a live cluster */
const READ_YOUR_WRITES_MS = 10_000;

export class JsonBucket {
  /** key → least revision a read must see, in the order written (oldest first) */
  private readonly written = new Map<string, { revision: number; atMs: number }>();

  private readonly stream: string;
  private readonly subjectPrefix: string;

  /**
   * `kv`: the bucket as opened (direct gets); `leader`: the same bucket bound without them;
   * `name`: the bucket's name, and the JetStream handles its key listings use
   */
  constructor(
    readonly kv: KV,
    private readonly leader: KV,
    private readonly d: { name: string; js: JetStreamClient; jsm: JetStreamManager; replicas?: number },
  ) {
    this.stream = `KV_${d.name}`;
    this.subjectPrefix = `$KV.${d.name}.`;
  }

  /**
   * The key's value. `fromLeader` skips the replicas (after a lost compare-and-set: the replica
   * that answered may be behind the write that won). A replica's "not there" is confirmed by
   * the leader: a key another process has just created (a consumer, a sink) is not yet on
   * every follower, and answering null would tell a client it does not exist.
   */
  async get<T>(key: string, options: { fromLeader?: boolean } = {}): Promise<Versioned<T> | null> {
    const replicated = (this.d.replicas ?? 1) > 1;
    let fromLeader = options.fromLeader === true && replicated;
    let entry = await throughElection(() => (fromLeader ? this.leader : this.kv).get(key), { read: true });
    const least = this.written.get(key);
    if (!fromLeader && least !== undefined && (entry?.revision ?? 0) < least.revision) {
      if (Date.now() - least.atMs < READ_YOUR_WRITES_MS) {
        entry = await throughElection(() => this.leader.get(key), { read: true });
        fromLeader = true;
      } else this.written.delete(key);
    }
    if (!fromLeader && replicated && (!entry || entry.operation !== 'PUT')) {
      entry = await throughElection(() => this.leader.get(key), { read: true });
    }
    if (!entry || entry.operation !== 'PUT') return null;
    return { value: entry.json<T>(), revision: entry.revision };
  }

  /** creates the key; null when it exists */
  async create<T>(key: string, value: T): Promise<number | null> {
    try {
      return this.wrote(key, await throughElection(() => this.kv.create(key, JSON.stringify(value))));
    } catch (err) {
      if (isRevisionConflict(err)) return null;
      throw err;
    }
  }

  /**
   * Creates the key only if it has never been written: unlike `create`, a delete marker left
   * by a deleted value counts as written, so a key deleted once is never brought back. Null
   * when the key has a value or a marker.
   */
  async createFirst<T>(key: string, value: T): Promise<number | null> {
    try {
      return this.wrote(key, await throughElection(() => this.kv.put(key, JSON.stringify(value), { previousSeq: 0 })));
    } catch (err) {
      if (isRevisionConflict(err)) return null;
      throw err;
    }
  }

  /** writes at `revision`; null when another writer got there first */
  async update<T>(key: string, value: T, revision: number): Promise<number | null> {
    try {
      return this.wrote(key, await throughElection(() => this.kv.update(key, JSON.stringify(value), revision)));
    } catch (err) {
      if (isRevisionConflict(err)) return null;
      throw err;
    }
  }

  /** writes whatever is there */
  async put<T>(key: string, value: T): Promise<number> {
    return this.wrote(key, await throughElection(() => this.kv.put(key, JSON.stringify(value))));
  }

  /**
   * deletes the key (at `revision` when given: false when it has moved on since). The delete's
   * own revision is not answered; any later than `revision` shows it.
   */
  async delete(key: string, revision?: number): Promise<boolean> {
    try {
      await throughElection(() => this.kv.delete(key, revision === undefined ? undefined : { previousSeq: revision }));
    } catch (err) {
      if (revision !== undefined && isRevisionConflict(err)) return false;
      throw err;
    }
    if (revision !== undefined) this.wrote(key, revision + 1);
    return true;
  }

  /** removes the key and its history */
  async purge(key: string, revision?: number): Promise<void> {
    await throughElection(() => this.kv.purge(key, revision === undefined ? undefined : { previousSeq: revision }));
    if (revision !== undefined) this.wrote(key, revision + 1);
  }

  /**
   * Removes every message of the keys under `filter` from the bucket's stream, delete markers
   * included: afterwards they read as never written (`createFirst` can write them again).
   */
  async erase(filter: string): Promise<void> {
    await throughElection(() => this.d.jsm.streams.purge(this.stream, { filter: this.subjectPrefix + filter }));
  }

  /**
   * Applies `change` to the current value until a write at the read revision succeeds.
   * `change` sees null for a missing key and answers the new value (or `undefined` to leave
   * it as it is) and a result.
   */
  async casUpdate<T, R>(
    key: string,
    change: (current: Versioned<T> | null) => Promise<{ next?: T; result: R }> | { next?: T; result: R },
  ): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      // after a lost race the replica that answered may still be behind the winner's write
      const current = await this.get<T>(key, { fromLeader: attempt > 0 });
      const { next, result } = await change(current);
      if (next === undefined) return result;
      const written = current ? await this.update(key, next, current.revision) : await this.create(key, next);
      if (written !== null) return result;
      // lost the race: back off a little, more each time, so busy keys do not spin
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.min(50, attempt * 2) * Math.random()));
    }
  }

  /**
   * every live key under `filter` (`>` for all). The client's own `kv.keys()` leaves an
   * ordered consumer behind on the server for 5 minutes each time, and sinks' scans list every
   * few seconds: hundreds of idle consumers per process. This reads the latest message header
   * of each subject through a consumer of its own and deletes it at once.
   *
   * A key rewritten while that consumer runs can slip through it: its old message is gone
   * before the consumer reaches it, and the new one may come after the consumer reported
   * nothing pending. So the bucket's subjects are first taken as one snapshot from the stream
   * (`subjects_filter`, which the server answers at one instant, deleted keys included), and
   * any subject of the snapshot the consumer did not report is read again by itself.
   */
  async keys(filter = '>'): Promise<string[]> {
    const snapshot = await throughElection(
      () => this.d.jsm.streams.info(this.stream, { subjects_filter: this.subjectPrefix + filter }),
      { read: true },
    );
    const info = await throughElection(() =>
      this.d.jsm.consumers.add(this.stream, {
        filter_subject: this.subjectPrefix + filter,
        deliver_policy: DeliverPolicy.LastPerSubject,
        ack_policy: AckPolicy.None,
        headers_only: true,
        mem_storage: true,
        num_replicas: 1,
        // gone by itself should this process die before deleting it
        inactive_threshold: nanos(WATCH_INACTIVE_MS),
      }),
    );
    /** key → whether its latest message (as the consumer saw it) is a live value */
    const seen = new Map<string, boolean>();
    try {
      let pending = info.num_pending;
      const consumer = pending === 0 ? null : await this.d.js.consumers.get(this.stream, info.name);
      while (consumer && pending > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(pending, 10_000), expires: 5_000 });
        let got = 0;
        for await (const m of batch) {
          got++;
          pending = m.info.pending;
          const op = m.headers?.get('KV-Operation');
          // a key written while the listing runs comes again (the consumer delivers new messages too)
          seen.set(m.subject.slice(this.subjectPrefix.length), op !== 'DEL' && op !== 'PURGE');
        }
        // nothing came before the fetch expired: what was pending has been purged meanwhile
        if (got === 0) break;
      }
    } finally {
      await this.d.jsm.consumers.delete(this.stream, info.name).catch(() => false);
    }
    const missed = Object.keys(snapshot.state.subjects ?? {})
      .map((subject) => subject.slice(this.subjectPrefix.length))
      .filter((key) => !seen.has(key));
    for (let i = 0; i < missed.length; i += 64) {
      const page = missed.slice(i, i + 64);
      const live = await Promise.all(page.map(async (key) => (await this.get(key)) !== null));
      page.forEach((key, j) => seen.set(key, live[j]!));
    }
    return [...seen].filter(([, live]) => live).map(([key]) => key);
  }

  /** the keys under `filter` as they change from now on (see kv-watch.ts) */
  async watchKeys(filter: string): Promise<KeyFeed> {
    const consumer = await throughElection(() =>
      this.d.js.consumers.get(this.stream, {
        filter_subjects: this.subjectPrefix + filter,
        deliver_policy: DeliverPolicy.New,
        headers_only: true,
        inactive_threshold: WATCH_INACTIVE_MS,
      }),
    );
    const messages = await consumer.consume();
    const prefixLength = this.subjectPrefix.length;
    let stopped: Promise<void> | null = null;
    return {
      keys: (async function* () {
        for await (const m of messages) yield m.subject.slice(prefixLength);
      })(),
      stop: () =>
        (stopped ??= (async () => {
          messages.stop();
          // a close while the server is unreachable must not wait out a request timeout: the
          // server drops the consumer by itself once it has been idle WATCH_INACTIVE_MS
          await withinMs(
            consumer.delete().catch(() => false),
            2_000,
          );
        })()),
    };
  }

  private wrote(key: string, revision: number): number {
    const now = Date.now();
    this.written.delete(key);
    this.written.set(key, { revision, atMs: now });
    // forget what is old enough that every replica has it, oldest first
    for (const [k, w] of this.written) {
      if (now - w.atMs < READ_YOUR_WRITES_MS) break;
      this.written.delete(k);
    }
    return revision;
  }
}

/** waits for `p`, but no longer than `ms` */
async function withinMs(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** true when a write lost a race on the revision (or `create` found the key) */
export function isRevisionConflict(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.code === 10071 || err.code === 10164;
  return /wrong last sequence|key exists/i.test((err as Error)?.message ?? '');
}
