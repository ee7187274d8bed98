/**
 * The append worker: a thread that owns the connection event appends are written on.
 * better-sqlite3 is synchronous, so a commit (and its fsync) here blocks only this thread;
 * the main thread keeps serving requests and gathers the next group meanwhile.
 * It handles one group at a time and answers each with its outcomes after the commit returned.
 * Requests arrive through a ring in shared memory (append-channel.ts); the thread takes
 * everything there as its next group, and sleeps in Atomics.wait (not its event loop) while
 * the ring is empty.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AppendGroupWriter } from './append-group.js';
import { RingReader, type AppendWorkerData } from './append-channel.js';
import { errorToWire, packOutcomes, type FromWorker } from './append-wire.js';
import { cacheSizePragma } from './page-cache.js';

const port = parentPort;
if (port) run(port, workerData as AppendWorkerData);

function run(
  channel: NonNullable<typeof parentPort>,
  { settings, channel: buffers, maxGroupEvents }: AppendWorkerData,
): void {
  const send = (message: FromWorker) => channel.postMessage(message);
  let db: Database.Database;
  let writer: AppendGroupWriter;
  try {
    db = new Database(settings.path, { fileMustExist: true });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${settings.synchronous}`);
    const actual = db.pragma('synchronous', { simple: true });
    if (actual !== settings.synchronous)
      throw new Error(`SQLite refused synchronous=${settings.synchronous} (it reports ${String(actual)})`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
    db.pragma(cacheSizePragma(settings.cacheBytes));
    if (settings.maxDatabaseBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(settings.maxDatabaseBytes / pageSize))}`);
    }
    writer = new AppendGroupWriter(db);
  } catch (err) {
    send({ kind: 'open-failed', error: errorToWire(err) });
    return;
  }
  const ring = new RingReader(channel, buffers);
  send({ kind: 'ready' });
  for (;;) {
    const taken = ring.take(maxGroupEvents);
    if (taken.kind === 'close') {
      db.close();
      send({ kind: 'closed' });
      channel.close();
      return;
    }
    const startedAt = performance.timeOrigin + performance.now();
    try {
      const outcomes = packOutcomes(writer.write(taken.requests, Date.now()));
      send({
        kind: 'committed',
        outcomes,
        durationMs: performance.timeOrigin + performance.now() - startedAt,
        startedAt,
      });
    } catch (err) {
      send({ kind: 'commit-failed', error: errorToWire(err), requests: taken.requests.length });
    }
  }
}
