/**
 * Ingest: single-event POSTs and batches of 100, on a bare node:http server that only parses
 * the body (the ceiling) and on Rivulet with durable acks, under the same load.
 * Goals: single events at ≥ 0.5× the ceiling; batches of 100 at ≥ 100,000 events/s.
 * BENCH_CPU_PROF=<dir> writes a CPU profile of the Rivulet process there (main thread and
 * append worker); BENCH_INGEST_CASES=single|batch runs one case only.
 */
import { readFileSync } from 'node:fs';
import type { BenchContext, Row, Scenario } from '../context.js';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);

const oneEvent = (i: number) => ({ type: 'bench.reading', source: '/bench', data: { sensor: `s-${i % 16}`, value: i * 1.5, unit: 'celsius', tags: ['a', 'b'], ok: true } });

export const scenario: Scenario = {
  name: 'ingest',
  async run(ctx: BenchContext): Promise<Row[]> {
    const only = process.env.BENCH_INGEST_CASES;
    const cases = [
      { name: 'single event', events: 1, body: JSON.stringify(oneEvent(1)) },
      { name: 'batch of 100', events: 100, body: JSON.stringify(Array.from({ length: 100 }, (_, i) => oneEvent(i))) },
    ].filter((c) => !only || c.name.startsWith(only));
    const prof = process.env.BENCH_CPU_PROF;
    const ceiling = await ctx.startCeiling();
    const rivulet = await ctx.startRivulet({ nodeArgs: prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [] });
    const auth = { authorization: `Bearer ${rivulet.adminKey}`, 'content-type': 'application/json' };
    const created = await fetch(`${rivulet.url}/v1/streams`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'bench' }) });
    if (created.status !== 201) throw new Error(`cannot create the stream: ${created.status} ${await created.text()}`);

    const rows: Row[] = [];
    for (const c of cases) {
      // a short warm-up lets both JITs settle before the measured run
      await ctx.load({ url: ceiling.url, headers: { 'content-type': 'application/json' }, body: c.body, connections: CONNECTIONS, durationS: 1 });
      const bare = await ctx.load({ url: ceiling.url, headers: { 'content-type': 'application/json' }, body: c.body, connections: CONNECTIONS, durationS: DURATION_S });
      await ctx.load({ url: `${rivulet.url}/v1/streams/bench/events`, headers: auth, body: c.body, connections: CONNECTIONS, durationS: 1 });
      const cpuBefore = cpuSecondsOf(rivulet.pid);
      const riv = await ctx.load({ url: `${rivulet.url}/v1/streams/bench/events`, headers: auth, body: c.body, connections: CONNECTIONS, durationS: DURATION_S });
      const cpuAfter = cpuSecondsOf(rivulet.pid);
      if (riv.failed > 0 || bare.failed > 0) process.stderr.write(`${c.name}: ${riv.failed} Rivulet and ${bare.failed} ceiling requests failed\n`);
      const bareEvents = bare.requestsPerS * c.events;
      const rivEvents = riv.requestsPerS * c.events;
      const ratio = rivEvents / bareEvents;
      const base = { scenario: 'ingest', case: c.name };
      rows.push(
        { ...base, metric: 'ceiling events/s', value: bareEvents, unit: 'events/s' },
        { ...base, metric: 'ceiling p50', value: bare.p50Ms, unit: 'ms' },
        { ...base, metric: 'ceiling p99', value: bare.p99Ms, unit: 'ms' },
        c.events === 1
          ? { ...base, metric: 'rivulet events/s', value: rivEvents, unit: 'events/s', ceiling: bareEvents, ratio, goal: '≥ 0.5× ceiling', pass: ratio >= 0.5 }
          : { ...base, metric: 'rivulet events/s', value: rivEvents, unit: 'events/s', ceiling: bareEvents, ratio, goal: '≥ 100,000', pass: rivEvents >= 100_000 },
        { ...base, metric: 'rivulet p50', value: riv.p50Ms, unit: 'ms', ceiling: bare.p50Ms },
        { ...base, metric: 'rivulet p99', value: riv.p99Ms, unit: 'ms', ceiling: bare.p99Ms },
      );
      // CPU time per event of the server (all its threads): steadier than events/s on a shared machine
      if (cpuBefore !== undefined && cpuAfter !== undefined && riv.ok > 0) {
        rows.push({ ...base, metric: 'rivulet CPU per event', value: ((cpuAfter - cpuBefore) * 1e6) / (riv.ok * c.events), unit: 'µs' });
      }
    }
    return rows;
  },
};

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
