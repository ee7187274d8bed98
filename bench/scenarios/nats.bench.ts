/**
 * The nats store: produce through Rivulet (single events and batches of 100, the ingest
 * scenario's load) beside the ceiling — the same events published straight to the same
 * JetStream server with @nats-io/jetstream's async publish (a window of acks in flight, each
 * message with its Nats-Msg-Id, as Rivulet sends them). Goal: ≥ 0.7× the ceiling.
 * Then batches of 100 through 1, 2 and 3 Rivulet processes on one 3-node cluster (replicas 3),
 * all writing the same stream, beside the raw publish ceiling on that cluster.
 *
 * Each measured row runs BENCH_NATS_DURATION_S seconds (3 by default): the machine is shared.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startNatsCluster, startNatsServer, type NatsCluster } from '../../test/support/nats-server.js';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process.js';
import type { BenchContext, Row, Scenario } from '../context.js';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_NATS_DURATION_S ?? 3);
/** acks the raw publisher waits for at once */
const WINDOW = 1000;
const GOAL = 0.7;

const oneEvent = (i: number) => ({
  type: 'bench.reading',
  source: '/bench',
  data: { sensor: `s-${i % 16}`, value: i * 1.5, unit: 'celsius', tags: ['a', 'b'], ok: true },
});

/** async publish of envelope-sized messages for `seconds`, `WINDOW` acks in flight; answers events/s */
async function rawPublish(servers: string, replicas: number, seconds: number): Promise<number> {
  // noAsyncTraces as Rivulet connects: otherwise each publish builds Error objects with
  // captured stacks, and the ceiling would measure that instead of the server
  const nc = await connect({ servers: servers.split(','), noAsyncTraces: true });
  try {
    const jsm = await jetstreamManager(nc);
    const name = `raw_${randomUUID().slice(0, 8)}`;
    await jsm.streams.add({ name, subjects: [`${name}.>`], storage: StorageType.File, num_replicas: replicas });
    const js = jetstream(nc);
    const inFlight = new Set<Promise<unknown>>();
    let acked = 0;
    let i = 0;
    const started = performance.now();
    const until = started + seconds * 1000;
    while (performance.now() < until) {
      const id = randomUUID();
      const body = JSON.stringify({
        id,
        stream: 'bench',
        ...oneEvent(i++),
        time: new Date().toISOString(),
        received: new Date().toISOString(),
        meta: {},
      });
      const p: Promise<unknown> = js
        .publish(`${name}.bench_reading.${id}`, body, { msgID: id })
        .then(() => {
          acked++;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= WINDOW) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const rate = acked / ((performance.now() - started) / 1000);
    await jsm.streams.delete(name);
    return rate;
  } finally {
    await nc.close();
  }
}

/** closed-loop load spread over the processes (connections split between them), summed */
async function produceLoad(
  ctx: BenchContext,
  processes: ServerProcess[],
  body: string,
  events: number,
  seconds: number,
) {
  const runs = await Promise.all(
    processes.map((p) =>
      ctx.load({
        url: `${p.url}/v1/streams/bench/events`,
        headers: { authorization: `Bearer ${p.adminKey}`, 'content-type': 'application/json' },
        body,
        connections: Math.max(1, Math.round(CONNECTIONS / processes.length)),
        durationS: seconds,
      }),
    ),
  );
  const failed = runs.reduce((n, r) => n + r.failed, 0);
  if (failed > 0) {
    const statuses: Record<string, number> = {};
    for (const r of runs)
      for (const [code, n] of Object.entries(r.statuses))
        if (!code.startsWith('2')) statuses[code] = (statuses[code] ?? 0) + n;
    process.stderr.write(
      `nats: ${failed} produce requests failed (non-2xx by status: ${JSON.stringify(statuses)}; the rest are connection errors or timeouts)\n`,
    );
  }
  return {
    eventsPerS: runs.reduce((n, r) => n + r.requestsPerS, 0) * events,
    p50Ms: Math.max(...runs.map((r) => r.p50Ms)),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
  };
}

/**
 * On nats the admin key is not written to the data dir, so it is given — the same one to every
 * process: each process registers its RIVULET_ADMIN_KEY as the one `admin` key of the shared
 * store at start, so a different key per process would revoke the earlier processes' keys
 * (their requests turn 401 once their 5 s key cache expires).
 */
const ADMIN_KEY = `bench-${randomUUID()}`;

async function startOn(ctx: BenchContext, cluster: NatsCluster, replicas: number): Promise<ServerProcess> {
  return startServerProcess({
    dataDir: ctx.tempDir(),
    args: ['--store', `nats://${cluster.servers.replaceAll('nats://', '')}`, '--nats-replicas', String(replicas)],
    env: { RIVULET_ADMIN_KEY: ADMIN_KEY },
    logLevel: 'warn',
    startTimeoutMs: 30_000,
  });
}

async function createStream(ctx: BenchContext, p: ServerProcess): Promise<void> {
  await ctx.post(`${p.url}/v1/streams`, { authorization: `Bearer ${p.adminKey}` }, { name: 'bench' });
}

export const scenario: Scenario = {
  name: 'nats',
  async run(ctx: BenchContext): Promise<Row[]> {
    const rows: Row[] = [];
    const single = JSON.stringify(oneEvent(1));
    const batch = JSON.stringify(Array.from({ length: 100 }, (_, i) => oneEvent(i)));

    // one node: Rivulet against async publish to the same server
    const node = await startNatsServer();
    let rivulet: ServerProcess | null = null;
    try {
      rivulet = await startOn(ctx, node, 1);
      await createStream(ctx, rivulet);
      await rawPublish(node.servers, 1, 1); // warm-up
      const raw = await rawPublish(node.servers, 1, DURATION_S);
      rows.push({
        scenario: 'nats',
        case: '1 node',
        metric: 'raw async publish events/s (ceiling)',
        value: raw,
        unit: 'events/s',
      });
      for (const c of [
        { name: 'single event', events: 1, body: single },
        { name: 'batch of 100', events: 100, body: batch },
      ]) {
        await produceLoad(ctx, [rivulet], c.body, c.events, 1);
        const r = await produceLoad(ctx, [rivulet], c.body, c.events, DURATION_S);
        const ratio = r.eventsPerS / raw;
        const base = { scenario: 'nats', case: `1 node, ${c.name}` };
        rows.push(
          {
            ...base,
            metric: 'rivulet events/s',
            value: r.eventsPerS,
            unit: 'events/s',
            ceiling: raw,
            ratio,
            goal: `≥ ${GOAL}× ceiling`,
            pass: ratio >= GOAL,
          },
          { ...base, metric: 'rivulet p50', value: r.p50Ms, unit: 'ms' },
          { ...base, metric: 'rivulet p99', value: r.p99Ms, unit: 'ms' },
        );
      }
    } finally {
      await rivulet?.close();
      await node.close();
    }

    // a 3-node cluster, replicas 3: 1, 2 and 3 Rivulet processes writing one stream
    const cluster = await startNatsCluster();
    const processes: ServerProcess[] = [];
    try {
      await rawPublish(cluster.servers, 3, 1);
      const raw = await rawPublish(cluster.servers, 3, DURATION_S);
      rows.push({
        scenario: 'nats',
        case: '3-node cluster',
        metric: 'raw async publish events/s (ceiling)',
        value: raw,
        unit: 'events/s',
      });
      for (const n of [1, 2, 3]) {
        processes.push(await startOn(ctx, cluster, 3));
        if (n === 1) await createStream(ctx, processes[0]!);
        await produceLoad(ctx, processes, batch, 100, 1);
        const r = await produceLoad(ctx, processes, batch, 100, DURATION_S);
        rows.push({
          scenario: 'nats',
          case: `3-node cluster, ${n} process${n > 1 ? 'es' : ''}, batch of 100`,
          metric: 'rivulet events/s',
          value: r.eventsPerS,
          unit: 'events/s',
          ceiling: raw,
          ratio: r.eventsPerS / raw,
        });
      }
    } finally {
      for (const p of processes) await p.close();
      await cluster.close();
    }
    return rows;
  },
};
