/**
 * Sinks: webhook deliveries per second from the delivery engine to a local receiver that
 * answers at once and after 50 ms, beside the bound (concurrency ÷ latency) and a raw undici
 * POST loop at the same concurrency (the ceiling: no store, no leases, no acks). The engine,
 * the store and the receiver share this process, as do the raw loop and its receiver.
 *
 * Run alone: node --import tsx bench/scenarios/sinks.bench.ts [events]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { Agent, request } from 'undici';
import { createCoreServices } from '../../src/core/services.js';
import type { NewEvent } from '../../src/kernel/envelope.js';
import { createDelivery } from '../../src/delivery/delivery-setup.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Row, Scenario } from '../context.js';

const CONCURRENCY = 32;

async function receiver(latencyMs: number) {
  let count = 0;
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    const id = String(req.headers['webhook-id'] ?? count);
    req.resume();
    req.on('end', () => {
      count++;
      seen.add(id);
      if (latencyMs === 0) res.end('ok');
      else setTimeout(() => res.end('ok'), latencyMs);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    distinct: () => seen.size,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function rawLoop(latencyMs: number, total: number): Promise<number> {
  const rx = await receiver(latencyMs);
  const agent = new Agent({ connections: CONCURRENCY });
  const body = JSON.stringify({
    id: 'x',
    stream: 'bench',
    seq: 1,
    type: 'order.placed',
    data: { n: 1, note: 'x'.repeat(200) },
  });
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const i = next++;
        const res = await request(rx.url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'webhook-id': `m${i}` },
          dispatcher: agent,
        });
        await res.body.dump();
      }
    }),
  );
  const rate = total / ((performance.now() - start) / 1000);
  await agent.close();
  await rx.close();
  return rate;
}

async function engineRun(latencyMs: number, total: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-bench-sinks-'));
  const store = new SqliteStore({ dataDir: dir, durability: 'strict' });
  await store.open();
  const rx = await receiver(latencyMs);
  const delivery = createDelivery({ allowLoopback: true });
  const services = createCoreServices(store, { maxBatchEvents: 10_000, sinkChecks: delivery.checks });
  const engine = delivery.engine(services, store, pino({ level: 'silent' }), { scanIntervalMs: 200, idlePollMs: 20 });
  try {
    await services.streams.create({ name: 'bench' }, 'bench');
    for (let i = 0; i < total; i += 1000) {
      const events: NewEvent[] = Array.from({ length: Math.min(1000, total - i) }, (_, k) => ({
        id: `e-${i + k}`,
        idSupplied: false,
        type: 'order.placed',
        source: '/bench',
        time: new Date().toISOString(),
        producer: null,
        data: { n: i + k, note: 'x'.repeat(200) },
        meta: {},
      }));
      await services.produce.produce({ stream: 'bench', events, producer: null });
    }
    await services.sinks.create(
      {
        id: 'bench',
        streams: ['bench'],
        start: { from: 'beginning' },
        target: { kind: 'http', url: rx.url },
        policy: { concurrency: CONCURRENCY },
      },
      'bench',
    );
    const start = performance.now();
    engine.start();
    while (rx.distinct() < total) await new Promise((r) => setTimeout(r, 5));
    return total / ((performance.now() - start) / 1000);
  } finally {
    await engine.close();
    await rx.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(events?: number, log: (line: string) => void = () => {}): Promise<Row[]> {
  const rows: Row[] = [];
  for (const latencyMs of [0, 50]) {
    const total = events ?? (latencyMs === 0 ? 5000 : 2000);
    const raw = await rawLoop(latencyMs, total);
    const rate = await engineRun(latencyMs, total);
    const label = latencyMs === 0 ? 'instant receiver' : `${latencyMs} ms receiver`;
    log(`${label}: engine ${Math.round(rate)}/s, raw undici ${Math.round(raw)}/s (${(rate / raw).toFixed(2)}×)`);
    rows.push({
      scenario: 'sinks',
      case: `webhook, ${label}, concurrency ${CONCURRENCY}`,
      metric: 'deliveries',
      value: rate,
      unit: 'deliveries/s',
      ceiling: raw,
      ratio: rate / raw,
      goal: '≥0.7× raw',
      pass: rate / raw >= 0.7,
    });
    if (latencyMs > 0)
      rows.push({
        scenario: 'sinks',
        case: `bound: concurrency ÷ latency (${CONCURRENCY} ÷ ${latencyMs} ms)`,
        metric: 'deliveries',
        value: CONCURRENCY / (latencyMs / 1000),
        unit: 'deliveries/s',
      });
  }
  return rows;
}

export const scenario: Scenario = { name: 'sinks', run: async () => run() };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const events = process.argv[2] ? Number(process.argv[2]) : undefined;
  const rows = await run(events, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
}
