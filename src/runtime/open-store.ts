/**
 * The start-up steps that need the store (opening it, registering the admin key, loading the
 * specs and jobs folders), each tried again while the store is unavailable. A cluster that is
 * slow, partitioned, electing leaders or not there yet is a reason to wait, not to crash: each
 * failed attempt is one log line with the reason and the next try, and `onWaiting` lets the
 * starting server answer `/readyz` with the same reason. Any other failure (a locked data dir,
 * refused credentials, a bad spec) ends the start-up at once. Every step is idempotent.
 */
import type { Logger } from 'pino';
import { isRivuletError } from '../kernel/errors.js';
import { nextDelayMs, type RetryPolicy } from '../delivery/backoff.js';
import type { Store } from '../store/port.js';

/** 0.5 s, 1 s, 2 s … capped at 15 s, with equal jitter so processes restarted together spread out */
const START_RETRY: RetryPolicy = {
  maxAttempts: Number.MAX_SAFE_INTEGER,
  initialDelayMs: 500,
  maxDelayMs: 15_000,
  multiplier: 2,
  jitter: 'equal',
};

export interface OpenStoreOptions {
  log: Logger;
  /** told of each failed attempt, with the reason */
  onWaiting?: (reason: string) => void;
}

export function openStoreWhenReachable(store: Store, options: OpenStoreOptions): Promise<void> {
  return whileStoreUnavailable('opening the store', () => store.open(), options);
}

export async function whileStoreUnavailable<T>(
  step: string,
  run: () => Promise<T>,
  options: OpenStoreOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await run();
      if (attempt > 1) options.log.info({ attempt, step }, 'start-up step done after the store came back');
      return result;
    } catch (err) {
      if (!isRivuletError(err) || err.code !== 'STORE_UNAVAILABLE') throw err;
      const delayMs = Math.round(nextDelayMs(attempt, START_RETRY));
      options.log.warn(
        { attempt, step, retryInMs: delayMs, reason: err.message },
        `store unavailable at start-up (${step}); trying again in ${(delayMs / 1000).toFixed(1)} s`,
      );
      options.onWaiting?.(err.message);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
