/**
 * One leased consumer shared by 1 and by 3 processes on one nats-server: receive + ack
 * throughput, each process an OS process of its own with one store and 4 receive (max 50) +
 * ack loops, in interleaved rounds. Answers the median over rounds of events/s at N = 1 and
 * N = 3 and the ratio N = 3 ÷ N = 1. On a shared 2-vCPU machine three processes compete for
 * the same cores, so the ratio shows contention (lost compare-and-sets, retries), not what
 * separate machines would add: bench/scenarios/scale.bench.ts simulates those.
 *
 * Run: node --import tsx bench/shared-consumer.ts [rounds] [seconds]
 * `BENCH_COMPARE_SRC=<dir>` also runs, interleaved, the nats store of another source tree
 * (a copy of `src/` from another revision), to compare two versions side by side.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Store } from '../src/store/port.js';
import { startNatsServer } from '../test/support/nats-server.js';

const LOOPS = 4;
const MAX = 50;
const BACKLOG = 40_000;

type StoreModule = { NatsStore: new (o: { servers: string[]; prefix: string; replicas: number }) => Store };

async function storeModule(srcDir: string): Promise<StoreModule> {
  return (await import(pathToFileURL(resolve(srcDir, 'store/nats/nats-store.ts')).href)) as StoreModule;
}

async function open(srcDir: string, servers: string, prefix: string): Promise<Store> {
  const { NatsStore } = await storeModule(srcDir);
  const store = new NatsStore({ servers: servers.split(','), prefix, replicas: 1 });
  await store.open();
  return store;
}

/** one process: opens its store, says so, then runs its loops from "go <untilMs>" on stdin to then */
async function worker(): Promise<void> {
  const [srcDir, servers, prefix, consumer] = process.argv.slice(3);
  const store = await open(srcDir!, servers!, prefix!);
  // counts the consumers bucket's compare-and-set writes and those lost to another writer
  // (a bench's look inside: the store keeps no such count)
  const bucket = (
    store as unknown as { consumerStore: { bucket: { update: (...a: unknown[]) => Promise<number | null> } } }
  ).consumerStore.bucket;
  const update = bucket.update.bind(bucket);
  let writes = 0;
  let lost = 0;
  bucket.update = async (...a: unknown[]) => {
    const revision = await update(...a);
    writes++;
    if (revision === null) lost++;
    return revision;
  };
  process.stdout.write('ready\n');
  const untilMs = await new Promise<number>((resolveGo) => {
    process.stdin.once('data', (d: Buffer) => resolveGo(Number(d.toString().trim().split(' ')[1])));
  });
  let acked = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: LOOPS }, async () => {
      while (Date.now() < untilMs) {
        try {
          const got = await store.consumers.receive('work', consumer!, {
            max: MAX,
            leaseMs: 60_000,
            clientId: null,
            nowMs: Date.now(),
          });
          if (got.deliveries.length === 0) break;
          const outcomes = await store.consumers.ack(
            'work',
            consumer!,
            got.deliveries.map((d) => d.leaseToken),
            Date.now(),
          );
          acked += outcomes.filter((o) => o === 'ok').length;
        } catch {
          failures++;
        }
      }
    }),
  );
  process.stdout.write(JSON.stringify({ acked, failures, writes, lost }) + '\n');
  process.stdin.destroy();
  await store.close();
}

interface WorkerResult {
  acked: number;
  failures: number;
  writes: number;
  lost: number;
}

interface Worker {
  ready: Promise<void>;
  go(untilMs: number): void;
  done: Promise<WorkerResult>;
}

function startWorker(args: string[]): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, 'worker', ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) markReady();
  });
  const done = new Promise<WorkerResult>((resolveRun, reject) => {
    child.on('exit', (code) =>
      code === 0
        ? resolveRun(JSON.parse(out.trim().split('\n').at(-1)!))
        : reject(new Error(`worker exited with ${code}`)),
    );
  });
  return { ready, done, go: (untilMs) => child.stdin!.write(`go ${untilMs}\n`) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const seconds = Number(process.argv[3] ?? 5);
  const variants: [string, string][] = [['this', resolve('src')]];
  if (process.env.BENCH_COMPARE_SRC) variants.push(['compared', resolve(process.env.BENCH_COMPARE_SRC)]);
  const nats = await startNatsServer();
  const results = new Map<string, number[]>();
  const lostShare = new Map<string, number[]>();
  try {
    for (const [variant, srcDir] of variants) {
      const prefix = `b${variant}`;
      const store = await open(srcDir, nats.servers, prefix);
      const now = new Date().toISOString();
      await store.streams.create({
        name: 'work',
        owner: 'bench',
        description: '',
        retention: {},
        exclusiveProducer: false,
        options: {},
        createdAt: now,
        updatedAt: now,
      });
      for (let i = 0; i < BACKLOG; i += 500) {
        await store.events.append({
          stream: 'work',
          producer: null,
          events: Array.from({ length: 500 }, (_, k) => ({
            id: `e${i + k}`,
            idSupplied: false,
            type: 't',
            source: '/bench',
            time: now,
            producer: null,
            data: { n: i + k, note: 'x'.repeat(200) },
            meta: {},
          })),
        });
      }
      await store.close();
    }
    for (let round = 0; round < rounds; round++) {
      for (const n of [1, 3]) {
        for (const [variant, srcDir] of variants) {
          const prefix = `b${variant}`;
          const consumer = `r${round}n${n}`;
          const store = await open(srcDir, nats.servers, prefix);
          await store.consumers.create(
            { stream: 'work', name: consumer, types: [], leaseMs: 60_000, maxDeliveries: 5, deadLetterStream: null },
            { from: 'beginning' },
            Date.now(),
          );
          await store.close();
          // every process opens its store first, then all start together
          const workers = Array.from({ length: n }, () => startWorker([srcDir, nats.servers, prefix, consumer]));
          await Promise.all(workers.map((w) => w.ready));
          const untilMs = Date.now() + seconds * 1000;
          for (const w of workers) w.go(untilMs);
          const got = await Promise.all(workers.map((w) => w.done));
          const acked = got.reduce((s, g) => s + g.acked, 0);
          const failures = got.reduce((s, g) => s + g.failures, 0);
          const lost = got.reduce((s, g) => s + g.lost, 0);
          const writes = got.reduce((s, g) => s + g.writes, 0);
          const rate = acked / seconds;
          if (acked >= BACKLOG) console.log('  (the backlog ran out: the rate is a lower bound)');
          results.set(`${variant} n${n}`, [...(results.get(`${variant} n${n}`) ?? []), rate]);
          lostShare.set(`${variant} n${n}`, [...(lostShare.get(`${variant} n${n}`) ?? []), writes ? lost / writes : 0]);
          console.log(
            `round ${round + 1} ${variant} N=${n}: ${Math.round(rate)} events/s, ${writes} compare-and-set writes, ${lost} lost${failures ? ` (${failures} failed calls)` : ''}`,
          );
        }
      }
    }
  } finally {
    await nats.close();
  }
  for (const [variant] of variants) {
    const one = median(results.get(`${variant} n1`)!);
    const three = median(results.get(`${variant} n3`)!);
    const lost = (n: number) => `${Math.round(median(lostShare.get(`${variant} n${n}`)!) * 100)} %`;
    console.log(
      `${variant}: N=1 ${Math.round(one)} events/s, N=3 ${Math.round(three)} events/s, ratio ${(three / one).toFixed(2)}× (medians of ${rounds} rounds); compare-and-sets lost ${lost(1)} at N=1, ${lost(3)} at N=3`,
    );
  }
}

if (process.argv[2] === 'worker') await worker();
else await main();
