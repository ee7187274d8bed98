/**
 * Rules end to end in one process: the real app over a real SQLite store, the delivery engine
 * (with the `rule` and `rule-action` targets), and helpers to create iFLUX resources through
 * the native API. The URL guard allows loopback explicitly, for the receivers on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { startDeliveryApp, type DeliveryApp } from './delivery-app.js';
import { tempDir } from './resources.js';

export { until } from './delivery-app.js';

/** small delays so retries and dead letters happen within a test */
export const FAST_RETRY = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 30, multiplier: 2, jitter: 'none' };

export interface RulesHarness extends DeliveryApp {
  /** POST to the native API as the admin (or `headers`), asserting the status */
  post(
    url: string,
    payload: unknown,
    status?: number,
    headers?: Record<string, string>,
  ): Promise<Record<string, unknown>>;
}

export async function startRules(options: { allowLoopback?: boolean } = {}): Promise<RulesHarness> {
  const h = await startDeliveryApp('rules harness', {
    allowLoopback: options.allowLoopback ?? true,
    dataDir: tempDir('rivulet-rules'),
    core: { rulesStream: 'iflux' },
    dialects: { iflux: { stream: 'iflux', anonymous: false } },
  });
  const { t } = h;
  return Object.assign(h, {
    async post(url: string, payload: unknown, status = 201, headers = t.admin): Promise<Record<string, unknown>> {
      const res = await t.app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });
      assert.equal(res.statusCode, status, `${url}: ${res.body}`);
      return res.body === '' ? {} : res.json();
    },
  });
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
