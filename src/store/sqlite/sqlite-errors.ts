/** Maps SQLite failures to catalogue errors; the original is kept as `cause` for the log. */
import { RivuletError, isRivuletError } from '../../kernel/errors.js';

/** STORAGE_FULL for a failure of the disk (full, or failing to write or sync); undefined for any other */
export function storageFullOf(err: unknown): RivuletError | undefined {
  if (isRivuletError(err)) return err.code === 'STORAGE_FULL' ? err : undefined;
  const code = (err as { code?: string } | null)?.code ?? '';
  if (
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_IOERR_WRITE') ||
    code === 'SQLITE_IOERR_FSYNC' ||
    code === 'ENOSPC'
  ) {
    return new RivuletError(
      'STORAGE_FULL',
      'the store could not write: the disk is full or failing; nothing was written',
      {
        cause: err,
        retryAfter: 5,
      },
    );
  }
  return undefined;
}

export function mapSqliteError(err: unknown, during: string): unknown {
  if (isRivuletError(err)) return err;
  const full = storageFullOf(err);
  if (full) return full;
  const code = (err as { code?: string } | null)?.code ?? '';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new RivuletError('OVERLOADED', 'the store is busy; retry shortly', { cause: err, retryAfter: 1 });
  }
  if (code.startsWith('SQLITE_')) {
    return new RivuletError('STORE_UNAVAILABLE', `the store failed during ${during}`, { cause: err, retryAfter: 5 });
  }
  return err;
}
