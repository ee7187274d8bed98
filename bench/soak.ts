/**
 * The soak: the built server under a steady 60% of its measured capacity for a long time
 * (an hour by default), reporting once a minute the server's memory (RSS and heap, read from
 * /proc and /metrics) and the latency p99, so drift — a leak, a slowly growing table, a
 * degrading index — shows as a trend. Not part of CI.
 *
 *   npm run soak                       # 60 minutes
 *   npm run soak -- --minutes 1        # a quick check
 *   SOAK_MINUTES=10 SOAK_LOAD=0.6 npm run soak
 *
 * Only loopback traffic; the run is bounded by its duration and stops by itself.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createContext } from './context.js';

interface Minute {
  minute: number;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  rssMiB: number;
  heapMiB: number;
  events: number;
}

function option(name: string, env: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const raw = at >= 0 ? process.argv[at + 1] : process.env[env];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} (or ${env}) must be a positive number, not ${raw}`);
  return value;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function scrape(url: string, key: string): Promise<{ heapMiB: number; events: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    heapMiB: value(/^rivulet_nodejs_heap_size_used_bytes (\S+)$/m) / 1024 / 1024,
    events: value(/^rivulet_events_produced_total\{stream="soak"\} (\S+)$/m),
  };
}

async function main(): Promise<void> {
  const minutes = option('minutes', 'SOAK_MINUTES', 60);
  const load = option('load', 'SOAK_LOAD', 0.6);
  const probeS = option('probe-seconds', 'SOAK_PROBE_SECONDS', 10);
  const windowS = option('window-seconds', 'SOAK_WINDOW_SECONDS', 60);
  const { ctx, cleanup } = createContext();
  const stop = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    const server = await ctx.startRivulet();
    const headers = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
    await fetch(`${server.url}/v1/streams`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'soak', retention: { maxEvents: 1_000_000 } }),
    }).then((r) => r.text());
    const request = {
      url: `${server.url}/v1/streams/soak/events`,
      method: 'POST',
      headers,
      body: JSON.stringify({
        type: 'soak.tick',
        data: { user: 'u-123', amount: 42.5, tags: ['a', 'b'], note: 'x'.repeat(200) },
      }),
      connections: 32,
      timeout: 30,
    };

    // capacity: what the server sustains flat out, measured once before the soak
    const probe = await autocannon({ ...request, duration: probeS });
    const capacity = probe['2xx'] / probe.duration;
    const rate = Math.max(1, Math.round(capacity * load));
    console.log(
      `capacity ${capacity.toFixed(0)} req/s (p99 ${probe.latency.p99} ms flat out); soaking at ${rate} req/s (${Math.round(load * 100)}%) for ${minutes} min, reporting every ${windowS} s`,
    );
    console.log('minute  req/s   p50ms   p99ms   failed  rssMiB  heapMiB events   Δp99ms  ΔrssMiB (against minute 1)');

    const rows: Minute[] = [];
    const windows = Math.max(1, Math.round((minutes * 60) / windowS));
    for (let i = 1; i <= windows; i++) {
      const r = await autocannon({ ...request, duration: windowS, overallRate: rate });
      const scraped = await scrape(server.url, server.adminKey);
      const row: Minute = {
        minute: i,
        requestsPerS: r['2xx'] / r.duration,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        failed: r.non2xx + r.errors + r.timeouts,
        rssMiB: rssMiB(server.pid),
        ...scraped,
      };
      rows.push(row);
      const base = rows[0]!;
      const signed = (n: number, digits = 0) => `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;
      console.log(
        [
          row.minute,
          row.requestsPerS.toFixed(0),
          row.p50Ms,
          row.p99Ms,
          row.failed,
          row.rssMiB.toFixed(1),
          row.heapMiB.toFixed(1),
          row.events,
          signed(row.p99Ms - base.p99Ms),
          signed(row.rssMiB - base.rssMiB, 1),
        ]
          .map((v) => String(v).padEnd(7))
          .join(' '),
      );
    }

    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    const summary = {
      minutes,
      load,
      capacity,
      rate,
      windows: rows,
      drift: {
        p99Ms: last.p99Ms - first.p99Ms,
        rssMiB: last.rssMiB - first.rssMiB,
        heapMiB: last.heapMiB - first.heapMiB,
      },
      failed: rows.reduce((n, r) => n + r.failed, 0),
    };
    console.log(
      `drift over the run: p99 ${summary.drift.p99Ms >= 0 ? '+' : ''}${summary.drift.p99Ms} ms, RSS ${summary.drift.rssMiB.toFixed(1)} MiB, heap ${summary.drift.heapMiB.toFixed(1)} MiB; ${summary.failed} failed requests`,
    );
    const out = fileURLToPath(
      new URL(`./results/soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url),
    );
    writeFileSync(out, JSON.stringify(summary, null, 2));
    console.log(`written to ${out}`);
    if (summary.failed > 0) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

await main();
