/**
 * Ingest: single-event POSTs and batches of 100, on a bare node:http server that only parses
 * the body (the ceiling) and on Rivulet with durable acks, under the same load.
 * Goals: single events at ≥ 0.5× the ceiling; batches of 100 at ≥ 100,000 events/s.
 *
 * This machine's speed drifts by ±20 % from minute to minute (a shared 2-vCPU VM), so each
 * case runs in ROUNDS rounds, each measuring the ceiling and then Rivulet back to back, and
 * reports medians: the ratio is the median of the rounds' ratios. Single events are also
 * measured with `--produce-lane off` (every request through fastify's pipeline), to show what
 * the produce lane is worth.
 * BENCH_CPU_PROF=<dir> writes a CPU profile of the Rivulet process there (main thread and
 * append worker); BENCH_INGEST_CASES=single|batch runs one case only.
 */
import { readFileSync } from 'node:fs';
import type { BenchContext, LoadResult, Row, Scenario } from '../context.js';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const oneEvent = (i: number) => ({
  type: 'bench.reading',
  source: '/bench',
  data: { sensor: `s-${i % 16}`, value: i * 1.5, unit: 'celsius', tags: ['a', 'b'], ok: true },
});

interface Target {
  url: string;
  headers: Record<string, string>;
  pid?: number;
}

export const scenario: Scenario = {
  name: 'ingest',
  async run(ctx: BenchContext): Promise<Row[]> {
    const only = process.env.BENCH_INGEST_CASES;
    const cases = [
      { name: 'single event', events: 1, body: JSON.stringify(oneEvent(1)) },
      { name: 'batch of 100', events: 100, body: JSON.stringify(Array.from({ length: 100 }, (_, i) => oneEvent(i))) },
    ].filter((c) => !only || c.name.startsWith(only));
    const prof = process.env.BENCH_CPU_PROF;
    const json = { 'content-type': 'application/json' };
    const ceiling: Target = { url: (await ctx.startCeiling()).url, headers: json };
    const rivulet = await rivuletTarget(ctx, prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []);
    const laneOff = cases.some((c) => c.events === 1)
      ? await rivuletTarget(ctx, [], ['--produce-lane', 'off'])
      : undefined;

    const rows: Row[] = [];
    for (const c of cases) {
      const targets = c.events === 1 && laneOff ? [ceiling, rivulet, laneOff] : [ceiling, rivulet];
      // a short warm-up lets the JITs settle before the measured rounds
      for (const t of targets)
        await ctx.load({ url: t.url, headers: t.headers, body: c.body, connections: CONNECTIONS, durationS: 1 });
      const rounds: LoadResult[][] = [];
      // per target: server CPU seconds and events acknowledged over the measured rounds
      const cpu = targets.map(() => ({ seconds: 0, ok: 0 }));
      for (let r = 0; r < ROUNDS; r++) {
        const round: LoadResult[] = [];
        for (const [i, t] of targets.entries()) {
          const before = t.pid === undefined ? undefined : cpuSecondsOf(t.pid);
          const result = await ctx.load({
            url: t.url,
            headers: t.headers,
            body: c.body,
            connections: CONNECTIONS,
            durationS: DURATION_S,
          });
          if (before !== undefined) {
            cpu[i]!.seconds += (cpuSecondsOf(t.pid!) ?? before) - before;
            cpu[i]!.ok += result.ok;
          }
          if (result.failed > 0) process.stderr.write(`${c.name}: ${result.failed} requests to ${t.url} failed\n`);
          round.push(result);
        }
        rounds.push(round);
      }
      const events = (i: number) => median(rounds.map((round) => round[i]!.requestsPerS * c.events));
      const ratio = (i: number) => median(rounds.map((round) => round[i]!.requestsPerS / round[0]!.requestsPerS));
      const latency = (i: number, key: 'p50Ms' | 'p99Ms') => median(rounds.map((round) => round[i]![key]));
      const base = { scenario: 'ingest', case: c.name };
      const rivRatio = ratio(1);
      rows.push(
        { ...base, metric: 'ceiling events/s', value: events(0), unit: 'events/s' },
        { ...base, metric: 'ceiling p50', value: latency(0, 'p50Ms'), unit: 'ms' },
        { ...base, metric: 'ceiling p99', value: latency(0, 'p99Ms'), unit: 'ms' },
        c.events === 1
          ? {
              ...base,
              metric: 'rivulet events/s',
              value: events(1),
              unit: 'events/s',
              ceiling: events(0),
              ratio: rivRatio,
              goal: '≥ 0.5× ceiling',
              pass: rivRatio >= 0.5,
            }
          : {
              ...base,
              metric: 'rivulet events/s',
              value: events(1),
              unit: 'events/s',
              ceiling: events(0),
              ratio: rivRatio,
              goal: '≥ 100,000',
              pass: events(1) >= 100_000,
            },
        { ...base, metric: 'rivulet p50', value: latency(1, 'p50Ms'), unit: 'ms', ceiling: latency(0, 'p50Ms') },
        { ...base, metric: 'rivulet p99', value: latency(1, 'p99Ms'), unit: 'ms', ceiling: latency(0, 'p99Ms') },
      );
      if (targets.length > 2)
        rows.push({
          ...base,
          metric: 'rivulet, lane off events/s',
          value: events(2),
          unit: 'events/s',
          ceiling: events(0),
          ratio: ratio(2),
        });
      rows.push({
        ...base,
        metric: 'per-round ratios',
        value: rivRatio,
        unit: rounds.map((round) => (round[1]!.requestsPerS / round[0]!.requestsPerS).toFixed(2)).join(' '),
      });
      // CPU time per event of the server (all its threads): steadier than events/s on a shared machine
      const perEvent = (i: number) => (cpu[i]!.seconds * 1e6) / (cpu[i]!.ok * c.events);
      if (cpu[1]!.ok > 0) rows.push({ ...base, metric: 'rivulet CPU per event', value: perEvent(1), unit: 'µs' });
      if (targets.length > 2 && cpu[2]!.ok > 0)
        rows.push({ ...base, metric: 'rivulet, lane off CPU per event', value: perEvent(2), unit: 'µs' });
    }
    return rows;
  },
};

async function rivuletTarget(ctx: BenchContext, nodeArgs: string[], args: string[] = []): Promise<Target> {
  const server = await ctx.startRivulet({ nodeArgs, args });
  const headers = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
  await ctx.post(`${server.url}/v1/streams`, headers, { name: 'bench' });
  return { url: `${server.url}/v1/streams/bench/events`, headers, pid: server.pid };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** user + system CPU seconds of a process and all its threads so far (Linux); undefined elsewhere */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command name; utime and stime are the 14th and 15th overall
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ: 100 on Linux
  } catch {
    return undefined;
  }
}
