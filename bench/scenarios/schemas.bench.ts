/**
 * Schemas: ingest throughput with schema validation on vs off, through the core ProduceService
 * over a real SQLite store (fsync'd commits), batches of 100 events of a realistic order (nested
 * customer, address and line items; formats, patterns, enums, ranges). Goal: validation costs
 * at most 10% of throughput. Rounds alternate off/on so drift (page cache, WAL growth) hits both
 * alike; the median round of each is reported. The validator alone (no store) is measured too,
 * as the cost per event that the ingest numbers hide behind the commit, and the pattern engine:
 * the schema's validator with Ajv's default (V8 RegExp) against the one Rivulet uses (RE2,
 * linear time), rounds alternating.
 *
 * Run alone: node --import tsx bench/scenarios/schemas.bench.ts [eventsPerRound]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCoreServices } from '../../src/core/services.js';
import type { NewEvent } from '../../src/kernel/envelope.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { linearRegExpEngine } from '../../src/core/schemas/schema-patterns.js';

import type { Row, Scenario } from '../context.js';

interface Options {
  /** where the store lives; removed afterwards */
  dataDir: string;
  /** events per round and mode */
  events?: number;
  log?: (line: string) => void;
}

const BATCH = 100;
const ROUNDS = 7;

export const ORDER_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['orderId', 'placedAt', 'customer', 'items', 'currency', 'total'],
  additionalProperties: false,
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    placedAt: { type: 'string', format: 'date-time' },
    channel: { enum: ['web', 'app', 'store', 'phone'] },
    customer: {
      type: 'object',
      required: ['id', 'email'],
      properties: {
        id: { type: 'string', pattern: '^C[0-9]{6}$' },
        email: { type: 'string', format: 'email' },
        vip: { type: 'boolean' },
      },
    },
    shipping: {
      type: 'object',
      required: ['street', 'city', 'country'],
      properties: {
        street: { type: 'string', maxLength: 200 },
        city: { type: 'string', maxLength: 100 },
        postcode: { type: 'string', maxLength: 20 },
        country: { type: 'string', pattern: '^[A-Z]{2}$' },
      },
    },
    items: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        required: ['sku', 'qty', 'unitPrice'],
        additionalProperties: false,
        properties: {
          sku: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{4}$' },
          name: { type: 'string', maxLength: 200 },
          qty: { type: 'integer', minimum: 1, maximum: 1000 },
          unitPrice: { type: 'number', minimum: 0 },
        },
      },
    },
    currency: { enum: ['EUR', 'USD', 'GBP', 'NOK'] },
    total: { type: 'number', minimum: 0 },
    notes: { type: 'string', maxLength: 1000 },
  },
};

function order(n: number): NewEvent['data'] {
  const items = Array.from({ length: 1 + (n % 5) }, (_, i) => ({
    sku: `ABC-${String(1000 + ((n + i) % 9000)).padStart(4, '0')}`,
    name: `item ${i} of order ${n}`,
    qty: 1 + (i % 3),
    unitPrice: 9.99 + i,
  }));
  return {
    orderId: randomUUID(),
    placedAt: new Date(1_700_000_000_000 + n * 1000).toISOString(),
    channel: 'web',
    customer: {
      id: `C${String(n % 1_000_000).padStart(6, '0')}`,
      email: `customer${n}@shop.example`,
      vip: n % 7 === 0,
    },
    shipping: { street: `${n} Main Street`, city: 'Oslo', postcode: '0150', country: 'NO' },
    items,
    currency: 'NOK',
    total: items.reduce((s, i) => s + i.qty * i.unitPrice, 0),
  };
}

function batches(count: number, start: number): NewEvent[][] {
  const out: NewEvent[][] = [];
  for (let b = 0; b < count / BATCH; b++) {
    out.push(
      Array.from({ length: BATCH }, (_, k) => {
        const n = start + b * BATCH + k;
        return {
          id: `e-${n}`,
          idSupplied: false,
          type: 'order.placed',
          source: '/shop',
          time: new Date().toISOString(),
          producer: null,
          data: order(n),
          meta: {},
        };
      }),
    );
  }
  return out;
}

/** The bench schema's validator as Ajv builds it, with its default pattern engine or with RE2. */
function validatorWith(re2: boolean): (data: unknown) => boolean {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: false,
    logger: false,
    validateFormats: true,
    ...(re2 ? { code: { regExp: linearRegExpEngine } } : {}),
  });
  addFormats.default(ajv);
  return ajv.compile(ORDER_SCHEMA);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(options: Options): Promise<Row[]> {
  const perRound = Math.max(BATCH, Math.floor((options.events ?? 5_000) / BATCH) * BATCH);
  const log = options.log ?? (() => {});
  const dir = options.dataDir;
  const store = new SqliteStore({ dataDir: dir, durability: 'strict' });
  await store.open();
  try {
    const services = createCoreServices(store, { maxBatchEvents: 10_000 });
    await services.streams.create({ name: 'off', options: { validation: 'off' } }, 'bench');
    await services.streams.create({ name: 'on', options: { validation: 'strict' } }, 'bench');
    for (const stream of ['off', 'on']) await services.schemas.register(stream, 'order.placed', ORDER_SCHEMA);

    const rates: Record<'off' | 'on', number[]> = { off: [], on: [] };
    let next = 0;
    // one warm-up round each, not counted
    for (let round = -1; round < ROUNDS; round++) {
      for (const mode of ['off', 'on'] as const) {
        const work = batches(perRound, next);
        next += perRound;
        const start = performance.now();
        for (const events of work) await services.produce.produce({ stream: mode, events, producer: null });
        const rate = perRound / ((performance.now() - start) / 1000);
        if (round >= 0) rates[mode].push(rate);
      }
    }
    const off = median(rates.off);
    const on = median(rates.on);
    const cost = 1 - on / off;
    log(`ingest, validation off: ${Math.round(off)} events/s (median of ${ROUNDS} rounds of ${perRound})`);
    log(`ingest, validation on:  ${Math.round(on)} events/s`);
    log(`throughput cost of validation: ${(cost * 100).toFixed(1)}% (goal <= 10%)`);

    // the validator alone: the same ingest check, no store; warm, median of the rounds
    const stream = (await store.streams.get('on'))!;
    const alone: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const work = batches(perRound, next);
      next += perRound;
      const start = performance.now();
      for (const events of work) await services.schemaEnforcer.ingestCheck(stream, events);
      alone.push(perRound / ((performance.now() - start) / 1000));
    }
    const validateRate = median(alone);
    // the commit's noise can hide a few microseconds either way, so also give the cost the
    // validator's own time implies (an upper bound: informational, the goal is on throughput)
    const implied = off / validateRate;
    log(
      `validation alone: ${Math.round(validateRate)} events/s (${(1e6 / validateRate).toFixed(2)} µs/event; ${(implied * 100).toFixed(1)}% of an unvalidated ingest's time per event)`,
    );

    // the pattern engine: the same schema compiled with V8's RegExp and with RE2, rounds alternating
    const engines = { v8: validatorWith(false), re2: validatorWith(true) };
    const engineTimes: Record<'v8' | 're2', number[]> = { v8: [], re2: [] };
    const sample = Array.from({ length: perRound }, (_, i) => order(next + i));
    for (let round = -1; round < ROUNDS; round++) {
      for (const engine of ['v8', 're2'] as const) {
        const validate = engines[engine];
        const start = performance.now();
        for (const data of sample)
          if (!validate(data)) throw new Error(`the ${engine} validator refused a valid order`);
        if (round >= 0) engineTimes[engine].push(((performance.now() - start) * 1000) / perRound);
      }
    }
    const v8 = median(engineTimes.v8);
    const re2 = median(engineTimes.re2);
    log(
      `validator alone, patterns on V8 RegExp: ${v8.toFixed(2)} µs/event; on RE2: ${re2.toFixed(2)} µs/event (${(re2 / v8).toFixed(2)}×)`,
    );

    const ratio = on / off;
    return [
      {
        scenario: 'schemas',
        case: 'ingest, validation off (batches of 100)',
        metric: 'throughput',
        value: off,
        unit: 'events/s',
      },
      {
        scenario: 'schemas',
        case: 'ingest, validation on (batches of 100)',
        metric: 'throughput',
        value: on,
        unit: 'events/s',
        ceiling: off,
        ratio,
        goal: '>= 0.90× of off',
        pass: ratio >= 0.9,
      },
      {
        scenario: 'schemas',
        case: 'validation alone (no store)',
        metric: 'time per event',
        value: 1e6 / validateRate,
        unit: 'µs',
      },
      {
        scenario: 'schemas',
        case: 'validation alone ÷ ingest time per event',
        metric: 'implied cost',
        value: implied * 100,
        unit: '%',
      },
      {
        scenario: 'schemas',
        case: 'validator alone, patterns on RE2 vs V8 RegExp',
        metric: 'time per event',
        value: re2,
        unit: 'µs',
        ceiling: v8,
        ratio: re2 / v8,
      },
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const scenario: Scenario = {
  name: 'schemas',
  run: (ctx) =>
    measure({ dataDir: ctx.tempDir('rivulet-bench-schemas'), log: (line) => process.stderr.write(`  ${line}\n`) }),
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const events = process.argv[2] ? Number(process.argv[2]) : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'rivulet-bench-schemas-'));
  const rows = await measure({ dataDir, events, log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
}
