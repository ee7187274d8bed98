/**
 * Whether the store can write. A write that fails because the disk is full (or failing) marks
 * the store unhealthy, so readiness reports it; a later write that succeeds marks it healthy
 * again. Every write of the main connection passes through `guardWrites`, which also turns
 * SQLite's "disk full" failures into STORAGE_FULL, the code the append path already answers,
 * so every write route refuses the same way (507) rather than with an unexpected 500.
 */
import { statfsSync } from 'node:fs';
import type { Database as Db, Statement } from 'better-sqlite3';
import { isRivuletError } from '../../kernel/errors.js';
import { storageFullOf } from './sqlite-errors.js';

/** free space below which a store that failed to write stays unready without trying again */
const RECOVERY_FREE_BYTES = 256 * 1024;

export class WriteHealth {
  private failing = false;

  constructor(private readonly dataDir: string) {}

  /** observes a write's failure; only a full or failing disk makes the store unhealthy */
  failed(err: unknown): void {
    if (isRivuletError(err) && err.code === 'STORAGE_FULL') this.failing = true;
  }

  succeeded(): void {
    this.failing = false;
  }

  /**
   * Whether writes work. After a failure, it tries one small real write once the filesystem
   * has room again (`probe`), so readiness comes back without waiting for a client's write.
   */
  ready(probe: () => void): boolean {
    if (!this.failing) return true;
    try {
      const { bavail, bsize } = statfsSync(this.dataDir);
      if (bavail * bsize < RECOVERY_FREE_BYTES) return false;
      probe();
      this.succeeded();
    } catch (err) {
      this.failed(storageFullOf(err) ?? err);
    }
    return !this.failing;
  }
}

type Fn = (...args: unknown[]) => unknown;

/** runs `fn`, turning a full disk into STORAGE_FULL and recording it */
function guarded<T>(health: WriteHealth, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const full = storageFullOf(err);
    if (full) {
      health.failed(full);
      throw full;
    }
    throw err;
  }
}

function guardStatement(st: Statement, health: WriteHealth): Statement {
  // A write with RETURNING read by `get()` steps once and resets: outside a transaction its
  // autocommit happens in the reset, whose failure (a full disk) better-sqlite3 drops, so the
  // caller would see a row that was never written. `all()` runs it to the end, where a failed
  // commit throws.
  const getOfWrite = !st.readonly;
  return new Proxy(st, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'get' && getOfWrite)
        return (...args: unknown[]) => guarded(health, () => (target.all(...args) as unknown[])[0]);
      if (prop === 'run' || prop === 'get' || prop === 'all')
        return (...args: unknown[]) => guarded(health, () => (value as Fn).apply(target, args));
      return (value as Fn).bind(target);
    },
  });
}

function guardTransaction(tx: Fn & Record<string, unknown>, health: WriteHealth): Fn {
  const wrapped = ((...args: unknown[]) => guarded(health, () => tx(...args))) as Fn & Record<string, unknown>;
  for (const mode of ['deferred', 'immediate', 'exclusive']) {
    const variant = tx[mode] as Fn;
    wrapped[mode] = (...args: unknown[]) => guarded(health, () => variant(...args));
  }
  return wrapped;
}

/** the main connection, with every statement, transaction and exec guarded */
export function guardWrites(db: Db, health: WriteHealth): Db {
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'prepare') return (source: string) => guardStatement(target.prepare(source), health);
      if (prop === 'transaction')
        return (fn: Fn) => guardTransaction(target.transaction(fn) as unknown as Fn & Record<string, unknown>, health);
      if (prop === 'exec' || prop === 'pragma')
        return (...args: unknown[]) => guarded(health, () => (value as Fn).apply(target, args));
      return (value as Fn).bind(target);
    },
  });
}
