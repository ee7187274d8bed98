/**
 * Durable Streams: Rivulet's /ds mount (SQLite, strict durability, built server) side by side
 * with the protocol's reference server (@durable-streams/server, file-backed), both as their
 * own processes, driven alike over HTTP. Cases: single-message appends (50 connections),
 * batched appends (100 JSON messages a request, 50 connections), catch-up reads of a
 * 10,000-message stream (warm: a stream other readers caught up on before; cold: each stream's
 * first reader), and append → live long-poll reader latency (one writer, one reader, one
 * message at a time).
 * After the batched appends each server's stream is left to settle (the load ends with
 * requests in flight) before the reads. Rounds alternate between the servers; the median
 * round of each is reported, with the ratio Rivulet ÷ reference (for latency, reference ÷
 * Rivulet). Goals: appends ≥ 10×, the rest ≥ 2×. The latency case also measures a server that
 * does no work (bench/ds-latency-floor.mjs): the driver's and the loopback's own cost, which
 * bounds what any server's ratio can be.
 *
 * Knobs: BENCH_DS_ROUNDS (5), BENCH_DS_CASES (comma-separated: single, batched, warm, cold,
 * latency; all by default), BENCH_DS_BASE=<another build's dist/cli/main.js> runs that build as
 * a third server in the same rounds (the change measured before and after, with each round's
 * this ÷ base ratio), BENCH_DS_PROF=<dir> writes CPU profiles of Rivulet's threads there.
 */
import { fileURLToPath } from 'node:url';
import type { Row, Scenario } from '../context.js';

const ROUNDS = Number(process.env.BENCH_DS_ROUNDS ?? 5);
const CASES = new Set(
  (process.env.BENCH_DS_CASES ?? 'single,batched,warm,cold,latency').split(',').map((c) => c.trim()),
);
const BASE = process.env.BENCH_DS_BASE;
const PROF = process.env.BENCH_DS_PROF;
const REFERENCE = fileURLToPath(new URL('../ds-reference-server.mjs', import.meta.url));
const FLOOR = fileURLToPath(new URL('../ds-latency-floor.mjs', import.meta.url));

interface Target {
  name: 'rivulet' | 'reference' | 'base' | 'floor';
  /** the base URL streams live under */
  base: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function put(url: string, contentType: string, body?: string): Promise<void> {
  const res = await fetch(url, { method: 'PUT', headers: { 'content-type': contentType }, body });
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${url}: ${res.status} ${await res.text()}`);
}

/** reads a stream from the start to the tail; parses the messages only when asked to count them */
async function catchUp(url: string, count = false): Promise<number> {
  let offset = '-1';
  let messages = 0;
  for (;;) {
    const res = await fetch(`${url}?offset=${encodeURIComponent(offset)}`);
    // the driver does not parse what it measures: JSON parsing here would bound both servers alike
    if (count) messages += ((await res.json()) as unknown[]).length;
    else await res.arrayBuffer();
    offset = res.headers.get('stream-next-offset')!;
    if (res.headers.get('stream-up-to-date') === 'true') return messages;
  }
}

/** resolves once the stream's tail has stayed where it is for 200 ms: the appends a load left in flight are written */
async function settled(url: string): Promise<void> {
  let last: string | null = null;
  for (;;) {
    const res = await fetch(url, { method: 'HEAD' });
    const tail = res.headers.get('stream-next-offset');
    if (tail === last) return;
    last = tail;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** one writer, one long-poll reader: milliseconds from sending each append to the reader having it */
async function latencies(url: string, count: number): Promise<number[]> {
  const tail = await fetch(`${url}?offset=now`);
  await tail.arrayBuffer();
  let offset = tail.headers.get('stream-next-offset')!;
  const sentAt: number[] = [];
  const out: number[] = [];
  let received = 0;
  const reader = (async () => {
    while (received < count) {
      const res = await fetch(`${url}?offset=${encodeURIComponent(offset)}&live=long-poll`);
      if (res.status === 204) {
        offset = res.headers.get('stream-next-offset') ?? offset;
        continue;
      }
      const items = (await res.json()) as { n: number }[];
      const now = performance.now();
      for (const item of items) out.push(now - sentAt[item.n]!);
      received += items.length;
      offset = res.headers.get('stream-next-offset')!;
    }
  })();
  for (let n = 0; n < count; n++) {
    // the next append waits until the reader has the last one: each is measured alone
    while (received < n) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 2));
    sentAt[n] = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n }),
    });
    await res.arrayBuffer();
  }
  await reader;
  return out;
}

export const scenario: Scenario = {
  name: 'durable-streams',
  async run(ctx) {
    const args = ['--durable-streams-anonymous', '--max-event-loop-delay', '0', '--max-inflight-produce', '0'];
    const nodeArgs = PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF] : undefined;
    const rivulet = await ctx.startRivulet({ args, nodeArgs });
    const reference = await ctx.startCeiling(REFERENCE, [ctx.tempDir('ds-reference')]);
    // the latency case's floor: a server that does nothing (bench/ds-latency-floor.mjs)
    const floor = CASES.has('latency') ? await ctx.startCeiling(FLOOR) : null;
    const targets: Target[] = [
      { name: 'rivulet', base: `${rivulet.url}/ds/bench` },
      { name: 'reference', base: `${reference.url}/bench` },
    ];
    if (BASE) targets.push({ name: 'base', base: `${(await ctx.startRivulet({ args, main: BASE })).url}/ds/bench` });
    const results: Record<string, Record<Target['name'], number[]>> = {};
    const record = (key: string, target: Target['name'], value: number) => {
      results[key] ??= { rivulet: [], reference: [], base: [], floor: [] };
      results[key]![target].push(value);
    };
    try {
      for (const t of targets) {
        await put(`${t.base}/single`, 'application/octet-stream');
        await put(`${t.base}/batched`, 'application/json');
        const batch = JSON.stringify(
          Array.from({ length: 100 }, (_, i) => ({ order: i, item: 'widget', qty: 1 + (i % 5) })),
        );
        for (const name of ['history', ...Array.from({ length: ROUNDS }, (_, r) => `cold-${r}`)]) {
          await put(`${t.base}/${name}`, 'application/json');
          for (let i = 0; i < 100; i++) {
            const res = await fetch(`${t.base}/${name}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: batch,
            });
            await res.arrayBuffer();
          }
        }
      }
      for (const t of targets) {
        const n = await catchUp(`${t.base}/history`, true);
        if (n !== 10_000) throw new Error(`${t.name} history holds ${n} messages, not 10,000`);
      }
      const single = 'x'.repeat(100);
      const batched = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ order: i, item: 'widget' })));
      for (let round = 0; round < ROUNDS; round++) {
        // each target leads one round in turn, and the order flips every other round
        const turned = [...targets.slice(round % targets.length), ...targets.slice(0, round % targets.length)];
        const order = Math.floor(round / targets.length) % 2 === 0 ? turned : turned.reverse();
        for (const t of order) {
          if (CASES.has('single')) {
            const one = await ctx.load({
              url: `${t.base}/single`,
              headers: { 'content-type': 'application/octet-stream' },
              body: single,
              connections: 50,
              durationS: 3,
            });
            if (one.failed > 0) throw new Error(`${t.name} single appends: ${JSON.stringify(one.statuses)}`);
            record('single-message appends', t.name, one.requestsPerS);
          }
          if (CASES.has('batched')) {
            const many = await ctx.load({
              url: `${t.base}/batched`,
              headers: { 'content-type': 'application/json' },
              body: batched,
              connections: 50,
              durationS: 3,
            });
            if (many.failed > 0) throw new Error(`${t.name} batched appends: ${JSON.stringify(many.statuses)}`);
            record('batched appends (100 messages)', t.name, many.requestsPerS * 100);
            // the load ends with up to 50 batches still being written: the reads below measure reads
            await settled(`${t.base}/batched`);
          }
          if (CASES.has('warm')) {
            const started = performance.now();
            for (let i = 0; i < 3; i++) await catchUp(`${t.base}/history`);
            record('catch-up reads, warm (10,000 messages)', t.name, 30_000 / ((performance.now() - started) / 1000));
          }
          if (CASES.has('cold')) {
            const coldStarted = performance.now();
            await catchUp(`${t.base}/cold-${round}`);
            record(
              'catch-up reads, cold (10,000 messages)',
              t.name,
              10_000 / ((performance.now() - coldStarted) / 1000),
            );
          }
          if (CASES.has('latency')) {
            await put(`${t.base}/live-${round}`, 'application/json');
            record('append → live reader p50', t.name, median(await latencies(`${t.base}/live-${round}`, 200)));
          }
        }
        if (floor) {
          await put(`${floor.url}/bench/live-${round}`, 'application/json');
          record('append → live reader p50', 'floor', median(await latencies(`${floor.url}/bench/live-${round}`, 200)));
        }
      }
    } finally {
      await reference.close();
      await floor?.close();
    }
    const rows: Row[] = [];
    for (const [name, r] of Object.entries(results)) {
      const riv = median(r.rivulet);
      const ref = median(r.reference);
      const latency = name.includes('p50');
      const ratio = latency ? ref / riv : riv / ref;
      const goal = name.includes('appends') ? 10 : 2;
      rows.push({
        scenario: 'durable-streams',
        case: name,
        metric: latency ? 'median latency' : 'throughput',
        value: riv,
        unit: latency ? 'ms' : 'messages/s',
        ceiling: ref,
        ratio,
        goal: `≥ ${goal}× reference`,
        pass: ratio >= goal,
      });
      if (r.floor.length > 0) {
        // no server answers faster than one that does nothing: the best ratio this driver can show
        const least = median(r.floor);
        rows.push({
          scenario: 'durable-streams',
          case: `${name}, a server doing no work (floor)`,
          metric: 'median latency',
          value: least,
          unit: 'ms',
          ceiling: ref,
          ratio: ref / least,
        });
      }
      if (r.base.length > 0) {
        // the same case on the other build, and the median of each round's this ÷ base
        const base = median(r.base);
        const perRound = r.rivulet.map((v, i) => (latency ? r.base[i]! / v : v / r.base[i]!));
        rows.push({
          scenario: 'durable-streams',
          case: `${name} (base build)`,
          metric: latency ? 'median latency' : 'throughput',
          value: base,
          unit: latency ? 'ms' : 'messages/s',
          ceiling: ref,
          ratio: latency ? ref / base : base / ref,
        });
        rows.push({
          scenario: 'durable-streams',
          case: `${name}: this ÷ base build, median of rounds (${perRound.map((x) => x.toFixed(2)).join(', ')})`,
          metric: 'ratio',
          value: median(perRound),
          unit: '×',
        });
      }
    }
    return rows;
  },
};
