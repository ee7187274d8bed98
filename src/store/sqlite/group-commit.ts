/**
 * Group commit, pipelined through the append worker. Each request goes into a shared ring as
 * it is submitted (append-channel.ts); whenever the worker is free it takes everything there
 * (up to a bound) as one group, written in one transaction with one fsync. While that commit
 * runs, the next group gathers in the ring. A request is answered only after the commit
 * holding it returned. Each request runs in its own savepoint, so one request's failure (a
 * locked stream, say) does not fail its neighbours; a failed commit fails them all, and none
 * of them was acknowledged.
 */
import type { Worker } from 'node:worker_threads';
import { RivuletError } from '../../kernel/errors.js';
import type { AppendedEvent, AppendResult } from '../../kernel/envelope.js';
import type { AppendRequest } from '../port.js';
import { allocateChannel, RingWriter, type AppendWorkerData } from './append-channel.js';
import {
  OUTCOME_FAILED,
  OUTCOME_OK_LOCKED,
  OUTCOME_REPLAY,
  toWire,
  type FromWorker,
  type WireError,
  type WireOutcomes,
  type WireRequest,
  type WorkerSettings,
} from './append-wire.js';
import { mapSqliteError } from './sqlite-errors.js';
import { spawnStoreThread } from '../store-thread.js';
import type { WriteHealth } from './write-health.js';

export interface GroupCommitStats {
  commits: number;
  requests: number;
  lastBatchSize: number;
  lastCommitMs: number;
}

/** told after each group commit; `waitMs` is how long the group's oldest request waited before the worker took it */
export interface CommitInfo {
  requests: number;
  events: number;
  durationMs: number;
  waitMs: number;
}

interface Pending {
  request: AppendRequest;
  /** when it was submitted, on the clock both threads share (performance.timeOrigin-based ms) */
  submittedAt: number;
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  settings: WorkerSettings;
  onCommit?: (info: CommitInfo) => void;
  /** most events the worker takes into one group (a single request may exceed it) */
  maxGroupEvents?: number;
  /** told whether each group could be written (readiness) */
  writeHealth?: WriteHealth;
}

export class GroupCommitter {
  /** submitted and not yet answered, oldest first: the worker answers them in this order */
  private pending: Pending[] = [];
  private broken: unknown = null;
  private readonly worker: Worker;
  private readonly ring: RingWriter;
  private readonly idleWaiters: (() => void)[] = [];
  private closing: Promise<void> | null = null;
  private afterCommit: (results: AppendResult[], lockedStreams: string[]) => void = () => {};
  readonly stats: GroupCommitStats = { commits: 0, requests: 0, lastBatchSize: 0, lastCommitMs: 0 };

  private constructor(
    worker: Worker,
    data: AppendWorkerData,
    private readonly options: GroupCommitOptions,
  ) {
    this.worker = worker;
    this.ring = new RingWriter(worker, data.channel);
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.fail(mapSqliteError(err, 'append')));
    worker.on('exit', () => {
      if (!this.closing)
        this.fail(new RivuletError('STORE_UNAVAILABLE', 'the store’s append worker stopped', { retryAfter: 5 }));
    });
    worker.unref();
  }

  /** starts the worker and waits until its connection is open with the settings asked for */
  static async start(options: GroupCommitOptions): Promise<GroupCommitter> {
    const data: AppendWorkerData = {
      settings: options.settings,
      channel: allocateChannel(),
      maxGroupEvents: options.maxGroupEvents ?? 10_000,
    };
    const worker = spawnStoreThread(import.meta.url, 'append-worker', data);
    const onExit = () => settle(new Error('the append worker exited while opening'));
    let settle!: (outcome: FromWorker | Error) => void;
    const outcome = await new Promise<FromWorker | Error>((resolve) => {
      settle = resolve;
      worker.once('message', settle);
      worker.once('error', settle);
      worker.once('exit', onExit);
    });
    // only these listeners: the worker's own internal ones must stay
    worker.off('message', settle).off('error', settle).off('exit', onExit);
    if (outcome instanceof Error || outcome.kind !== 'ready') {
      await worker.terminate();
      const error =
        outcome instanceof Error
          ? outcome
          : outcome.kind === 'open-failed'
            ? fromWire(outcome.error)
            : new Error(`unexpected ${outcome.kind}`);
      throw error;
    }
    return new GroupCommitter(worker, data, options);
  }

  /** sets what runs after a successful commit, before any request of the group is answered */
  withAfterCommit(hook: (results: AppendResult[], lockedStreams: string[]) => void): this {
    this.afterCommit = hook;
    return this;
  }

  submit(request: AppendRequest): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      if (this.broken) return reject(this.broken);
      if (this.closing) return reject(new RivuletError('STORE_UNAVAILABLE', 'the store is closing', { retryAfter: 5 }));
      let wire: WireRequest;
      try {
        wire = toWire(request.stream, request.producer, request.idempotencyKey, request.requestHash, request.events);
      } catch (err) {
        // e.g. data that JSON cannot hold: only this request fails
        return reject(err);
      }
      // keeps the process alive while a write is outstanding
      if (this.pending.length === 0) this.worker.ref();
      this.pending.push({ request, submittedAt: performance.timeOrigin + performance.now(), resolve, reject });
      this.ring.write(wire);
    });
  }

  /** resolves once everything submitted so far has been committed or failed */
  drain(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** drains, then closes the worker's connection and ends the thread; safe to call twice */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.drain();
      if (this.broken) {
        await this.worker.terminate();
        return;
      }
      const closed = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.worker.ref();
      this.ring.close();
      await closed;
    })();
    return this.closing;
  }

  private onMessage(message: FromWorker): void {
    if (message.kind === 'committed') {
      const batch = this.pending.splice(0, message.outcomes.codes.length);
      const events = batch.reduce((n, p) => n + p.request.events.length, 0);
      const waitMs = batch.length > 0 ? Math.max(0, message.startedAt - batch[0]!.submittedAt) : 0;
      this.settle(batch, message.outcomes, message.durationMs);
      try {
        this.options.onCommit?.({ requests: batch.length, events, durationMs: message.durationMs, waitMs });
      } catch {
        // an observer never fails a write
      }
    } else if (message.kind === 'commit-failed') {
      const error = fromWire(message.error, 'commit');
      this.options.writeHealth?.failed(error);
      for (const p of this.pending.splice(0, message.requests)) p.reject(error);
    } else {
      return;
    }
    this.ring.flush();
    if (this.pending.length === 0) this.becameIdle();
  }

  private becameIdle(): void {
    this.worker.unref();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private settle(batch: Pending[], outcomes: WireOutcomes, durationMs: number): void {
    this.stats.commits++;
    this.stats.requests += batch.length;
    this.stats.lastBatchSize = batch.length;
    this.stats.lastCommitMs = durationMs;
    const committed: AppendResult[] = [];
    const answers: unknown[] = new Array(batch.length);
    const locked: string[] = [];
    const { codes, positions, others } = outcomes;
    let at = 0;
    let other = 0;
    batch.forEach((p, i) => {
      const code = codes[i];
      if (code === OUTCOME_FAILED) {
        answers[i] = fromWire(others[other++] as WireError, 'append');
      } else if (code === OUTCOME_REPLAY) {
        answers[i] = { ...(JSON.parse(others[other++] as string) as AppendResult), replayed: true };
      } else {
        const result = toResult(p.request, positions, at);
        at += p.request.events.length * 3;
        if (code === OUTCOME_OK_LOCKED) locked.push(p.request.stream);
        committed.push(result);
        answers[i] = result;
      }
    });
    // a group that wrote events shows the disk takes writes again (one of failures or replays shows nothing)
    if (committed.length > 0) this.options.writeHealth?.succeeded();
    this.afterCommit(committed, locked);
    batch.forEach((p, i) => {
      if (codes[i] === OUTCOME_FAILED) {
        this.options.writeHealth?.failed(answers[i]);
        p.reject(answers[i]);
      } else p.resolve(answers[i] as AppendResult);
    });
  }

  private fail(error: unknown): void {
    if (this.broken) return;
    this.broken = error;
    for (const p of this.pending.splice(0)) p.reject(error);
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

/** the request's result, from its events' positions starting at `at` */
function toResult(request: AppendRequest, positions: Float64Array, at: number): AppendResult {
  const events: AppendedEvent[] = new Array(request.events.length);
  for (let i = 0, o = at; i < request.events.length; i++, o += 3) {
    events[i] = {
      id: request.events[i]!.id,
      seq: positions[o]!,
      typeSeq: positions[o + 1]!,
      duplicate: positions[o + 2] === 1,
    };
  }
  return { stream: request.stream, events, replayed: false };
}

/** rebuilds an error from the worker as the error the synchronous store used to throw */
function fromWire(error: WireError, during = 'open'): unknown {
  if (error.rivulet)
    return new RivuletError(error.code as ConstructorParameters<typeof RivuletError>[0], error.message, {
      details: error.details,
    });
  const original = Object.assign(new Error(error.message), { name: 'SqliteError', code: error.code || undefined });
  return mapSqliteError(original, during);
}
