/**
 * What a per-key rate limit costs a request: the server's own token-bucket hook (RateGate)
 * against @fastify/rate-limit, each on a minimal fastify app answering through inject(), in
 * interleaved rounds; medians in microseconds per request. Run:
 * `node --import tsx bench/rate-limit-cost.ts`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import rateLimitPlugin from '@fastify/rate-limit';
import { RateGate } from '../src/http/plugins/rate-limit.js';

const REQUESTS = 5_000;
const ROUNDS = 5;
const HEADERS = { authorization: 'Bearer k1' };

async function plain(): Promise<FastifyInstance> {
  const app = Fastify();
  app.get('/x', async () => ({ ok: true }));
  await app.ready();
  return app;
}

async function homeMade(): Promise<FastifyInstance> {
  const app = Fastify();
  const gate = new RateGate({ perSecond: 1_000_000_000 });
  app.addHook('onRequest', (req, _reply, done) => done(gate.admit(`key:${req.headers.authorization}`)));
  app.get('/x', async () => ({ ok: true }));
  await app.ready();
  return app;
}

async function library(): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(rateLimitPlugin, {
    max: 1_000_000_000,
    timeWindow: 1000,
    keyGenerator: (req) => `key:${req.headers.authorization}`,
  });
  app.get('/x', async () => ({ ok: true }));
  await app.ready();
  return app;
}

async function usPerRequest(app: FastifyInstance): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i++) await app.inject({ method: 'GET', url: '/x', headers: HEADERS });
  return ((performance.now() - started) * 1000) / REQUESTS;
}

const apps = { none: await plain(), 'RateGate hook': await homeMade(), '@fastify/rate-limit': await library() };
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(apps).map((k) => [k, []]));
for (const app of Object.values(apps)) await usPerRequest(app); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, app] of Object.entries(apps)) samples[name]!.push(await usPerRequest(app));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(samples.none!);
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  process.stdout.write(
    `${name.padEnd(22)} ${m.toFixed(2)} µs/request  (+${(m - base).toFixed(2)} µs over no limiter)\n`,
  );
}
for (const app of Object.values(apps)) await app.close();
