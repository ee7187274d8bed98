/**
 * The embedded store: one SQLite database in the data directory, in WAL mode.
 *
 * Durability: with `durability: 'strict'` (the default) every commit is fsync'd
 * (`synchronous=FULL`), and the setting is read back after it is set, because in WAL mode
 * better-sqlite3's build defaults to NORMAL, which can lose the last commits on power loss.
 * `relaxed` uses NORMAL: the database stays consistent, but a crash of the machine (not of
 * the process) may lose the most recent acknowledged writes.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import type { ReaderStats, Store, StoreCapabilities, StoreHealth } from '../port.js';
import { GroupCommitter, type CommitInfo } from './group-commit.js';
import { ReaderThreads, rivuletFromWire } from '../reader-threads.js';
import { spawnStoreThread } from '../store-thread.js';
import type { ReaderSettings, SqliteReaders } from './reader-wire.js';
import { cacheSizePragma, DEFAULT_READ_CACHE_BYTES, DEFAULT_WRITE_CACHE_BYTES } from './page-cache.js';
import { migrate } from './schema.js';
import { SqliteConsumerStore } from './sqlite-consumer-store.js';
import { SqliteDocumentStore } from './sqlite-document-store.js';
import { SqliteEventLog } from './sqlite-event-log.js';
import { SqliteStreamCatalog } from './sqlite-stream-catalog.js';
import { WriteHealth, guardWrites } from './write-health.js';
import { mapSqliteError } from './sqlite-errors.js';

export type Durability = 'strict' | 'relaxed';

export interface SqliteStoreOptions {
  dataDir: string;
  durability?: Durability;
  /** how long an Idempotency-Key is remembered */
  idempotencyWindowMs?: number;
  /** upper bound on the size of the database file; appends past it fail with STORAGE_FULL */
  maxDatabaseBytes?: number;
  /** observes each group commit of appends (metrics); it is called after the commit returned and never fails a write */
  onCommit?: (info: CommitInfo) => void;
  /** threads that run event reads, each with a read-only connection (default 2) */
  readerThreads?: number;
  /** SQLite page cache of each connection that only reads, in bytes (default 2 MiB) */
  readCacheBytes?: number;
  /** SQLite page cache of each connection that writes, in bytes (default 4 MiB) */
  writeCacheBytes?: number;
}

export const DATABASE_FILE = 'rivulet.db';
const LOCK_FILE = 'rivulet.lock';
/** how long a connection waits for another's write lock (the append worker's and the main one's) */
const BUSY_TIMEOUT_MS = 5000;
/**
 * The reader threads' nice value (Linux sets it per thread): when the cores are all busy, the
 * scheduler gives the event loop and the append worker the larger share, so reads slow down
 * before writes do. Idle cores still go to reads.
 */
const READER_NICENESS = 10;

export class StoreOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  // one process: every document write goes through this process's services, which drop their own cache entries
  readonly capabilities: StoreCapabilities = {
    crossProcessWatch: false,
    timeIndex: true,
    multiProcess: false,
    documentWatch: false,
    eventJson: true,
  };
  private writer!: Db;
  private reader!: Db;
  private readers: SqliteReaders | null = null;
  private eventLog!: SqliteEventLog;
  private catalog!: SqliteStreamCatalog;
  private docs!: SqliteDocumentStore;
  private consumerStore!: SqliteConsumerStore;
  private closed: Promise<void> | null = null;
  private lockFd: number | null = null;
  private writeHealth!: WriteHealth;

  constructor(private readonly options: SqliteStoreOptions) {}

  get events(): SqliteEventLog {
    return this.eventLog;
  }
  get streams(): SqliteStreamCatalog {
    return this.catalog;
  }
  get documents(): SqliteDocumentStore {
    return this.docs;
  }
  get consumers(): SqliteConsumerStore {
    return this.consumerStore;
  }
  get path(): string {
    return join(this.options.dataDir, DATABASE_FILE);
  }

  async open(): Promise<void> {
    mkdirSync(this.options.dataDir, { recursive: true });
    this.takeLock();
    this.writeHealth = new WriteHealth(this.options.dataDir);
    try {
      // every write of the main connection answers a full disk as STORAGE_FULL and is seen by readiness
      this.writer = guardWrites(this.openConnection(false), this.writeHealth);
      migrate(this.writer);
      this.reader = this.openConnection(true);
    } catch (err) {
      this.releaseLock();
      throw err;
    }
    let committer: GroupCommitter;
    let readers: SqliteReaders;
    try {
      const settings: ReaderSettings = {
        path: this.path,
        synchronous: this.synchronous(),
        busyTimeoutMs: BUSY_TIMEOUT_MS,
        niceness: READER_NICENESS,
        cacheBytes: this.readCacheBytes,
      };
      readers = await ReaderThreads.start({
        spawn: () => spawnStoreThread(import.meta.url, 'reader-worker', settings),
        size: Math.max(1, this.options.readerThreads ?? 2),
        // better-sqlite3 is synchronous: a thread runs one job at a time
        perThread: 1,
        fromWire: (error) =>
          rivuletFromWire(error, (original) =>
            mapSqliteError(Object.assign(original, { name: 'SqliteError' }), 'read'),
          ),
      });
    } catch (err) {
      this.reader.close();
      this.writer.close();
      this.releaseLock();
      throw new StoreOpenError(`cannot open ${this.path} for reads: ${(err as Error).message}`, { cause: err });
    }
    this.readers = readers;
    try {
      committer = await GroupCommitter.start({
        settings: {
          path: this.path,
          synchronous: this.synchronous(),
          busyTimeoutMs: BUSY_TIMEOUT_MS,
          maxDatabaseBytes: this.options.maxDatabaseBytes,
          cacheBytes: this.writeCacheBytes,
        },
        onCommit: this.options.onCommit,
        writeHealth: this.writeHealth,
      });
    } catch (err) {
      await readers.close();
      this.readers = null;
      this.reader.close();
      this.writer.close();
      this.releaseLock();
      throw err instanceof StoreOpenError
        ? err
        : new StoreOpenError(`cannot open ${this.path} for appends: ${(err as Error).message}`, { cause: err });
    }
    this.catalog = new SqliteStreamCatalog(this.writer);
    const catalog = this.catalog;
    this.eventLog = new SqliteEventLog(
      this.writer,
      this.reader,
      readers,
      this.options.idempotencyWindowMs ?? 24 * 3600_000,
      (afterCommit) => committer.withAfterCommit(afterCommit),
      (name) => catalog.forget(name),
    );
    this.docs = new SqliteDocumentStore(this.writer);
    this.consumerStore = new SqliteConsumerStore(this.writer, this.eventLog);
  }

  private openConnection(readonly: boolean): Db {
    const path = this.path;
    let db: Db;
    try {
      db = new Database(path, { readonly: false, fileMustExist: readonly });
      // Reading the schema forces SQLite to parse the header and the first pages, so a file
      // that is not a database or is truncated fails here rather than on the first request.
      db.pragma('schema_version');
      db.pragma('journal_mode = WAL');
      const wanted = this.synchronous();
      db.pragma(`synchronous = ${wanted}`);
      const actual = db.pragma('synchronous', { simple: true });
      if (actual !== wanted)
        throw new StoreOpenError(`SQLite refused synchronous=${wanted} (it reports ${String(actual)})`);
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma(cacheSizePragma(readonly ? this.readCacheBytes : this.writeCacheBytes));
      if (readonly) db.pragma('query_only = ON');
    } catch (err) {
      if (err instanceof StoreOpenError) throw err;
      const code = (err as { code?: string }).code ?? '';
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new StoreOpenError(
          `${path} is not a readable Rivulet database (${code}): it is corrupted or truncated. ` +
            'Restore it from a backup (see docs/operations.md); Rivulet will not serve a damaged store.',
          { cause: err },
        );
      }
      throw new StoreOpenError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
    }
    return db;
  }

  private get readCacheBytes(): number {
    return this.options.readCacheBytes ?? DEFAULT_READ_CACHE_BYTES;
  }

  private get writeCacheBytes(): number {
    return this.options.writeCacheBytes ?? DEFAULT_WRITE_CACHE_BYTES;
  }

  /** 2 = FULL: every commit is fsync'd; 1 = NORMAL */
  private synchronous(): number {
    return this.options.durability === 'relaxed' ? 1 : 2;
  }

  /** One process per data directory: the group committer and in-process watchers rely on it. */
  private takeLock(): void {
    const path = join(this.options.dataDir, LOCK_FILE);
    try {
      this.lockFd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) {
        throw new StoreOpenError(`${this.options.dataDir} is in use by another Rivulet process (pid ${pid})`);
      }
      // a stale lock from a process that died: take it over
      rmSync(path, { force: true });
      this.lockFd = openSync(path, 'wx', 0o600);
    }
    writeSync(this.lockFd, String(process.pid));
  }

  private releaseLock(): void {
    if (this.lockFd === null) return;
    closeSync(this.lockFd);
    this.lockFd = null;
    rmSync(join(this.options.dataDir, LOCK_FILE), { force: true });
  }

  readerStats(): ReaderStats | null {
    return this.readers?.stats ?? null;
  }

  async health(): Promise<StoreHealth> {
    try {
      this.reader.prepare('SELECT 1').get();
      if (!this.writeHealth.ready(() => this.probeWrite()))
        return { ok: false, detail: 'writes fail: the disk is full or failing' };
      return { ok: true, detail: `sqlite ${statSync(this.path).size} bytes` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  /** one small committed write, to learn whether writes work again */
  private probeWrite(): void {
    const now = new Date().toISOString();
    this.writer
      .prepare(
        `INSERT INTO documents (collection, key, value, version, updated_at) VALUES ('_store', 'write-probe', ?, 1, ?)
       ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value, version = version + 1, updated_at = excluded.updated_at`,
      )
      .run(JSON.stringify({ at: now }), now);
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.eventLog) await this.eventLog.closeWriter();
      await this.readers?.close();
      this.reader?.close();
      if (this.writer?.open) {
        // fold the WAL back into the database so a backup of the one file is complete; on a full
        // disk that may fail, and the WAL (already durable) is folded in at the next open instead
        try {
          this.writer.pragma('wal_checkpoint(TRUNCATE)');
        } catch {
          // the WAL stays beside the database; SQLite replays it when it opens the file
        }
        this.writer.close();
      }
      this.releaseLock();
    })();
    return this.closed;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
