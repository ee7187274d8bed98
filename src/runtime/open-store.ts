/**
 * Opens the store at start-up, trying again while it is unavailable. A cluster that is slow,
 * partitioned or not there yet is a reason to wait, not to crash: each failed attempt is one
 * log line with the reason and the next try, and `onWaiting` lets the starting server answer
 * `/readyz` with the same reason. Any other failure (a locked data dir, refused credentials)
 * ends the start-up at once.
 */
import type { Logger } from 'pino';
import { isRivuletError } from '../core/errors.js';
import { nextDelayMs, type RetryPolicy } from '../delivery/backoff.js';
import type { Store } from '../store/port.js';

/** 0.5 s, 1 s, 2 s … capped at 15 s, with equal jitter so processes restarted together spread out */
const START_RETRY: RetryPolicy = { maxAttempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 500, maxDelayMs: 15_000, multiplier: 2, jitter: 'equal' };

export interface OpenStoreOptions {
  log: Logger;
  /** told of each failed attempt, with the reason */
  onWaiting?: (reason: string) => void;
}

export async function openStoreWhenReachable(store: Store, options: OpenStoreOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.open();
      if (attempt > 1) options.log.info({ attempt }, 'store opened');
      return;
    } catch (err) {
      if (!isRivuletError(err) || err.code !== 'STORE_UNAVAILABLE') throw err;
      const delayMs = Math.round(nextDelayMs(attempt, START_RETRY));
      options.log.warn({ attempt, retryInMs: delayMs, reason: err.message }, `store unavailable at start-up; trying again in ${(delayMs / 1000).toFixed(1)} s`);
      options.onWaiting?.(err.message);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
