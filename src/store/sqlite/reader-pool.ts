/**
 * The reader threads and their queue. Every event read of the SQLite store (pages, consumer
 * receives, counts, time seeks) is a job here, so no read runs on the event loop. Jobs are
 * bounded slices and wait in one first-come queue: a large read asks for its next slice only
 * after the last one came back, so it takes its turn behind the others instead of holding a
 * thread, and a flood of reads lengthens the queue, not an append's wait. Appends have their
 * own thread and never queue here.
 */
import type { Worker } from 'node:worker_threads';
import { RivuletError } from '../../kernel/errors.js';
import type { WireError } from './append-wire.js';
import type { FromReader, ReadJob, ReaderSettings, ReadResult } from './reader-wire.js';
import { mapSqliteError } from './sqlite-errors.js';
import { spawnStoreWorker } from './store-worker.js';

interface Job {
  id: number;
  job: ReadJob;
  resolve: (result: ReadResult) => void;
  reject: (err: unknown) => void;
}

interface Thread {
  worker: Worker;
  /** the job it is running, if any */
  busy: Job | null;
}

export interface ReaderPoolStats {
  threads: number;
  queued: number;
  running: number;
  jobs: number;
}

export class ReaderPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private jobs = 0;
  private closing = false;

  private constructor(private readonly settings: ReaderSettings) {}

  /** starts `size` threads and waits until each has its connection open */
  static async start(settings: ReaderSettings, size: number): Promise<ReaderPool> {
    const pool = new ReaderPool(settings);
    try {
      const started = await Promise.allSettled(Array.from({ length: size }, () => pool.spawn()));
      for (const s of started) if (s.status === 'fulfilled') pool.threads.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get stats(): ReaderPoolStats {
    return {
      threads: this.threads.length,
      queued: this.queue.length,
      running: this.threads.filter((t) => t.busy).length,
      jobs: this.jobs,
    };
  }

  run(job: ReadJob): Promise<ReadResult> {
    if (this.closing) return Promise.reject(unavailable('the store is closing'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      if (this.queue.length === 0) return;
      if (thread.busy) continue;
      const job = this.queue.shift()!;
      thread.busy = job;
      this.jobs++;
      // a thread with work keeps the process alive until the answer is in; an idle one does not
      thread.worker.ref();
      thread.worker.postMessage({ id: job.id, job: job.job });
    }
  }

  private async spawn(): Promise<Thread> {
    const worker = spawnStoreWorker('reader-worker', this.settings);
    let settle!: (outcome: FromReader | Error) => void;
    const onExit = () => settle(new Error('the reader thread exited while opening'));
    const opened = await new Promise<FromReader | Error>((resolve) => {
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
    const thread: Thread = { worker, busy: null };
    worker.on('message', (m: FromReader) => {
      if (!('id' in m)) return;
      const job = thread.busy;
      thread.busy = null;
      thread.worker.unref();
      if (job && job.id === m.id) {
        if (m.ok) job.resolve(m.result);
        else job.reject(fromWire(m.error));
      }
      this.dispatch();
    });
    worker.on('error', () => {});
    worker.on('exit', () => this.lost(thread));
    worker.unref();
    return thread;
  }

  /** a thread died: its job fails, and a new thread takes its place */
  private lost(thread: Thread): void {
    const at = this.threads.indexOf(thread);
    if (at >= 0) this.threads.splice(at, 1);
    thread.busy?.reject(unavailable('a reader thread stopped'));
    thread.busy = null;
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

  /** waits for running jobs, fails queued ones, and ends the threads */
  async close(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0)) job.reject(unavailable('the store is closing'));
    await Promise.all(
      this.threads.map(async (t) => {
        const exited = new Promise((r) => t.worker.once('exit', r));
        t.worker.ref();
        t.worker.postMessage({ close: true });
        await exited;
      }),
    );
  }
}

function unavailable(message: string): RivuletError {
  return new RivuletError('STORE_UNAVAILABLE', message, { retryAfter: 5 });
}

function fromWire(error: WireError): unknown {
  if (error.rivulet)
    return new RivuletError(error.code as ConstructorParameters<typeof RivuletError>[0], error.message, {
      details: error.details,
    });
  const original = Object.assign(new Error(error.message), { name: 'SqliteError', code: error.code || undefined });
  return mapSqliteError(original, 'read');
}
