/**
 * Sink isolation: one sink's receiver hangs (never answers; the sink's policy times attempts out
 * after 300 ms), one resets every connection, one answers after 2 s (ordered: one request at a
 * time) — and a fourth, healthy sink on the same source stream, and ingest, keep their pace.
 *
 * Everything is relative, never an absolute time: the same workload runs first with the healthy
 * sink alone (the baseline), then beside the three bad ones. The healthy sink must deliver every
 * event before the slow receiver has answered a handful of requests, and the p99 of produce
 * latency under the bad sinks must stay within a generous factor of the baseline's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createDelivery } from '../../src/delivery/delivery-setup.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { tempDir } from '../support/resources.js';
import { buildTestApp } from '../support/test-app.js';

/** events produced before the measured phase, so the bad sinks are busy failing when it starts */
const WARMUP = 50;
/** events produced one per request in the measured phase */
const MEASURED = 200;
/** the healthy sink must be done before the slow receiver answered more than this many requests */
const SLOW_ANSWERS = 3;
const SLOW_MS = 2000;
/** p99 of produce latency with the bad sinks, at most this factor of the baseline's … */
const P99_FACTOR = 10;
/** … where a baseline below this counts as this (sub-millisecond baselines make ratios noise) */
const P99_FLOOR_MS = 20;

const BAD_RETRY = { maxAttempts: 1000, initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 'none' };

interface Run {
  /** ms from the first measured produce until the healthy receiver had every event */
  healthyMs: number;
  p99Ms: number;
  /** requests the slow receiver answered during the measured phase */
  slowAnswered: number;
  badRequests: { hang: number; reset: number; slow: number };
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function run(withBadSinks: boolean): Promise<Run> {
  const delivery = createDelivery({ allowLoopback: true });
  const t = await buildTestApp({ dataDir: tempDir('rivulet-sink-isolation'), core: { sinkChecks: delivery.checks } });
  const engine = delivery.engine(t.services, t.store, pino({ level: 'silent' }), {
    scanIntervalMs: 100,
    idlePollMs: 20,
    flushIntervalMs: 50,
    ownerLeaseMs: 5000,
    closeGraceMs: 300,
  });
  const receivers: Receiver[] = [];
  let slowAnswered = 0;
  try {
    const healthy = await startReceiver();
    receivers.push(healthy);
    const hang = await startReceiver(() => {
      /* never answers */
    });
    receivers.push(hang);
    const reset = await startReceiver((_req, res) => res.socket?.destroy());
    receivers.push(reset);
    const slow = await startReceiver((_req, res) => {
      setTimeout(() => {
        slowAnswered++;
        res.end('ok');
      }, SLOW_MS).unref();
    });
    receivers.push(slow);

    const post = async (url: string, payload: unknown, status = 201) => {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: t.admin,
        payload: payload as Record<string, unknown>,
      });
      assert.equal(res.statusCode, status, `${url}: ${res.body}`);
    };
    await post('/v1/streams', { name: 'orders' });
    const sink = (id: string, url: string, policy: Record<string, unknown>) =>
      post('/v1/sinks', {
        id,
        streams: ['orders'],
        start: { from: 'beginning' },
        target: { kind: 'http', url },
        policy,
      });
    await sink('healthy', healthy.url, {});
    if (withBadSinks) {
      await sink('hangs', hang.url, { timeoutMs: 300, retry: BAD_RETRY });
      await sink('resets', reset.url, { retry: BAD_RETRY });
      await sink('slow', slow.url, { ordering: 'ordered', timeoutMs: 30_000, retry: BAD_RETRY });
    }
    engine.start();

    const seqsOf = (r: Receiver) => new Set(r.requests.map((q) => (JSON.parse(q.body) as { seq: number }).seq));
    await post(
      '/v1/streams/orders/events',
      Array.from({ length: WARMUP }, (_, i) => ({ type: 'order.placed', data: { n: i } })),
    );
    await until('the warm-up delivered', () => seqsOf(healthy).size >= WARMUP, 20_000);
    if (withBadSinks) {
      // the bad sinks are in their failure modes before the measured phase starts
      await until(
        'every bad receiver busy',
        () => hang.requests.length > 0 && reset.requests.length > 1 && slow.requests.length > 0,
        20_000,
      );
    }

    const slowBefore = slowAnswered;
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < MEASURED; i++) {
      const t0 = performance.now();
      await post('/v1/streams/orders/events', { type: 'order.placed', data: { n: WARMUP + i } });
      latencies.push(performance.now() - t0);
    }
    await until('the healthy sink delivered everything', () => seqsOf(healthy).size >= WARMUP + MEASURED, 30_000);
    const healthyMs = performance.now() - started;
    return {
      healthyMs,
      p99Ms: p99(latencies),
      slowAnswered: slowAnswered - slowBefore,
      badRequests: { hang: hang.requests.length, reset: reset.requests.length, slow: slow.requests.length },
    };
  } finally {
    await engine.close();
    await t.close();
    for (const r of receivers) await r.close();
  }
}

describe('sink isolation', () => {
  it('a hanging, a resetting and a slow receiver do not hold back a healthy sink or ingest', async (t) => {
    const baseline = await run(false);
    const bad = await run(true);
    t.diagnostic(
      `baseline: healthy sink ${baseline.healthyMs.toFixed(0)} ms, produce p99 ${baseline.p99Ms.toFixed(1)} ms`,
    );
    t.diagnostic(
      `bad sinks: healthy sink ${bad.healthyMs.toFixed(0)} ms (${(bad.healthyMs / baseline.healthyMs).toFixed(2)}×), produce p99 ${bad.p99Ms.toFixed(1)} ms, slow answered ${bad.slowAnswered}, requests ${JSON.stringify(bad.badRequests)}`,
    );
    // the bad receivers really were failing all along
    assert.ok(bad.badRequests.hang > 0 && bad.badRequests.reset > 1 && bad.badRequests.slow > 0);
    assert.ok(
      bad.slowAnswered <= SLOW_ANSWERS,
      `the healthy sink finished only after the slow receiver answered ${bad.slowAnswered} requests (${SLOW_MS} ms each)`,
    );
    const allowed = P99_FACTOR * Math.max(baseline.p99Ms, P99_FLOOR_MS);
    assert.ok(
      bad.p99Ms <= allowed,
      `produce p99 ${bad.p99Ms.toFixed(1)} ms under the bad sinks, over ${P99_FACTOR}× the baseline's`,
    );
  });
});
