/**
 * Consumers: receive + ack throughput of the leased style at batch 1, 100 and 500, beside the
 * store's raw sequential read rate (the ceiling: a consumer cannot deliver faster than the log
 * is read). Each receive and each ack is one durable transaction, so small batches pay for
 * two commits per batch.
 *
 * Run alone: node --import tsx bench/scenarios/consumers.bench.ts [events]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCoreServices } from '../../src/core/services.js';
import type { NewEvent } from '../../src/kernel/envelope.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Row, Scenario } from '../context.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** context: the ceiling, the ratio to it, sizes */
  extra?: Record<string, number | string>;
}

export interface BenchContext {
  /** events in the stream; the batch-1 run uses a tenth of them */
  events?: number;
  log?: (line: string) => void;
}

async function run(ctx: BenchContext = {}): Promise<BenchResult[]> {
  const total = ctx.events ?? 20_000;
  const log = ctx.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-bench-consumers-'));
  const store = new SqliteStore({ dataDir: dir, durability: 'strict' });
  await store.open();
  try {
    const services = createCoreServices(store, { maxBatchEvents: 10_000 });
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

    let read = 0;
    const readStart = performance.now();
    for await (const e of store.events.read('bench', { limit: total })) read += e.seq > 0 ? 1 : 0;
    const rawRate = read / ((performance.now() - readStart) / 1000);
    const results: BenchResult[] = [
      {
        name: 'consumers: raw sequential read (ceiling)',
        value: Math.round(rawRate),
        unit: 'events/s',
        extra: { events: read },
      },
    ];
    log(`raw sequential read: ${Math.round(rawRate)} events/s`);

    for (const batch of [1, 100, 500]) {
      const name = `b${batch}`;
      await services.consumers.create('bench', { name, leaseMs: 60_000 });
      const target = batch === 1 ? Math.max(1, Math.floor(total / 10)) : total;
      let done = 0;
      const start = performance.now();
      while (done < target) {
        const got = await services.consumers.receive('bench', name, { max: Math.min(batch, target - done) });
        if (got.length === 0) break;
        await services.consumers.ack(
          'bench',
          name,
          got.map((d) => d.leaseToken),
        );
        done += got.length;
      }
      const rate = done / ((performance.now() - start) / 1000);
      const ratio = rate / rawRate;
      log(`receive+ack batch ${batch}: ${Math.round(rate)} events/s (${(ratio * 100).toFixed(1)}% of raw read)`);
      results.push({
        name: `consumers: receive+ack, batch ${batch}`,
        value: Math.round(rate),
        unit: 'events/s',
        extra: { events: done, batch, ceiling: Math.round(rawRate), ratio: Number(ratio.toFixed(4)) },
      });
    }
    return results;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The harness's rows: each receive+ack rate beside the raw sequential read rate. */
function toRows(results: BenchResult[]): Row[] {
  return results.map((r) => ({
    scenario: 'consumers',
    case: r.name.replace(/^consumers: /, ''),
    metric: 'throughput',
    value: r.value,
    unit: r.unit,
    ...(typeof r.extra?.ceiling === 'number' ? { ceiling: r.extra.ceiling, ratio: r.value / r.extra.ceiling } : {}),
  }));
}

export const scenario: Scenario = { name: 'consumers', run: async () => toRows(await run()) };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const events = process.argv[2] ? Number(process.argv[2]) : undefined;
  const results = await run({ events, log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
