/**
 * Live subscriptions: produce→receive latency at a fixed rate (1,000 events/s, 10 WebSocket
 * subscribers), and fan-out to 100 and 1,000 WebSocket subscribers at 100 events/s, on
 * Rivulet (separate process, durable acks) and on a bare `ws` broadcast server (the ceiling,
 * which stores nothing). Latency runs from just before the produce request is sent to the
 * message's arrival at a subscriber; producer and subscribers share this process's clock.
 * Goals: p99 ≤ 10 ms at 1,000 events/s with 10 subscribers; p99 ≤ 250 ms with 1,000
 * subscribers at 100 events/s.
 *
 * Run alone: node --import tsx bench/scenarios/live.bench.ts (after npm run build)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { WebSocket } from 'ws';
import { createContext, type BenchContext, type Row, type Scenario } from '../context.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CEILING = fileURLToPath(new URL('../live-ceiling.mjs', import.meta.url));

interface Target {
  /** the WebSocket URL subscribers connect to */
  wsUrl: string;
  /** sends one event carrying `t`; resolves when acknowledged */
  publish(t: number): Promise<void>;
}

interface Measured {
  p50Ms: number;
  p99Ms: number;
  deliveredPerS: number;
  expected: number;
  delivered: number;
}

const now = () => performance.timeOrigin + performance.now();

async function measure(target: Target, subscribers: number, ratePerS: number): Promise<Measured> {
  const latencies: number[] = [];
  let delivered = 0;
  let windowStart = Number.POSITIVE_INFINITY;
  const sockets = await Promise.all(Array.from({ length: subscribers }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(target.wsUrl);
    ws.on('message', (raw) => {
      const at = now();
      const msg = JSON.parse(String(raw)) as { data?: { t?: number } };
      // events sent before the measured window (the warm-up) are not counted
      if (typeof msg.data?.t !== 'number' || msg.data.t < windowStart) return;
      delivered++;
      latencies.push(at - msg.data.t);
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  // a short warm-up, not measured
  await pace(target, ratePerS, 0.5);
  await settle(500);
  latencies.length = 0;
  delivered = 0;
  const start = now();
  windowStart = start;
  const sent = await pace(target, ratePerS, DURATION_S);
  // wait for the tail to arrive (up to 10 s), so a backlog shows as latency rather than loss
  for (let i = 0; i < 100 && delivered < sent * subscribers; i++) await settle(100);
  const elapsedS = (now() - start) / 1000;
  for (const ws of sockets) ws.terminate();
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { p50Ms: pick(0.5), p99Ms: pick(0.99), deliveredPerS: delivered / elapsedS, expected: sent * subscribers, delivered };
}

/** sends events at `ratePerS` for `seconds`, in 10 ms ticks, one request per event */
async function pace(target: Target, ratePerS: number, seconds: number): Promise<number> {
  const perTick = ratePerS / 100;
  const total = Math.round(ratePerS * seconds);
  const inflight: Promise<void>[] = [];
  const begin = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - begin) / 10 + 1) * perTick));
    while (sent < due) {
      inflight.push(target.publish(now()));
      sent++;
    }
    await new Promise((r) => setTimeout(r, 10 - ((performance.now() - begin) % 10)));
  }
  await Promise.all(inflight);
  return sent;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startCeiling(): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, [CEILING], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then(() => reject(new Error('the live ceiling exited before it listened')));
  });
  return {
    url,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** a bounded pool, so a burst of produce requests queues here rather than opening sockets without end */
const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });

async function post(url: string, headers: Record<string, string>, body: unknown): Promise<void> {
  const res = await request(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (res.statusCode >= 300) throw new Error(`POST ${url}: ${res.statusCode} ${await res.body.text()}`);
  await res.body.dump();
}

const CASES = [
  { name: '10 subscribers @ 1,000 events/s', subscribers: 10, rate: 1000, goalP99: 10 },
  { name: '100 subscribers @ 100 events/s', subscribers: 100, rate: 100, goalP99: undefined },
  { name: '1,000 subscribers @ 100 events/s', subscribers: 1000, rate: 100, goalP99: 250 },
];

export const scenario: Scenario = {
  name: 'live',
  async run(ctx: BenchContext): Promise<Row[]> {
    const server = await ctx.startRivulet();
    const auth = { authorization: `Bearer ${server.adminKey}` };
    await post(`${server.url}/v1/streams`, auth, { name: 'bench' });
    const rivulet: Target = {
      wsUrl: `${server.url.replace(/^http/, 'ws')}/v1/streams/bench/live`,
      publish: (t) => post(`${server.url}/v1/streams/bench/events`, auth, { type: 'bench.tick', data: { t } }),
    };
    const ws = new URL(rivulet.wsUrl);
    // subscribers authenticate with a live token: `ws` can send headers, but browsers cannot
    const token = await (await fetch(`${server.url}/v1/live-tokens`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ stream: 'bench' }) })).json() as { token: string };
    ws.searchParams.set('token', token.token);
    rivulet.wsUrl = ws.href;
    const ceilingServer = await startCeiling();
    const ceiling: Target = {
      wsUrl: ceilingServer.url.replace(/^http/, 'ws'),
      publish: (t) => post(`${ceilingServer.url}/publish`, {}, { t }),
    };
    const rows: Row[] = [];
    try {
      for (const c of CASES) {
        const base = await measure(ceiling, c.subscribers, c.rate);
        const ours = await measure(rivulet, c.subscribers, c.rate);
        const row = (metric: string, value: number, ceil: number, unit: string, goal?: string, pass?: boolean): Row => ({
          scenario: 'live', case: c.name, metric, value, unit, ceiling: ceil, ratio: ceil > 0 ? value / ceil : undefined, goal, pass,
        });
        rows.push(
          row('latency p50', ours.p50Ms, base.p50Ms, 'ms'),
          row('latency p99', ours.p99Ms, base.p99Ms, 'ms', c.goalP99 === undefined ? undefined : `≤ ${c.goalP99}`, c.goalP99 === undefined ? undefined : ours.p99Ms <= c.goalP99),
          row('delivered', ours.deliveredPerS, base.deliveredPerS, 'events/s', `${ours.delivered}/${ours.expected}`, ours.delivered === ours.expected),
        );
      }
    } finally {
      await ceilingServer.close();
    }
    return rows;
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { ctx, cleanup } = createContext();
  try {
    for (const r of await scenario.run(ctx)) {
      console.log(`${r.case.padEnd(34)} ${r.metric.padEnd(12)} ${r.value.toFixed(2).padStart(10)} ${r.unit.padEnd(9)} ceiling ${r.ceiling?.toFixed(2) ?? ''} ${r.goal ?? ''} ${r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL'}`);
    }
  } finally {
    await cleanup();
    await agent.close();
  }
}
