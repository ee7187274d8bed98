/**
 * JetStream out of storage: the server's disk limit (`max_file_store`), the account's, or the
 * disk itself. Such a refusal is definite (nothing was stored) and lasting, so it is answered
 * at once as STORAGE_FULL (507), as the sqlite store answers a full disk, rather than retried.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { RivuletError } from '../../kernel/errors.js';

/** insufficient resources, storage or memory resources exceeded, account resources exceeded */
const STORAGE_CODES = new Set([10023, 10047, 10028, 10002]);

export function isStorageRefusal(code: number, description: string): boolean {
  if (STORAGE_CODES.has(code)) return true;
  // a store failure (10077) that says why: the disk itself
  return code === 10077 && /insufficient|resources|no space|disk/i.test(description);
}

export function storageFull(cause?: unknown): RivuletError {
  return new RivuletError(
    'STORAGE_FULL',
    'the store could not write: JetStream is out of storage; nothing was written',
    { cause, retryAfter: 5 },
  );
}

/** STORAGE_FULL for an API error of JetStream that says it is out of storage; the error itself otherwise */
export function mapStorageError(err: unknown): unknown {
  if (err instanceof JetStreamApiError && isStorageRefusal(err.code, err.message)) return storageFull(err);
  return err;
}
