/**
 * Rules end to end in one process: the real app over a real SQLite store, the delivery engine
 * (with the `rule` and `rule-action` targets), and helpers to create iFLUX resources through
 * the native API. The URL guard allows loopback explicitly, for the receivers on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import pino from 'pino';
import { createDelivery } from '../../src/delivery/delivery-setup.js';
import type { SinkEngine } from '../../src/delivery/engine/sink-engine.js';
import { buildTestApp, type TestApp } from './test-app.js';
import { tempDir, track } from './resources.js';

/** small delays so retries and dead letters happen within a test */
export const FAST_RETRY = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 30, multiplier: 2, jitter: 'none' };

export interface RulesHarness {
  t: TestApp;
  engine: SinkEngine;
  /** POST to the native API as the admin (or `headers`), asserting the status */
  post(url: string, payload: unknown, status?: number, headers?: Record<string, string>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startRules(options: { allowLoopback?: boolean } = {}): Promise<RulesHarness> {
  const delivery = createDelivery({ allowLoopback: options.allowLoopback ?? true });
  const t = await buildTestApp({
    dataDir: tempDir('rivulet-rules'),
    core: { sinkChecks: delivery.checks, rulesStream: 'iflux' },
    dialects: { iflux: { stream: 'iflux', anonymous: false } },
  });
  const engine = delivery.engine(t.services, pino({ level: 'silent' }), { scanIntervalMs: 100, idlePollMs: 20, flushIntervalMs: 50, ownerLeaseMs: 3000, closeGraceMs: 500 });
  engine.start();
  let closed = false;
  const h: RulesHarness = {
    t,
    engine,
    async post(url, payload, status = 201, headers = t.admin) {
      const res = await t.app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });
      assert.equal(res.statusCode, status, `${url}: ${res.body}`);
      return res.body === '' ? {} : res.json();
    },
    async close() {
      if (closed) return;
      closed = true;
      await engine.close();
      await t.close();
    },
  };
  return track('rules harness', h, () => closed);
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
