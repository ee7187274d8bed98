/**
 * Reads on the nats store. Catch-up reads of 100- and 1000-event pages through Rivulet
 * (`GET /v1/streams/bench/events?after=<random>&limit=<n>`, 8 connections) beside the
 * reference: a bare node:http server reading the same messages of the same JetStream stream
 * with a bare @nats-io/jetstream client, one ordered consumer per page, bodies spliced as
 * stored (bench/nats-read-reference.mjs). Rounds interleave Rivulet and the reference; the rows
 * are medians. Then single-event produce (8 connections) alone, and beside 4 and 16 connections
 * reading 1000-event pages, interleaved. Rivulet's RSS is sampled throughout.
 *
 * BENCH_READS_NATS_DURATION_S seconds per measurement (3 by default), BENCH_READS_NATS_ROUNDS
 * rounds (3 by default), BENCH_READS_NATS_EVENTS events in the stream (20,000 by default),
 * BENCH_READS_MAIN another build's dist/cli/main.js to measure instead of this tree's.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startNatsServer } from '../../test/support/nats-server.js';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process.js';
import type { BenchContext, Row } from '../context.js';
import type { Scenario } from '../context.js';

const DURATION_S = Number(process.env.BENCH_READS_NATS_DURATION_S ?? 3);
const ROUNDS = Number(process.env.BENCH_READS_NATS_ROUNDS ?? 3);
const EVENTS = Number(process.env.BENCH_READS_NATS_EVENTS ?? 20_000);
const SERVER_MAIN = process.env.BENCH_READS_MAIN || undefined;
const READ_CONNECTIONS = 8;
const PRODUCE_CONNECTIONS = 8;
const REFERENCE = fileURLToPath(new URL('../nats-read-reference.mjs', import.meta.url));
const S = 'reads-nats';

const event = (i: number) => ({
  type: `bench.reading.${i % 4}`,
  source: '/bench',
  data: { sensor: `s-${i % 16}`, value: i * 1.5, unit: 'celsius', tags: ['a', 'b'], ok: true },
});

interface Run {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  statuses: Record<string, number>;
}

async function load(
  url: (i: number) => string,
  connections: number,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body?: string,
): Promise<Run> {
  let i = 0;
  const first = url(i++);
  const result = await autocannon({
    url: first,
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    connections,
    duration: DURATION_S,
    timeout: 30,
    ...(method === 'GET'
      ? {
          requests: [
            {
              setupRequest: (req) => {
                const u = new URL(url(i++));
                return { ...req, path: u.pathname + u.search };
              },
            },
          ],
        }
      : {}),
  });
  return {
    rps: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {})
        .filter(([code]) => !code.startsWith('2'))
        .map(([code, st]) => [code, st.count]),
    ),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** the process's CPU time so far, in clock ticks (user + system) */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Waits (up to 60 s) until the process is about idle: requests a load run gave up on may still
 * be read by the server, and would be measured as part of the next run otherwise.
 */
async function settle(pid: number): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const before = cpuTicks(pid);
    await new Promise((r) => setTimeout(r, 500));
    if (cpuTicks(pid) - before <= 5) return;
  }
}

/** a random `after` that leaves a whole page in the stream */
const randomAfter = (limit: number) => Math.floor(Math.random() * (EVENTS - limit));

export const scenario: Scenario = {
  name: S,
  async run(ctx: BenchContext): Promise<Row[]> {
    const rows: Row[] = [];
    const node = await startNatsServer();
    let rivulet: ServerProcess | null = null;
    let rssTimer: NodeJS.Timeout | null = null;
    try {
      rivulet = await startServerProcess({
        dataDir: ctx.tempDir(),
        args: ['--store', `nats://${node.servers.replaceAll('nats://', '')}`],
        logLevel: 'warn',
        startTimeoutMs: 30_000,
        main: SERVER_MAIN,
      });
      const r = rivulet;
      const auth = { authorization: `Bearer ${r.adminKey}` };
      await ctx.post(`${r.url}/v1/streams`, auth, { name: 'bench' });
      for (let i = 0; i < EVENTS; i += 1000) {
        await ctx.post(
          `${r.url}/v1/streams/bench/events`,
          auth,
          Array.from({ length: Math.min(1000, EVENTS - i) }, (_, k) => event(i + k)),
        );
      }
      const rss: number[] = [rssMiB(r.pid)];
      rssTimer = setInterval(() => rss.push(rssMiB(r.pid)), 250);

      const jsStream = `rivulet_${Buffer.from('bench').toString('base64url')}`;
      const reference = await ctx.startCeiling(REFERENCE, [node.servers, jsStream]);
      const rivuletPage = (limit: number) => (_: number) =>
        `${r.url}/v1/streams/bench/events?after=${randomAfter(limit)}&limit=${limit}`;
      const referencePage = (limit: number) => (_: number) =>
        `${reference.url}/?after=${randomAfter(limit)}&limit=${limit}`;

      // catch-up reads, interleaved rounds
      for (const limit of [100, 1000]) {
        await load(rivuletPage(limit), READ_CONNECTIONS, 'GET', auth); // warm-up
        await load(referencePage(limit), READ_CONNECTIONS, 'GET', {});
        const mine: Run[] = [];
        const ref: Run[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          await settle(r.pid);
          mine.push(await load(rivuletPage(limit), READ_CONNECTIONS, 'GET', auth));
          await settle(r.pid);
          ref.push(await load(referencePage(limit), READ_CONNECTIONS, 'GET', {}));
        }
        const value = median(mine.map((m) => m.rps)) * limit;
        const ceiling = median(ref.map((m) => m.rps)) * limit;
        const base = { scenario: S, case: `catch-up, ${limit}-event pages, ${READ_CONNECTIONS} connections` };
        rows.push(
          {
            ...base,
            metric: 'events/s vs bare JetStream client',
            value,
            unit: 'events/s',
            ceiling,
            ratio: value / ceiling,
            goal: '≥ 0.5×',
            pass: value / ceiling >= 0.5,
          },
          {
            ...base,
            metric: 'rivulet p99 (reference)',
            value: median(mine.map((m) => m.p99Ms)),
            unit: 'ms',
            ceiling: median(ref.map((m) => m.p99Ms)),
          },
        );
        const failed = [...mine, ...ref].reduce((n, m) => n + m.failed, 0);
        if (failed > 0) process.stderr.write(`${S}: ${failed} read requests failed\n`);
      }
      await reference.close();

      // produce alone vs beside readers of 1000-event pages, interleaved
      const produce = () =>
        load(
          () => `${r.url}/v1/streams/bench/events`,
          PRODUCE_CONNECTIONS,
          'POST',
          { ...auth, 'content-type': 'application/json' },
          JSON.stringify(event(1)),
        );
      const results: Record<string, Run[]> = { alone: [], '4 readers': [], '16 readers': [] };
      await settle(r.pid);
      await produce(); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        await settle(r.pid);
        results.alone!.push(await produce());
        for (const readers of [4, 16]) {
          await settle(r.pid);
          const [p] = await Promise.all([produce(), load(rivuletPage(1000), readers, 'GET', auth)]);
          results[`${readers} readers`]!.push(p);
        }
      }
      for (const [name, runs] of Object.entries(results)) {
        const failed = runs.reduce((n, m) => n + m.failed, 0);
        if (failed > 0)
          process.stderr.write(
            `${S}: produce ${name}: ${failed} requests failed (non-2xx by status: ${JSON.stringify(runs.map((m) => m.statuses))})\n`,
          );
      }
      const alone = { rps: median(results.alone!.map((m) => m.rps)), p99: median(results.alone!.map((m) => m.p99Ms)) };
      rows.push({
        scenario: S,
        case: 'single-event produce alone, 8 connections',
        metric: 'events/s (p99 ms in the next row)',
        value: alone.rps,
        unit: 'events/s',
      });
      rows.push({
        scenario: S,
        case: 'single-event produce alone, 8 connections',
        metric: 'p99',
        value: alone.p99,
        unit: 'ms',
      });
      for (const readers of [4, 16]) {
        const runs = results[`${readers} readers`]!;
        const rps = median(runs.map((m) => m.rps));
        const p99 = median(runs.map((m) => m.p99Ms));
        const base = { scenario: S, case: `single-event produce beside ${readers} readers of 1000-event pages` };
        rows.push(
          {
            ...base,
            metric: 'events/s vs alone',
            value: rps,
            unit: 'events/s',
            ceiling: alone.rps,
            ratio: rps / alone.rps,
            goal: '≥ 0.5×',
            pass: rps / alone.rps >= 0.5,
          },
          {
            ...base,
            metric: 'p99 vs alone',
            value: p99,
            unit: 'ms',
            ceiling: alone.p99,
            ratio: p99 / alone.p99,
            goal: '≤ 3×',
            pass: p99 / alone.p99 <= 3,
          },
        );
      }
      rows.push({
        scenario: S,
        case: 'rivulet process during all of the above',
        metric: 'peak RSS',
        value: Math.max(...rss),
        unit: 'MiB',
        goal: '≤ 150 MiB',
        pass: Math.max(...rss) <= 150,
      });
      rows.push({
        scenario: S,
        case: 'rivulet process during all of the above',
        metric: 'median RSS',
        value: median(rss),
        unit: 'MiB',
      });
      return rows;
    } finally {
      if (rssTimer) clearInterval(rssTimer);
      await rivulet?.close();
      await node.close();
    }
  },
};
