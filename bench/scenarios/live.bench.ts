/**
 * Live subscriptions: produce→receive latency at a fixed rate (1,000 events/s, 10 WebSocket
 * subscribers), and fan-out to 100 and 1,000 WebSocket subscribers at 100 events/s, on
 * Rivulet (separate process, durable acks) and on a bare `ws` broadcast server (the ceiling,
 * which stores nothing). Latency runs from just before the produce request is sent to the
 * message's arrival at a subscriber. Subscribers live in worker threads (up to 250 each), so
 * the client's parsing is not what limits the large fan-out.
 * Goals: p99 ≤ 10 ms at 1,000 events/s with 10 subscribers; p99 ≤ 250 ms with 1,000
 * subscribers at 100 events/s.
 *
 * Run alone: node --import tsx bench/scenarios/live.bench.ts (after npm run build);
 * BENCH_CPU_PROF=<dir> writes a CPU profile of the Rivulet process there.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createContext, type BenchContext, type Row, type Scenario } from '../context.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CEILING = fileURLToPath(new URL('../live-ceiling.mjs', import.meta.url));
const SUBSCRIBERS = new URL('../live-subscribers.mjs', import.meta.url);
const PER_WORKER = 250;

interface Target {
  /** the WebSocket URL subscribers connect to */
  wsUrl: string;
  publishUrl: string;
  headers: Record<string, string>;
  /** the request body carrying `t`; the subscribers find it again as `data.t` */
  body(t: number): unknown;
}

interface Measured {
  /** produce request answered (Rivulet: committed and fsync'd; the ceiling: broadcast) */
  ackP99Ms: number;
  /** from the store's `received` time to arrival (ms clock; Rivulet only) */
  storeP99Ms: number;
  p50Ms: number;
  p99Ms: number;
  deliveredPerS: number;
  expected: number;
  delivered: number;
}

const now = () => performance.timeOrigin + performance.now();
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the subscribers, spread over worker threads */
export async function subscribe(url: string, subscribers: number, options: { parse?: boolean } = {}) {
  const threads = Math.ceil(subscribers / PER_WORKER);
  const workers = Array.from({ length: threads }, (_, i) => {
    const count = Math.floor(subscribers / threads) + (i < subscribers % threads ? 1 : 0);
    return new Worker(SUBSCRIBERS, { workerData: { url, count, parse: options.parse ?? true } });
  });
  // one question at a time per worker, so the next message is the answer
  const ask = <T>(w: Worker, msg: object) =>
    new Promise<T>((resolve) => {
      w.once('message', resolve);
      w.postMessage(msg);
    });
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', (m: { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve()));
          w.on('error', reject);
        }),
    ),
  );
  return {
    window: (t: number) => workers.forEach((w) => w.postMessage({ window: t })),
    async delivered(): Promise<number> {
      const counts = await Promise.all(workers.map((w) => ask<{ delivered: number }>(w, { count: true })));
      return counts.reduce((n, c) => n + c.delivered, 0);
    },
    /** every latency measured in the window, sorted (send → arrival; store → arrival); closes the subscribers */
    async collect(): Promise<{ latencies: Float64Array; fromStore: Float64Array }> {
      const parts = await Promise.all(
        workers.map((w) => ask<{ latencies: Float64Array; fromStore: Float64Array }>(w, { collect: true })),
      );
      await Promise.all(workers.map((w) => w.terminate()));
      return { latencies: joined(parts.map((p) => p.latencies)), fromStore: joined(parts.map((p) => p.fromStore)) };
    },
  };
}

function joined(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all.sort();
}

export const quantile = (sorted: Float64Array, q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

async function measure(ctx: BenchContext, target: Target, subscribers: number, ratePerS: number): Promise<Measured> {
  const subs = await subscribe(target.wsUrl, subscribers);
  const load = (durationS: number) =>
    ctx.pace({
      url: target.publishUrl,
      headers: target.headers,
      body: () => JSON.stringify(target.body(now())),
      ratePerS,
      durationS,
    });
  // a short warm-up, not measured
  await load(0.5);
  await settle(500);
  const start = now();
  subs.window(start);
  const { sent, p99Ms: ackP99Ms } = await load(DURATION_S);
  // wait for the tail to arrive (up to 10 s), so a backlog shows as latency rather than loss
  for (let i = 0; i < 100 && (await subs.delivered()) < sent * subscribers; i++) await settle(100);
  const elapsedS = (now() - start) / 1000;
  const { latencies, fromStore } = await subs.collect();
  return {
    ackP99Ms,
    storeP99Ms: quantile(fromStore, 0.99),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    deliveredPerS: latencies.length / elapsedS,
    expected: sent * subscribers,
    delivered: latencies.length,
  };
}

const CASES = [
  { name: '10 subscribers @ 1,000 events/s', subscribers: 10, rate: 1000, goalP99: 10 },
  { name: '100 subscribers @ 100 events/s', subscribers: 100, rate: 100, goalP99: undefined },
  { name: '1,000 subscribers @ 100 events/s', subscribers: 1000, rate: 100, goalP99: 250 },
];

export const scenario: Scenario = {
  name: 'live',
  async run(ctx: BenchContext): Promise<Row[]> {
    const prof = process.env.BENCH_CPU_PROF;
    // latency is measured here, not admission: the overload guard would refuse the set-up on a busy machine
    // BENCH_LIVE_DURABILITY=relaxed separates the live path's latency from the fsync's
    const durability = process.env.BENCH_LIVE_DURABILITY ? ['--durability', process.env.BENCH_LIVE_DURABILITY] : [];
    const server = await ctx.startRivulet({
      args: ['--max-event-loop-delay', '0', ...durability],
      nodeArgs: prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [],
    });
    const auth = { authorization: `Bearer ${server.adminKey}` };
    await ctx.post(`${server.url}/v1/streams`, auth, { name: 'bench' });
    // subscribers authenticate with a live token: `ws` can send headers, but browsers cannot
    const { token } = await ctx.post<{ token: string }>(`${server.url}/v1/live-tokens`, auth, { stream: 'bench' });
    const wsUrl = new URL(`${server.url.replace(/^http/, 'ws')}/v1/streams/bench/live`);
    wsUrl.searchParams.set('token', token);
    const rivulet: Target = {
      wsUrl: wsUrl.href,
      publishUrl: `${server.url}/v1/streams/bench/events`,
      headers: auth,
      body: (t) => ({ type: 'bench.tick', data: { t } }),
    };
    const ceilingServer = await ctx.startCeiling(CEILING);
    const ceiling: Target = {
      wsUrl: ceilingServer.url.replace(/^http/, 'ws'),
      publishUrl: `${ceilingServer.url}/publish`,
      headers: {},
      body: (t) => ({ t }),
    };
    const only = process.env.BENCH_LIVE_CASES?.split(',');
    const rows: Row[] = [];
    for (const [i, c] of CASES.entries()) {
      if (only && !only.includes(String(i + 1))) continue;
      const base = await measure(ctx, ceiling, c.subscribers, c.rate);
      const ours = await measure(ctx, rivulet, c.subscribers, c.rate);
      const row = (metric: string, value: number, ceil: number, unit: string, goal?: string, pass?: boolean): Row => ({
        scenario: 'live',
        case: c.name,
        metric,
        value,
        unit,
        ceiling: ceil,
        ratio: ceil > 0 ? value / ceil : undefined,
        goal,
        pass,
      });
      rows.push(
        row('latency p50', ours.p50Ms, base.p50Ms, 'ms'),
        row(
          'latency p99',
          ours.p99Ms,
          base.p99Ms,
          'ms',
          c.goalP99 === undefined ? undefined : `≤ ${c.goalP99}`,
          c.goalP99 === undefined ? undefined : ours.p99Ms <= c.goalP99,
        ),
        row('produce ack p99', ours.ackP99Ms, base.ackP99Ms, 'ms'),
        { scenario: 'live', case: c.name, metric: 'stored→received p99', value: ours.storeP99Ms, unit: 'ms' },
        row(
          'delivered',
          ours.deliveredPerS,
          base.deliveredPerS,
          'events/s',
          `${ours.delivered}/${ours.expected}`,
          ours.delivered === ours.expected,
        ),
      );
    }
    return rows;
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { ctx, cleanup } = createContext();
  try {
    for (const r of await scenario.run(ctx)) {
      console.log(
        `${r.case.padEnd(34)} ${r.metric.padEnd(12)} ${r.value.toFixed(2).padStart(10)} ${r.unit.padEnd(9)} ceiling ${r.ceiling?.toFixed(2).padStart(9) ?? ''} ratio ${r.ratio?.toFixed(2) ?? ''} ${r.goal ?? ''} ${r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL'}`,
      );
    }
  } finally {
    await cleanup();
  }
}
