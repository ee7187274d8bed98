/**
 * Scale-out on nats, as on separate small machines: every nats-server node and every Rivulet
 * process runs in a CPU cgroup of its own with a fixed quota (bench/cpu-groups.ts), the load
 * generator (autocannon and the clients here) outside them. A 3-node cluster, replicas 3; for
 * N = 1, 2, 3, 4 Rivulet processes (started one after another, all kept):
 *
 * - produce, single events and batches of BATCH, over STREAMS streams (every stream through
 *   every process, and each stream through one process, as a load balancer routing by the
 *   stream's path does) and onto one hot stream, chained (the default write mode) and concurrent
 *   (`options.writeMode`), with the same connections and the same bodies;
 * - leased consumers: one consumer shared by the processes, receive + ack loops on each;
 * - SINKS webhook sinks to a local receiver, spread over the processes by the delivery engine;
 * - live fan-out: WebSocket subscribers on every process, events produced through all of them.
 *
 * Beside them, raw JetStream publish from a process in a cgroup of its own (bench/raw-publisher.mjs,
 * RAW_CPUS of a CPU), over STREAMS streams and onto one: where nats itself is the limit.
 * Goals: events/s at N ≥ 0.8·N × events/s at 1, until the raw ceiling; the hot stream ≥ 0.8× the
 * same load spread over streams.
 *
 * Each process is warmed (every measured path for BENCH_SCALE_WARM_UP_S, 1.5 s, at full CPU)
 * before its quota applies, as a machine's long-running process would be.
 * BENCH_SCALE_CASES (produce,consumer,sinks,live) picks groups of points;
 * BENCH_SCALE_DURATION_S (3) seconds per point, BENCH_SCALE_NATS_CPUS (0.4) and
 * BENCH_SCALE_RIVULET_CPUS (0.1) the quotas. Skipped, with the reason, where no CPU cgroup can
 * be written (not root, not Linux).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { WebSocket } from 'ws';
import { startNatsCluster, type NatsCluster } from '../../test/support/nats-server.js';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process.js';
import type { BenchContext, Row, Scenario } from '../context.js';
import { openCpuGroups, type CpuGroups } from '../cpu-groups.js';

const DURATION_S = Number(process.env.BENCH_SCALE_DURATION_S ?? 3);
/** which groups of points to measure: produce, consumer, sinks, live (all by default) */
const CASES = new Set((process.env.BENCH_SCALE_CASES ?? 'produce,consumer,sinks,live').split(',').map((c) => c.trim()));
/** seconds a process rests under its quota before the points are measured */
const SETTLE_S = Number(process.env.BENCH_SCALE_SETTLE_S ?? 5);
/** seconds of each path through a new process before its quota applies */
const WARM_UP_S = Number(process.env.BENCH_SCALE_WARM_UP_S ?? 1.5);
const NATS_CPUS = Number(process.env.BENCH_SCALE_NATS_CPUS ?? 0.4);
const RIVULET_CPUS = Number(process.env.BENCH_SCALE_RIVULET_CPUS ?? 0.1);
const RAW_CPUS = 1;
const MAX_PROCESSES = 4;
const STREAMS = 4;
const BATCH = 20;
/** closed-loop produce connections, split over processes and streams */
const CONNECTIONS = 32;
const CONSUMER_LOOPS = 4;
const CONSUMER_MAX = 50;
const SINKS = 24;
const LIVE_PER_PROCESS = 10;
const GOAL = 0.8;
const RAW_PUBLISHER = fileURLToPath(new URL('../raw-publisher.mjs', import.meta.url));
const ADMIN_KEY = `bench-${randomUUID()}`;

const oneEvent = (i: number) => ({
  type: 'bench.reading',
  source: '/bench',
  data: { sensor: `s-${i % 16}`, value: i * 1.5, unit: 'celsius', tags: ['a', 'b'], ok: true },
});
/** the request bodies every produce point sends: one event, and a batch of BATCH */
const single = JSON.stringify(oneEvent(1));
const batch = JSON.stringify(Array.from({ length: BATCH }, (_, i) => oneEvent(i)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

const WHERE = {
  spread: `over ${STREAMS} streams`,
  routed: `over ${STREAMS} streams, each through one process`,
  hot: 'one hot stream',
  hotc: 'one hot stream, concurrent writers',
} as const;

interface Point {
  case: string;
  n: number;
  value: number;
}

export const scenario: Scenario = {
  name: 'scale',
  async run(ctx: BenchContext): Promise<Row[]> {
    const groups = openCpuGroups();
    if ('unavailable' in groups) {
      process.stderr.write(`scale: skipped — ${groups.unavailable}\n`);
      return [{ scenario: 'scale', case: `skipped: ${groups.unavailable}`, metric: '', value: 0, unit: '' }];
    }
    process.stderr.write(
      `scale: ${groups.kind} at ${groups.root}; nats nodes ${NATS_CPUS} CPU each, Rivulet processes ${RIVULET_CPUS} CPU each, quotas per ${groups.periodMs} ms\n`,
    );
    const http = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
    let cluster: NatsCluster | null = null;
    const processes: ServerProcess[] = [];
    try {
      cluster = await startNatsCluster();
      for (const node of cluster.nodes) groups.create(`nats-${node.name}`, NATS_CPUS).add(node.child.pid!);
      return await measureAll(ctx, groups, cluster, processes, http);
    } finally {
      for (const [i, p] of processes.entries()) {
        // still under its quota: a slow or failed shutdown is reported with what the process said
        const started = performance.now();
        const exit = await p.close();
        const seconds = (performance.now() - started) / 1000;
        if (exit.code !== 0 || seconds > 10)
          process.stderr.write(
            `scale: process ${i + 1} closed in ${seconds.toFixed(1)} s, exit ${exit.code ?? exit.signal}: ${p.output().stdout.slice(-600)}\n`,
          );
      }
      await cluster?.close();
      await http.close();
      groups.remove();
    }
  },
};

async function measureAll(
  ctx: BenchContext,
  groups: CpuGroups,
  cluster: NatsCluster,
  processes: ServerProcess[],
  http: Agent,
): Promise<Row[]> {
  const points: Point[] = [];
  const raw = {
    spread: await rawPublish(groups, cluster, STREAMS),
    hot: await rawPublish(groups, cluster, 1),
  };
  const call = async <T>(p: ServerProcess, path: string, body: unknown, method = 'POST'): Promise<T> => {
    const res = await request(`${p.url}${path}`, {
      method,
      headers: body === undefined ? { authorization: auth.authorization } : auth,
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: http,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };
  const receiver = await startWebhookReceiver();
  try {
    for (let n = 1; n <= MAX_PROCESSES; n++) {
      const p = await startServerProcess({
        dataDir: ctx.tempDir(),
        args: [
          '--store',
          `nats://${cluster.servers.replaceAll('nats://', '')}`,
          '--nats-replicas',
          '3',
          '--sink-allow-loopback',
          '--sink-owner-lease',
          '4',
          '--max-event-loop-delay',
          '0',
        ],
        env: { RIVULET_ADMIN_KEY: ADMIN_KEY },
        logLevel: 'warn',
        startTimeoutMs: 60_000,
      });
      processes.push(p);
      if (n === 1) await setUp(p, call);
      await warmUp(p, n, call);
      groups.create(`rivulet-${n}`, RIVULET_CPUS).add(p.pid);
      // what the warm-up left running (collection, compilation, closing sockets) ends under the
      // quota before anything is measured: in a run without this, N = 1's first point carried
      // 34 requests/s and the same load a moment later 252
      await sleep(SETTLE_S * 1000);
      const running = processes.slice(0, n);
      process.stderr.write(`scale: ${n} process${n > 1 ? 'es' : ''}\n`);

      if (CASES.has('produce'))
        for (const c of [
          { name: 'single event', body: single, events: 1 },
          { name: `batch of ${BATCH}`, body: batch, events: BATCH },
        ]) {
          for (const where of ['spread', 'routed', 'hot', 'hotc'] as const) {
            const several = where === 'spread' || where === 'routed';
            const streams = several ? Array.from({ length: STREAMS }, (_, i) => `s${i}`) : [where];
            const routed = where === 'routed';
            await produce(running, streams, c.body, 1, routed);
            const rate = (await produce(running, streams, c.body, DURATION_S, routed)) * c.events;
            points.push({ case: `produce ${c.name}, ${WHERE[where]}`, n, value: rate });
          }
        }
      if (CASES.has('consumer'))
        points.push({ case: 'leased consumer, receive + ack', n, value: await consume(running, `c${n}`, call) });
      if (CASES.has('sinks'))
        points.push({ case: `${SINKS} webhook sinks`, n, value: await sinks(running, n, receiver, call) });
      if (CASES.has('live'))
        points.push({
          case: `live fan-out, ${LIVE_PER_PROCESS} subscribers per process`,
          n,
          value: await fanOut(running, batch, BATCH),
        });
      for (const q of points.filter((x) => x.n === n))
        process.stderr.write(`scale: N=${n} ${q.case}: ${Math.round(q.value)}/s\n`);
    }
  } finally {
    await receiver.close();
  }
  return toRows(points, raw);
}

/**
 * Runs each path the points measure through a new process before its quota applies. A
 * machine's process serves from code V8 has already optimized; at 0.1 CPU a cold one spends
 * its first tens of seconds compiling, which would be measured as the process's pace (N = 2
 * fell below N = 1 in runs without this).
 */
async function warmUp(
  p: ServerProcess,
  n: number,
  call: <T>(p: ServerProcess, path: string, body: unknown, method?: string) => Promise<T>,
): Promise<void> {
  for (const body of [single, batch])
    for (const streams of [Array.from({ length: STREAMS }, (_, i) => `s${i}`), ['hot'], ['hotc']])
      await produce([p], streams, body, WARM_UP_S);
  const consumer = `warm-${n}`;
  await consume([p], consumer, call, WARM_UP_S);
  await call(p, `/v1/streams/work/consumers/${consumer}`, undefined, 'DELETE');
  await fanOut([p], batch, BATCH, WARM_UP_S);
}

async function setUp(
  p: ServerProcess,
  call: <T>(p: ServerProcess, path: string, body: unknown) => Promise<T>,
): Promise<void> {
  for (const name of [...Array.from({ length: STREAMS }, (_, i) => `s${i}`), 'hot', 'work', 'sinksrc', 'live'])
    await call(p, '/v1/streams', { name });
  await call(p, '/v1/streams', { name: 'hotc', options: { writeMode: 'concurrent' } });
  // the backlogs the consumers and the sinks work through, written before the quotas apply
  const big = JSON.stringify(Array.from({ length: 500 }, (_, i) => oneEvent(i)));
  for (let i = 0; i < 80; i++) await call(p, '/v1/streams/work/events', JSON.parse(big));
  for (let i = 0; i < 6; i++) await call(p, '/v1/streams/sinksrc/events', JSON.parse(big));
}

/**
 * closed-loop produce spread over the processes and the streams, or with `routed` each stream's
 * requests through one process (as a load balancer hashing the stream's path sends them, see
 * docs/operations.md); answers requests/s
 */
async function produce(
  processes: ServerProcess[],
  streams: string[],
  body: string,
  seconds: number,
  routed = false,
): Promise<number> {
  const pairs = routed
    ? streams.map((s, i) => ({ p: processes[i % processes.length]!, s }))
    : processes.flatMap((p) => streams.map((s) => ({ p, s })));
  const connections = Math.max(1, Math.round(CONNECTIONS / pairs.length));
  const runs = await Promise.all(
    pairs.map(({ p, s }) =>
      autocannon({
        url: `${p.url}/v1/streams/${s}/events`,
        method: 'POST',
        headers: auth,
        body,
        connections,
        duration: seconds,
        timeout: 30,
      }),
    ),
  );
  const failed = runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
  if (failed > 0) process.stderr.write(`scale: ${failed} produce requests failed\n`);
  return runs.reduce((n, r) => n + r['2xx'] / r.duration, 0);
}

/** receive + ack loops on every process, one consumer shared by all; answers events/s */
async function consume(
  processes: ServerProcess[],
  consumer: string,
  call: <T>(p: ServerProcess, path: string, body: unknown, method?: string) => Promise<T>,
  seconds = DURATION_S,
): Promise<number> {
  await call(processes[0]!, '/v1/streams/work/consumers', { name: consumer, start: { from: 'beginning' } });
  // every process must find the consumer before the timed run starts
  for (const p of processes) {
    for (let i = 0; ; i++) {
      try {
        await call(p, `/v1/streams/work/consumers/${consumer}`, undefined, 'GET');
        break;
      } catch (err) {
        if (i >= 100) throw err;
        await sleep(100);
      }
    }
  }
  const run = async (seconds: number) => {
    let done = 0;
    const until = Date.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      processes.flatMap((p) =>
        Array.from({ length: CONSUMER_LOOPS }, async () => {
          while (Date.now() < until) {
            const got = await call<{ deliveries: { leaseToken: string }[] }>(
              p,
              `/v1/streams/work/consumers/${consumer}/receive`,
              { max: CONSUMER_MAX, leaseMs: 60_000 },
            );
            if (got.deliveries.length === 0) throw new Error('the consumer backlog ran out: raise it in setUp');
            await call(p, `/v1/streams/work/consumers/${consumer}/ack`, {
              tokens: got.deliveries.map((d) => d.leaseToken),
            });
            done += got.deliveries.length;
          }
        }),
      ),
    );
    return done / ((performance.now() - started) / 1000);
  };
  await run(1);
  return run(seconds);
}

async function startWebhookReceiver() {
  let count = 0;
  const perPath = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      const path = req.url ?? '';
      perPath.set(path, (perPath.get(path) ?? 0) + 1);
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    count: () => count,
    /** deliveries to one sink (its path) */
    seen: (id: string) => perPath.get(`/hook/${id}`) ?? 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** SINKS sinks on the backlog of `sinksrc`, spread by the engines; answers deliveries/s once spread */
async function sinks(
  processes: ServerProcess[],
  n: number,
  receiver: Awaited<ReturnType<typeof startWebhookReceiver>>,
  call: <T>(p: ServerProcess, path: string, body: unknown, method?: string) => Promise<T>,
): Promise<number> {
  const ids = Array.from({ length: SINKS }, (_, i) => `n${n}-s${i}`);
  for (const id of ids)
    await call(processes[0]!, '/v1/sinks', {
      id,
      streams: ['sinksrc'],
      start: { from: 'beginning' },
      target: { kind: 'http', url: `${receiver.url}/${id}` },
    });
  // measured once every sink delivers (each engine scans within a quarter of the 4 s lease and
  // takes its share), so the figure is the spread sinks' pace, not their start-up
  for (let i = 0; i < 300 && ids.some((id) => receiver.seen(id) === 0); i++) await sleep(100);
  await sleep(1000);
  const from = receiver.count();
  const started = performance.now();
  await sleep(DURATION_S * 1000);
  const rate = (receiver.count() - from) / ((performance.now() - started) / 1000);
  for (const id of ids) await call(processes[0]!, `/v1/sinks/${id}`, undefined, 'DELETE');
  return rate;
}

/** WebSocket subscribers on every process, batches produced through all of them; answers events delivered/s */
async function fanOut(
  processes: ServerProcess[],
  batch: string,
  events: number,
  seconds = DURATION_S,
): Promise<number> {
  let delivered = 0;
  const sockets = await Promise.all(
    processes.flatMap((p) =>
      Array.from(
        { length: LIVE_PER_PROCESS },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`${p.url.replace(/^http/, 'ws')}/v1/streams/live/live`, {
              headers: { authorization: auth.authorization },
            });
            ws.on('message', () => {
              delivered++;
            });
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          }),
      ),
    ),
  );
  try {
    await produce(processes, ['live'], batch, 1);
    await sleep(500);
    const from = delivered;
    const started = performance.now();
    const produced = await produce(processes, ['live'], batch, seconds);
    const rate = (delivered - from) / ((performance.now() - started) / 1000);
    process.stderr.write(
      `scale: live fan-out, ${processes.length} processes: ${Math.round(produced * events)} events/s produced, ${Math.round(rate)} delivered/s\n`,
    );
    return rate;
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}

/** raw JetStream publish from a process in its own cgroup; answers events/s */
async function rawPublish(groups: CpuGroups, cluster: NatsCluster, streams: number): Promise<number> {
  const group = groups.create(`raw-${streams}`, RAW_CPUS);
  const child = spawn(process.execPath, [RAW_PUBLISHER, cluster.servers, String(streams), '3', String(DURATION_S)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  group.add(child.pid!);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`the raw publisher exited with ${code}`);
  return (JSON.parse(out) as { eventsPerS: number }).eventsPerS;
}

function toRows(points: Point[], raw: { spread: number; hot: number }): Row[] {
  const rows: Row[] = [
    {
      scenario: 'scale',
      case: `raw JetStream publish over ${STREAMS} streams (${RAW_CPUS} CPU client)`,
      metric: 'events/s (ceiling)',
      value: raw.spread,
      unit: 'events/s',
    },
    {
      scenario: 'scale',
      case: `raw JetStream publish onto one stream (${RAW_CPUS} CPU client)`,
      metric: 'events/s (ceiling)',
      value: raw.hot,
      unit: 'events/s',
    },
  ];
  for (const name of [...new Set(points.map((p) => p.case))]) {
    const one = points.find((p) => p.case === name && p.n === 1)!.value;
    const ceiling = name.startsWith('produce') ? (name.includes('hot') ? raw.hot : raw.spread) : undefined;
    for (const p of points.filter((q) => q.case === name)) {
      const ratio = p.value / one;
      // the goal holds until nats is the limit: a point near the raw ceiling passes
      const capped = ceiling !== undefined && p.value >= GOAL * ceiling;
      rows.push({
        scenario: 'scale',
        case: `${name}, N=${p.n}`,
        metric: 'throughput',
        value: p.value,
        unit: name.includes('sinks') ? 'deliveries/s' : 'events/s',
        ceiling,
        ratio: p.n === 1 ? undefined : ratio,
        goal: p.n === 1 ? undefined : `≥ ${(GOAL * p.n).toFixed(1)}× N=1`,
        pass: p.n === 1 ? undefined : ratio >= GOAL * p.n || capped,
      });
    }
  }
  for (const n of [...new Set(points.map((p) => p.n))]) {
    for (const kind of ['single event', `batch of ${BATCH}`]) {
      const spreadPoint = points.find((p) => p.n === n && p.case === `produce ${kind}, ${WHERE.spread}`);
      if (!spreadPoint) continue;
      const spread = spreadPoint.value;
      for (const [where, label] of [
        ['hot', 'hot stream'],
        ['hotc', 'hot stream, concurrent writers,'],
      ] as const) {
        const hot = points.find((p) => p.n === n && p.case === `produce ${kind}, ${WHERE[where]}`)!.value;
        rows.push({
          scenario: 'scale',
          case: `${label} ÷ ${STREAMS} streams, ${kind}, N=${n}`,
          metric: 'ratio',
          value: hot / spread,
          unit: '×',
          goal: `≥ ${GOAL}`,
          pass: hot / spread >= GOAL,
        });
      }
    }
  }
  return rows;
}
