/**
 * Reads: catch-up pages on Rivulet (embedded store, strict durability) against a bare
 * node:http server answering the same events from one indexed SELECT on a plain SQLite table
 * (the ceiling, bench/reads-ceiling.mjs); then single-event produce alone and beside clients
 * reading 1000-event pages, to show whether reads stall writes; and the server's memory and the
 * bytes each event takes on disk.
 * Goals: pages ≥ 0.5× the ceiling; produce beside readers ≥ 0.5× of alone with p99 ≤ 3× of
 * alone; RSS ≤ 150 MiB.
 *
 * Each case runs ROUNDS interleaved rounds (ceiling then Rivulet, or alone then with readers)
 * and reports medians of the rounds' ratios. BENCH_READS_EVENTS sets the stream's size;
 * BENCH_READS_CASES=catch-up (or produce, or size) runs one part; BENCH_READS_BIG sets the
 * size of the big stream of the size case.
 */
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { startServerProcess } from '../../test/support/server-process.js';
import type { BenchContext, LoadResult, Row, Scenario } from '../context.js';
import { quantile, subscribe } from './live.bench.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const EVENTS = Number(process.env.BENCH_READS_EVENTS ?? 50_000);
const CASES = process.env.BENCH_READS_CASES ?? 'catch-up,produce,size,join';
/** the big stream of the size case (the goal speaks of 10M; this machine builds far fewer in a run) */
const BIG = Number(process.env.BENCH_READS_BIG ?? 500_000);
/** the backlog a live subscriber joins with while others follow (the goal speaks of 1M) */
const JOIN_BACKLOG = Number(process.env.BENCH_READS_JOIN_BACKLOG ?? 200_000);
/** flags for the server (`serve` options) and for its node process, space-separated: comparing memory settings */
const SERVER_ARGS = (process.env.BENCH_READS_ARGS ?? '').split(' ').filter(Boolean);
const SERVER_NODE_ARGS = (process.env.BENCH_READS_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** another build's dist/cli/main.js to measure instead of this tree's */
const SERVER_MAIN = process.env.BENCH_READS_MAIN || undefined;
const READ_CONNECTIONS = 8;
const PRODUCE_CONNECTIONS = 8;
const CEILING = fileURLToPath(new URL('../reads-ceiling.mjs', import.meta.url));

/** ~110 bytes of payload, as in the ingest benchmark */
const oneEvent = (i: number) => ({
  type: 'bench.reading',
  source: '/bench',
  data: { sensor: `s-${i % 16}`, value: i * 1.5, unit: 'celsius', tags: ['a', 'b'], ok: true },
});

export const scenario: Scenario = {
  name: 'reads',
  async run(ctx: BenchContext): Promise<Row[]> {
    const server = await ctx.startRivulet({ args: SERVER_ARGS, nodeArgs: SERVER_NODE_ARGS, main: SERVER_MAIN });
    await settle(2000);
    const startRss = rssMiB(server.pid);
    const headers = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
    await ctx.post(`${server.url}/v1/streams`, headers, { name: 'bench' });
    await ctx.post(`${server.url}/v1/streams`, headers, { name: 'produce' });
    for (let at = 0; at < EVENTS; at += 1000) {
      await ctx.post(
        `${server.url}/v1/streams/bench/events`,
        headers,
        Array.from({ length: Math.min(1000, EVENTS - at) }, (_, i) => oneEvent(at + i)),
      );
    }
    const ceilingDb = await fillCeiling(ctx, server.url, headers.authorization);
    process.env.BENCH_READS_DB = ceilingDb;
    const ceiling = await ctx.startCeiling(CEILING);
    await settle(2000);
    const filledRss = rssMiB(server.pid);
    const rss = new RssSampler(server.pid);
    const rows: Row[] = [];

    // (a) catch-up pages
    for (const limit of CASES.includes('catch-up') ? [100, 1000] : []) {
      const rivulet = (after: number) => `/v1/streams/bench/events?after=${after}&limit=${limit}`;
      const bare = (after: number) => `/?after=${after}&limit=${limit}`;
      await readLoad(server.url, rivulet, headers, limit, 1);
      await readLoad(ceiling.url, bare, {}, limit, 1);
      const rounds: [LoadResult, LoadResult][] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const c = await readLoad(ceiling.url, bare, {}, limit, DURATION_S);
        const v = await readLoad(server.url, rivulet, headers, limit, DURATION_S);
        rounds.push([c, v]);
      }
      const base = { scenario: 'reads', case: `catch-up, ${limit}-event pages, ${READ_CONNECTIONS} connections` };
      const ratio = median(rounds.map(([c, v]) => v.requestsPerS / c.requestsPerS));
      rows.push(
        {
          ...base,
          metric: 'ceiling events/s',
          value: median(rounds.map(([c]) => c.requestsPerS * limit)),
          unit: 'events/s',
        },
        {
          ...base,
          metric: 'rivulet events/s',
          value: median(rounds.map(([, v]) => v.requestsPerS * limit)),
          unit: 'events/s',
          ceiling: median(rounds.map(([c]) => c.requestsPerS * limit)),
          ratio,
          goal: '≥ 0.5× ceiling',
          pass: ratio >= 0.5,
        },
        {
          ...base,
          metric: 'rivulet p99',
          value: median(rounds.map(([, v]) => v.p99Ms)),
          unit: 'ms',
          ceiling: median(rounds.map(([c]) => c.p99Ms)),
        },
        {
          ...base,
          metric: 'per-round ratios',
          value: ratio,
          unit: rounds.map(([c, v]) => (v.requestsPerS / c.requestsPerS).toFixed(2)).join(' '),
        },
      );
    }

    // (b) single-event produce alone, beside 4 and beside 16 clients reading 1000-event pages
    const produce = {
      url: `${server.url}/v1/streams/produce/events`,
      headers,
      body: JSON.stringify(oneEvent(1)),
      connections: PRODUCE_CONNECTIONS,
    };
    const readers = CASES.includes('produce') ? [0, 4, 16] : [];
    if (readers.length > 0) await ctx.load({ ...produce, durationS: 1 });
    const produceRounds: LoadResult[][] = [];
    for (let r = 0; r < ROUNDS && readers.length > 0; r++) {
      const round: LoadResult[] = [];
      for (const n of readers) {
        const reading =
          n === 0
            ? Promise.resolve(undefined)
            : readLoad(
                server.url,
                (after) => `/v1/streams/bench/events?after=${after}&limit=1000`,
                headers,
                1000,
                DURATION_S + 1,
                n,
              );
        round.push(await ctx.load({ ...produce, durationS: DURATION_S }));
        await reading;
      }
      produceRounds.push(round);
    }
    for (const [i, n] of readers.entries()) {
      const base = {
        scenario: 'reads',
        case: n === 0 ? 'single-event produce alone' : `single-event produce beside ${n} readers of 1000-event pages`,
      };
      const value = median(produceRounds.map((round) => round[i]!.requestsPerS));
      const p99 = median(produceRounds.map((round) => round[i]!.p99Ms));
      if (n === 0) {
        rows.push(
          { ...base, metric: 'events/s', value, unit: 'events/s' },
          { ...base, metric: 'p99', value: p99, unit: 'ms' },
        );
        continue;
      }
      const ratio = median(produceRounds.map((round) => round[i]!.requestsPerS / round[0]!.requestsPerS));
      const p99Ratio = median(produceRounds.map((round) => round[i]!.p99Ms / Math.max(round[0]!.p99Ms, 0.001)));
      rows.push(
        {
          ...base,
          metric: 'events/s',
          value,
          unit: 'events/s',
          ceiling: median(produceRounds.map((round) => round[0]!.requestsPerS)),
          ratio,
          goal: '≥ 0.5× alone',
          pass: ratio >= 0.5,
        },
        {
          ...base,
          metric: 'p99',
          value: p99,
          unit: 'ms',
          ceiling: median(produceRounds.map((round) => round[0]!.p99Ms)),
          ratio: p99Ratio,
          goal: '≤ 3× alone',
          pass: p99Ratio <= 3,
        },
      );
    }

    // (e) a big stream against a 1k-event one: appends, 100-event pages at the head, middle
    // and tail, and a seek by time, each on both streams in the same round
    if (CASES.includes('size')) rows.push(...(await sizeCase(ctx, server.url, headers)));

    // (d) followers at the tail while a live subscriber joins with a large backlog
    if (CASES.includes('join')) rows.push(...(await joinCase(ctx, server.url, headers)));

    // (c) memory and disk
    rss.stop();
    rows.push(
      { scenario: 'reads', case: 'server at rest', metric: 'RSS after start', value: startRss, unit: 'MiB' },
      {
        scenario: 'reads',
        case: 'server at rest',
        metric: `RSS holding ${EVENTS.toLocaleString('en-US')} events`,
        value: filledRss,
        unit: 'MiB',
      },
    );
    rows.push({
      scenario: 'reads',
      case: 'server during all of the above',
      metric: 'peak RSS',
      value: rss.peakMiB,
      unit: 'MiB',
      goal: '≤ 150 MiB',
      pass: rss.peakMiB <= 150,
    });
    rows.push(...diskRows(server.dataDir, EVENTS));

    // (f) restart: the process stopped, then started again on the same data until it answers
    await server.close();
    const started = performance.now();
    const again = await startServerProcess({
      main: SERVER_MAIN,
      dataDir: server.dataDir,
      args: ['--durability', 'strict'],
      logLevel: 'warn',
    });
    const readyMs = performance.now() - started;
    await again.close();
    const total = new Database(join(server.dataDir, 'rivulet.db'), { readonly: true });
    const held = (total.prepare('SELECT SUM(count) AS n FROM streams').get() as { n: number }).n;
    total.close();
    rows.push({
      scenario: 'reads',
      case: `restart with ${held.toLocaleString('en-US')} events`,
      metric: 'start until serving',
      value: readyMs,
      unit: 'ms',
    });
    return rows;
  },
};

async function sizeCase(ctx: BenchContext, url: string, headers: Record<string, string>): Promise<Row[]> {
  const T0 = Date.parse('2026-01-01T00:00:00Z');
  const timed = (i: number) => ({ ...oneEvent(i), time: new Date(T0 + i * 1000).toISOString() });
  for (const [name, n] of [
    ['small', 1000],
    ['big', BIG],
  ] as const) {
    await ctx.post(`${url}/v1/streams`, headers, { name });
    for (let at = 0; at < n; at += 1000) {
      await ctx.post(
        `${url}/v1/streams/${name}/events`,
        headers,
        Array.from({ length: Math.min(1000, n - at) }, (_, i) => timed(at + i)),
      );
    }
  }
  const sizes = { small: 1000, big: BIG };
  const probes: { label: string; path: (name: 'small' | 'big') => string; produce?: boolean }[] = [
    { label: 'appends (single events)', path: (name) => `/v1/streams/${name}/events`, produce: true },
    { label: '100-event page at the head', path: () => '/events?limit=100' },
    { label: '100-event page in the middle', path: (name) => `/events?after=${sizes[name] >> 1}&limit=100` },
    { label: '100-event page at the tail', path: (name) => `/events?after=${sizes[name] - 100}&limit=100` },
    {
      label: 'seek by time, mid-stream',
      path: (name) => `/events?from=${new Date(T0 + (sizes[name] >> 1) * 1000).toISOString()}&limit=1`,
    },
  ];
  const rows: Row[] = [];
  for (const p of probes) {
    const run = async (name: 'small' | 'big', durationS: number) =>
      p.produce
        ? ctx.load({
            url: `${url}${p.path(name)}`,
            headers,
            body: JSON.stringify(oneEvent(1)),
            connections: PRODUCE_CONNECTIONS,
            durationS,
          })
        : ctx.load({
            url: `${url}/v1/streams/${name}${p.path(name)}`,
            method: 'GET',
            headers: { authorization: headers.authorization! },
            connections: READ_CONNECTIONS,
            durationS,
          });
    await run('small', 1);
    await run('big', 1);
    const rounds: [LoadResult, LoadResult][] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push([await run('small', DURATION_S), await run('big', DURATION_S)]);
    const ratio = median(rounds.map(([s, b]) => b.requestsPerS / s.requestsPerS));
    rows.push({
      scenario: 'reads',
      case: `${BIG.toLocaleString('en-US')}-event stream vs 1,000: ${p.label}`,
      metric: 'requests/s',
      value: median(rounds.map(([, b]) => b.requestsPerS)),
      unit: 'req/s',
      ceiling: median(rounds.map(([s]) => s.requestsPerS)),
      ratio,
      goal: '≥ 0.9× small',
      pass: ratio >= 0.9,
    });
  }
  return rows;
}

/**
 * 10 WebSocket subscribers follow a stream at its tail while events are produced at 1,000/s;
 * each round measures their produce→arrival p99 without, then with, a subscriber joining from
 * the start of the stream's backlog (JOIN_BACKLOG events), which reads it as fast as it can.
 */
async function joinCase(ctx: BenchContext, url: string, headers: Record<string, string>): Promise<Row[]> {
  const name = 'joined';
  await ctx.post(`${url}/v1/streams`, headers, { name });
  for (let at = 0; at < JOIN_BACKLOG; at += 1000) {
    await ctx.post(
      `${url}/v1/streams/${name}/events`,
      headers,
      Array.from({ length: Math.min(1000, JOIN_BACKLOG - at) }, (_, i) => oneEvent(at + i)),
    );
  }
  const liveUrl = async (after?: number) => {
    const { token } = await ctx.post<{ token: string }>(
      `${url}/v1/live-tokens`,
      { authorization: headers.authorization! },
      { stream: name },
    );
    const ws = new URL(`${url.replace(/^http/, 'ws')}/v1/streams/${name}/live`);
    ws.searchParams.set('token', token);
    if (after !== undefined) ws.searchParams.set('after', String(after));
    return ws.href;
  };
  const now = () => performance.timeOrigin + performance.now();
  const window = async (joining: boolean) => {
    const followers = await subscribe(await liveUrl(), 10);
    const load = (durationS: number) =>
      ctx.pace({
        url: `${url}/v1/streams/${name}/events`,
        headers,
        body: () => JSON.stringify({ type: 'bench.tick', data: { t: now() } }),
        ratePerS: 1000,
        durationS,
      });
    await load(0.5);
    await settle(300);
    // the joiner only counts what it reads: its latencies are not measured, and parsing a
    // million messages would put the client's work on these two cores, not the server's
    const commitsBefore = await commitTimes(url, headers);
    const joiner = joining ? await subscribe(await liveUrl(0), 1, { parse: false }) : null;
    const start = now();
    followers.window(start);
    const { sent } = await load(DURATION_S);
    for (let i = 0; i < 50 && (await followers.delivered()) < sent * 10; i++) await settle(100);
    const { latencies, fromStore } = await followers.collect();
    const commits = slowCommits(commitsBefore, await commitTimes(url, headers));
    const joined = joiner ? await joiner.delivered() : 0;
    await joiner?.collect();
    return {
      p99: quantile(latencies, 0.99),
      fromStoreP99: quantile(fromStore, 0.99),
      commits,
      delivered: latencies.length,
      expected: sent * 10,
      joined,
    };
  };
  const rounds: { alone: Awaited<ReturnType<typeof window>>; joined: Awaited<ReturnType<typeof window>> }[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push({ alone: await window(false), joined: await window(true) });
  const base = {
    scenario: 'reads',
    case: `10 followers at 1,000 events/s, a subscriber joining with a ${JOIN_BACKLOG.toLocaleString('en-US')}-event backlog`,
  };
  const ratio = median(rounds.map((r) => r.joined.p99 / Math.max(r.alone.p99, 0.001)));
  return [
    {
      ...base,
      metric: 'followers p99',
      value: median(rounds.map((r) => r.joined.p99)),
      unit: 'ms',
      ceiling: median(rounds.map((r) => r.alone.p99)),
      ratio,
      goal: '≤ 2× without the joiner',
      pass: ratio <= 2,
    },
    {
      ...base,
      metric: 'per-round p99 alone → joined',
      value: ratio,
      unit: rounds.map((r) => `${r.alone.p99.toFixed(1)}→${r.joined.p99.toFixed(1)}`).join(' '),
    },
    {
      ...base,
      metric: 'per-round store → arrival p99, alone → joined',
      value: median(rounds.map((r) => r.joined.fromStoreP99 / Math.max(r.alone.fromStoreP99, 0.001))),
      unit: rounds.map((r) => `${r.alone.fromStoreP99.toFixed(0)}→${r.joined.fromStoreP99.toFixed(0)}`).join(' '),
    },
    {
      ...base,
      metric: 'per-round commits over 5 ms, alone → joined',
      value: median(rounds.map((r) => r.joined.commits)),
      unit: rounds.map((r) => `${r.alone.commits}→${r.joined.commits}`).join(' '),
    },
    {
      ...base,
      metric: 'joiner read by the end of the window',
      value: median(rounds.map((r) => r.joined.joined)),
      unit: 'events',
      goal: `of ${JOIN_BACKLOG.toLocaleString('en-US')}+`,
    },
    {
      ...base,
      metric: 'delivered with the joiner',
      value: median(rounds.map((r) => r.joined.delivered)),
      unit: 'events',
      goal: `of ${median(rounds.map((r) => r.joined.expected))}`,
    },
  ];
}

/** the server's commit-time histogram (`rivulet_store_commit_seconds`), cumulative counts by bucket */
async function commitTimes(url: string, headers: Record<string, string>): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { headers })).text();
  return new Map(
    [...text.matchAll(/^rivulet_store_commit_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => [
      m[1]!,
      Number(m[2]),
    ]),
  );
}

/** commits that took longer than 5 ms between two readings of the histogram */
function slowCommits(before: Map<string, number>, after: Map<string, number>): number {
  const count = (m: Map<string, number>, le: string) => m.get(le) ?? 0;
  return count(after, '+Inf') - count(before, '+Inf') - (count(after, '0.005') - count(before, '0.005'));
}

/** closed-loop reads; each request asks for a page at a position spread over the stream */
async function readLoad(
  base: string,
  path: (after: number) => string,
  headers: Record<string, string>,
  limit: number,
  durationS: number,
  connections = READ_CONNECTIONS,
): Promise<LoadResult> {
  let n = 0;
  const span = Math.max(1, EVENTS - limit);
  const result = await autocannon({
    url: base,
    connections,
    duration: durationS,
    timeout: 30,
    headers,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: path((n++ * 7919 * limit) % span) }) }],
  });
  return {
    requestsPerS: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    statuses: {},
  };
}

/** the same events, as Rivulet answers them, in a plain table for the ceiling */
async function fillCeiling(ctx: BenchContext, url: string, authorization: string): Promise<string> {
  const path = join(ctx.tempDir('rivulet-reads-ceiling'), 'ceiling.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY, json TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO events (seq, json) VALUES (?, ?)');
  for (let after = 0; ;) {
    const res = await fetch(`${url}/v1/streams/bench/events?after=${after}&limit=5000`, { headers: { authorization } });
    const page = (await res.json()) as { events: { seq: number }[] };
    if (page.events.length === 0) break;
    db.transaction(() => {
      for (const e of page.events) insert.run(e.seq, JSON.stringify(e));
    })();
    after = page.events.at(-1)!.seq;
  }
  db.close();
  return path;
}

class RssSampler {
  peakMiB = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 250);
  }
  private sample(): void {
    this.peakMiB = Math.max(this.peakMiB, rssMiB(this.pid));
  }
  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

/** a process's resident memory (0 where /proc is missing, or the process is gone) */
function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** bytes per event on disk, and which tables and indexes take them */
function diskRows(dataDir: string, events: number): Row[] {
  const file = join(dataDir, 'rivulet.db');
  const size = statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
  const base = { scenario: 'reads', case: `disk, ${events.toLocaleString('en-US')} + produced events` };
  const rows: Row[] = [];
  const db = new Database(file, { readonly: true });
  try {
    const total = (db.prepare('SELECT SUM(count) AS n FROM streams').get() as { n: number }).n;
    rows.push({ ...base, metric: 'file bytes per event', value: size / total, unit: 'bytes' });
    const payload = db
      .prepare(
        'SELECT AVG(size) AS data, AVG(LENGTH(id) + LENGTH(type) + LENGTH(source) + LENGTH(time) + LENGTH(meta)) AS other FROM events',
      )
      .get() as { data: number; other: number };
    rows.push({ ...base, metric: 'data bytes per event', value: payload.data, unit: 'bytes' });
    try {
      const parts = db
        .prepare(
          "SELECT name, SUM(pgsize) AS bytes FROM dbstat WHERE name IN ('events', 'events_by_id', 'events_by_time_max', 'events_by_type') GROUP BY name ORDER BY bytes DESC",
        )
        .all() as { name: string; bytes: number }[];
      for (const p of parts)
        rows.push({ ...base, metric: `${p.name} bytes per event`, value: p.bytes / total, unit: 'bytes' });
    } catch {
      // SQLite without the dbstat table
    }
  } finally {
    db.close();
  }
  return rows;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
