/**
 * The real app over a real SQLite store with the delivery engine: what the sink, rule, aether
 * and okdata tests start from. The URL guard lets loopback through unless told otherwise, for
 * the receivers on 127.0.0.1; the engine scans and polls often, so deliveries come quickly.
 */
import pino from 'pino';
import { createDelivery } from '../../src/delivery/delivery-setup.js';
import type { SinkEngine } from '../../src/delivery/engine/sink-engine.js';
import { track } from './resources.js';
import { buildTestApp, type TestApp, type TestAppOptions } from './test-app.js';

export interface DeliveryApp {
  t: TestApp;
  engine: SinkEngine;
  /** closes the engine, then the app; again, does nothing */
  close(): Promise<void>;
}

export interface DeliveryAppOptions extends TestAppOptions {
  /** false: loopback receivers are refused, as by default in production (default true) */
  allowLoopback?: boolean;
  /** false: the engine is built but not started (default true) */
  startEngine?: boolean;
}

/** The app (built with the delivery's sink checks) and its engine; the caller closes both. */
export async function buildDeliveryApp(options: DeliveryAppOptions = {}): Promise<{ t: TestApp; engine: SinkEngine }> {
  const { allowLoopback = true, startEngine = true, ...app } = options;
  const delivery = createDelivery({ allowLoopback });
  const t = await buildTestApp({ ...app, core: { ...app.core, sinkChecks: delivery.checks } });
  const engine = delivery.engine(t.services, t.store, pino({ level: 'silent' }), {
    scanIntervalMs: 100,
    idlePollMs: 20,
    flushIntervalMs: 50,
    ownerLeaseMs: 3000,
    closeGraceMs: 500,
  });
  if (startEngine) engine.start();
  return { t, engine };
}

/** The same, closed as one; a test that leaves it open fails (named `name`). */
export async function startDeliveryApp(name: string, options: DeliveryAppOptions = {}): Promise<DeliveryApp> {
  const { t, engine } = await buildDeliveryApp(options);
  let closed = false;
  const h: DeliveryApp = {
    t,
    engine,
    async close() {
      if (closed) return;
      closed = true;
      await engine.close();
      await t.close();
    },
  };
  return track(name, h, () => closed);
}

/**
 * polls `probe` every 20 ms until it answers something other than undefined or false. The
 * bound only keeps a stuck test from hanging: it is generous, because on a loaded machine a
 * sink's lease hand-overs (3 s each in these tests) can stack up, and it is never a speed check.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
