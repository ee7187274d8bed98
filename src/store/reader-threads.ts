/**
 * A store's reader threads and their queue. Reads that can run long (pages, consumer receives,
 * counts, time seeks) are jobs here, so they never run on the event loop. Jobs are bounded
 * slices and wait in one first-come queue: a large read asks for its next slice only after the
 * last one came back, so it takes its turn behind the others instead of holding a thread, and
 * a flood of reads lengthens the queue, not an append's wait.
 *
 * A thread runs `perThread` jobs at once: one for a synchronous reader (SQLite), a few for one
 * that mostly waits on the network (NATS), so its round trips overlap.
 */
import type { Worker } from 'node:worker_threads';
import { RivuletError } from '../kernel/errors.js';
import type { ReaderStats } from './port.js';
import type { FromReader, WireError } from './thread-wire.js';

interface Job<J, R> {
  id: number;
  job: J;
  queuedAt: number;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

interface Thread<J, R> {
  worker: Worker;
  /**
   * the jobs it is running (at most `perThread`, a handful). A list: a Map here, set and
   * deleted per job, cost a 100-event page on SQLite ~20 % of its throughput in process.
   */
  running: Job<J, R>[];
}

/** how long a closing thread may take to finish its jobs and end */
const CLOSE_WAIT_MS = 10_000;

export interface ReaderThreadsOptions {
  /** starts one thread; it answers `{ kind: 'ready' }` once it can take jobs */
  spawn: () => Worker;
  size: number;
  /** jobs one thread runs at once */
  perThread: number;
  /** a failed job's error as the store reports it */
  fromWire: (error: WireError) => unknown;
}

export class ReaderThreads<J, R> {
  private readonly threads: Thread<J, R>[] = [];
  private readonly queue: Job<J, R>[] = [];
  private nextId = 1;
  private jobs = 0;
  private waitMs = 0;
  private closing = false;
  private closed: Promise<void> | null = null;

  private constructor(private readonly options: ReaderThreadsOptions) {}

  /** starts the threads and waits until each is ready */
  static async start<J, R>(options: ReaderThreadsOptions): Promise<ReaderThreads<J, R>> {
    const pool = new ReaderThreads<J, R>(options);
    try {
      const started = await Promise.allSettled(Array.from({ length: options.size }, () => pool.spawn()));
      for (const s of started) if (s.status === 'fulfilled') pool.threads.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get stats(): ReaderStats {
    return {
      threads: this.threads.length,
      queued: this.queue.length,
      running: this.threads.reduce((n, t) => n + t.running.length, 0),
      jobs: this.jobs,
      waitMs: this.waitMs,
    };
  }

  run(job: J): Promise<R> {
    if (this.closing) return Promise.reject(unavailable('the store is closing'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, queuedAt: performance.now(), resolve, reject });
      this.dispatch();
    });
  }

  /** each queued job goes to the least busy thread with room */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let thread: Thread<J, R> | null = null;
      for (const t of this.threads)
        if (t.running.length < this.options.perThread && (!thread || t.running.length < thread.running.length))
          thread = t;
      if (!thread) return;
      const job = this.queue.shift()!;
      thread.running.push(job);
      this.jobs++;
      this.waitMs += performance.now() - job.queuedAt;
      // a thread with work keeps the process alive until the answer is in; an idle one does not
      thread.worker.ref();
      thread.worker.postMessage({ id: job.id, job: job.job });
    }
  }

  private async spawn(): Promise<Thread<J, R>> {
    const worker = this.options.spawn();
    let settle!: (outcome: FromReader<R> | Error) => void;
    const onExit = () => settle(new Error('the reader thread exited while opening'));
    const opened = await new Promise<FromReader<R> | Error>((resolve) => {
      settle = resolve;
      worker.once('message', settle);
      worker.once('error', settle);
      worker.once('exit', onExit);
    });
    worker.off('message', settle);
    worker.off('error', settle);
    worker.off('exit', onExit);
    if (opened instanceof Error || !('kind' in opened) || opened.kind !== 'ready') {
      const message =
        opened instanceof Error
          ? opened.message
          : 'kind' in opened && opened.kind === 'open-failed'
            ? opened.error.message
            : 'unexpected answer';
      await worker.terminate();
      throw new Error(`cannot open a reader thread: ${message}`);
    }
    const thread: Thread<J, R> = { worker, running: [] };
    worker.on('message', (m: FromReader<R>) => {
      if (!('id' in m)) return;
      const at = thread.running.findIndex((j) => j.id === m.id);
      const job = at >= 0 ? thread.running.splice(at, 1)[0] : undefined;
      if (thread.running.length === 0) thread.worker.unref();
      if (job) {
        if (m.ok) job.resolve(m.result);
        else job.reject(this.options.fromWire(m.error));
      }
      this.dispatch();
    });
    worker.on('error', () => {});
    worker.on('exit', () => this.lost(thread));
    worker.unref();
    return thread;
  }

  /** a thread died: its jobs fail, and a new thread takes its place */
  private lost(thread: Thread<J, R>): void {
    const at = this.threads.indexOf(thread);
    if (at >= 0) this.threads.splice(at, 1);
    for (const job of thread.running.splice(0)) job.reject(unavailable('a reader thread stopped'));
    if (this.closing) return;
    this.spawn().then(
      (t) => {
        if (this.closing) void t.worker.terminate();
        else {
          this.threads.push(t);
          this.dispatch();
        }
      },
      () => {
        if (this.threads.length > 0) return;
        for (const job of this.queue.splice(0)) job.reject(unavailable('the store’s reader threads stopped'));
      },
    );
  }

  /** waits for running jobs, fails queued ones, and ends the threads (once, however often asked) */
  close(): Promise<void> {
    this.closed ??= this.closeNow();
    return this.closed;
  }

  private async closeNow(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0)) job.reject(unavailable('the store is closing'));
    await Promise.all(
      this.threads.map(async (t) => {
        const exited = new Promise((r) => t.worker.once('exit', r));
        t.worker.ref();
        t.worker.postMessage({ close: true });
        // a thread that does not end in time (a read stuck on the network) is stopped
        const timer = setTimeout(() => void t.worker.terminate(), CLOSE_WAIT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

function unavailable(message: string): RivuletError {
  return new RivuletError('STORE_UNAVAILABLE', message, { retryAfter: 5 });
}

/** a failed job's error rebuilt as a RivuletError when it was one; `other` maps the rest */
export function rivuletFromWire(error: WireError, other: (original: Error) => unknown): unknown {
  if (error.rivulet)
    return new RivuletError(error.code as ConstructorParameters<typeof RivuletError>[0], error.message, {
      details: error.details,
    });
  return other(Object.assign(new Error(error.message), { code: error.code || undefined }));
}
