/**
 * Main-thread CPU per single-event produce request, nats store beside SQLite: one Rivulet
 * process on each (SQLite with durable acks, nats on a one-node nats-server), the same
 * single-event load on each in interleaved rounds (sqlite, nats, sqlite, nats, …): open-loop at
 * one fixed rate both stores carry, because per-request CPU falls as the rate rises (more
 * requests share a commit, a socket write, a wake-up), and closed-loop load would give each
 * store its own rate.
 * The main thread's CPU comes from /proc/<pid>/task/<pid>/stat (user + system) over each
 * round, divided by the requests answered 2xx; the whole process's CPU beside it (SQLite's
 * append worker, nats' nothing). Goal: nats ≤ 1.2× SQLite on the main thread (medians).
 *
 * BENCH_CPU_ROUNDS (5) rounds of BENCH_CPU_DURATION_S (3) seconds each at BENCH_CPU_RATE (2000)
 * requests/s. After each round, BENCH_CPU_SEQUENTIAL (1500; 0 skips it) requests sent one at a
 * time, each after the last was answered: every request its own commit, chain and socket writes,
 * where the open-loop rate shares them (reported beside it, with no goal).
 * BENCH_CPU_BASE=<another build's dist/cli/main.js> adds that build on nats to every round, so
 * a change is measured before and after side by side (it must sit inside this tree, where its
 * imports find node_modules).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startNatsServer } from '../../test/support/nats-server.js';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process.js';
import type { BenchContext, Row, Scenario } from '../context.js';

const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 5);
const DURATION_S = Number(process.env.BENCH_CPU_DURATION_S ?? 3);
const RATE = Number(process.env.BENCH_CPU_RATE ?? 2000);
const GOAL = 1.2;
/** the kernel's clock ticks per second (USER_HZ), which /proc counts CPU time in */
const TICK_US = 10_000;
const ADMIN_KEY = `bench-${randomUUID()}`;
const BASE_MAIN = process.env.BENCH_CPU_BASE;

const event = {
  type: 'bench.reading',
  source: '/bench',
  data: { sensor: 's-1', value: 1.5, unit: 'celsius', tags: ['a', 'b'], ok: true },
};
const body = JSON.stringify(event);
/** requests per round sent one at a time, each after the last was answered (0 skips it) */
const SEQUENTIAL = Number(process.env.BENCH_CPU_SEQUENTIAL ?? 1500);

/** user + system CPU of one thread (`tid`) or, with tid = pid and `whole`, of the process, in µs */
function cpuUs(pid: number, whole: boolean): number {
  const stat = readFileSync(whole ? `/proc/${pid}/stat` : `/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields here start at the 3rd (state): utime is the 14th, stime the 15th
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Round {
  mainUs: number;
  /** main-thread CPU per request sent one at a time: every request its own chain and commit */
  sequentialUs: number;
  processUs: number;
  perS: number;
  p99Ms: number;
}

async function round(ctx: BenchContext, p: ServerProcess, key: string): Promise<Round> {
  const main0 = cpuUs(p.pid, false);
  const all0 = cpuUs(p.pid, true);
  const started = performance.now();
  // any non-2xx answer fails the run
  const r = await ctx.pace({
    url: `${p.url}/v1/streams/bench/events`,
    headers: { authorization: `Bearer ${key}` },
    body: () => body,
    ratePerS: RATE,
    durationS: DURATION_S,
  });
  const seconds = (performance.now() - started) / 1000;
  const mainUs = (cpuUs(p.pid, false) - main0) / r.sent;
  const processUs = (cpuUs(p.pid, true) - all0) / r.sent;
  const seq0 = cpuUs(p.pid, false);
  for (let i = 0; i < SEQUENTIAL; i++)
    await ctx.post(`${p.url}/v1/streams/bench/events`, { authorization: `Bearer ${key}` }, event);
  return {
    mainUs,
    sequentialUs: SEQUENTIAL > 0 ? (cpuUs(p.pid, false) - seq0) / SEQUENTIAL : Number.NaN,
    processUs,
    perS: r.sent / seconds,
    p99Ms: r.p99Ms,
  };
}

export const scenario: Scenario = {
  name: 'produce-cpu',
  async run(ctx: BenchContext): Promise<Row[]> {
    const node = await startNatsServer();
    try {
      const sqlite = await ctx.startRivulet();
      const onNats = (main?: string) =>
        startServerProcess({
          main,
          dataDir: ctx.tempDir(),
          // a namespace each, so the two builds do not share streams or keys
          args: [
            '--store',
            node.servers,
            '--nats-replicas',
            '1',
            '--nats-namespace',
            main === undefined ? 'rivulet' : 'base',
          ],
          env: { RIVULET_ADMIN_KEY: ADMIN_KEY },
          logLevel: 'warn',
          startTimeoutMs: 120_000,
        });
      const nats = await onNats();
      const base = BASE_MAIN === undefined ? null : await onNats(BASE_MAIN);
      try {
        const stores = [
          { name: 'sqlite', p: sqlite, key: sqlite.adminKey },
          { name: 'nats', p: nats, key: ADMIN_KEY },
        ];
        if (base) stores.push({ name: 'nats (base build)', p: base, key: ADMIN_KEY });
        for (const s of stores) {
          await ctx.post(`${s.p.url}/v1/streams`, { authorization: `Bearer ${s.key}` }, { name: 'bench' });
          await ctx.pace({
            url: `${s.p.url}/v1/streams/bench/events`,
            headers: { authorization: `Bearer ${s.key}` },
            body: () => body,
            ratePerS: RATE,
            durationS: 1,
          });
        }
        const got: Record<string, Round[]> = Object.fromEntries(stores.map((s) => [s.name, []]));
        for (let i = 0; i < ROUNDS; i++) {
          for (const s of stores) {
            const r = await round(ctx, s.p, s.key);
            got[s.name]!.push(r);
            process.stderr.write(
              `produce-cpu: round ${i + 1} ${s.name}: main thread ${r.mainUs.toFixed(1)} µs, process ${r.processUs.toFixed(1)} µs per request at ${Math.round(r.perS)}/s (p99 ${r.p99Ms.toFixed(1)} ms); one at a time ${r.sequentialUs.toFixed(1)} µs\n`,
            );
          }
        }
        const m = (name: string, f: (r: Round) => number) => median(got[name]!.map(f));
        const ratios = got['nats']!.map((r, i) => r.mainUs / got['sqlite']![i]!.mainUs);
        const ratio = median(ratios);
        const baseRatios = base ? got['nats (base build)']!.map((r, i) => r.mainUs / got['sqlite']![i]!.mainUs) : [];
        const seqRatios = got['nats']!.map((r, i) => r.sequentialUs / got['sqlite']![i]!.sequentialUs);
        return [
          ...stores
            .map((s) => s.name)
            .flatMap((name): Row[] => [
              {
                scenario: 'produce-cpu',
                case: `${name}, single event`,
                metric: 'main-thread CPU per request (median)',
                value: m(name, (r) => r.mainUs),
                unit: 'µs',
              },
              {
                scenario: 'produce-cpu',
                case: `${name}, single event`,
                metric: 'process CPU per request (median)',
                value: m(name, (r) => r.processUs),
                unit: 'µs',
              },
              ...(SEQUENTIAL > 0
                ? [
                    {
                      scenario: 'produce-cpu',
                      case: `${name}, one request at a time`,
                      metric: 'main-thread CPU per request (median)',
                      value: m(name, (r) => r.sequentialUs),
                      unit: 'µs',
                    },
                  ]
                : []),
              {
                scenario: 'produce-cpu',
                case: `${name}, single event`,
                metric: 'requests/s (median)',
                value: m(name, (r) => r.perS),
                unit: 'requests/s',
              },
            ]),
          {
            scenario: 'produce-cpu',
            case: 'nats ÷ sqlite, main thread per request',
            metric: `ratio (median of ${ROUNDS} paired rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`,
            value: ratio,
            unit: '×',
            goal: `≤ ${GOAL}`,
            pass: ratio <= GOAL,
          },
          ...(SEQUENTIAL > 0
            ? [
                {
                  scenario: 'produce-cpu',
                  case: 'nats ÷ sqlite, one request at a time, main thread per request',
                  metric: `ratio (median of ${ROUNDS} paired rounds: ${seqRatios.map((x) => x.toFixed(2)).join(', ')})`,
                  value: median(seqRatios),
                  unit: '×',
                },
              ]
            : []),
          ...(base
            ? [
                {
                  scenario: 'produce-cpu',
                  case: 'nats (base build) ÷ sqlite, main thread per request',
                  metric: `ratio (median of ${ROUNDS} paired rounds: ${baseRatios.map((x) => x.toFixed(2)).join(', ')})`,
                  value: median(baseRatios),
                  unit: '×',
                },
              ]
            : []),
        ];
      } finally {
        await base?.close();
        await nats.close();
      }
    } finally {
      await node.close();
    }
  },
};
