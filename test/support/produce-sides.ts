/**
 * Two apps side by side for comparing the produce lane with fastify's produce route: one with
 * the lane, one without (each on its own SQLite store), both listening on real sockets with a
 * JSON logger, metrics and a tracing hook whose spans are kept. `send` answers what a request
 * got on a side: status, the headers that carry meaning, body, log lines and spans, with
 * generated ids and timings masked so both sides compare equal.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Pool } from 'undici';
import { RivuletMetrics } from '../../src/observability/metrics.js';
import type { RequestSpanHook } from '../../src/observability/trace-context.js';
import { buildTestApp, type TestApp, type TestAppOptions } from './test-app.js';

export interface Sent {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
  logs: string[];
  /** what the tracing hook saw of the request */
  spans: Record<string, unknown>[];
}

export interface Side {
  t: TestApp;
  pool: Pool;
  metrics: RivuletMetrics;
  lines: Record<string, unknown>[];
  spans: Record<string, unknown>[];
  scoped: Record<string, string>;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
export const COMPARED_HEADERS = [
  'content-type',
  'idempotent-replayed',
  'retry-after',
  'www-authenticate',
  'connection',
  'vary',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
];

export async function openSide(options: TestAppOptions): Promise<Side> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const metrics = new RivuletMetrics({ process: false });
  const spans: Record<string, unknown>[] = [];
  const onRequestSpan: RequestSpanHook = (start) => (end) =>
    spans.push({ requestId: start.requestId, method: start.method, path: start.path, ...end, durationMs: 'masked' });
  const t = await buildTestApp({
    ...options,
    maxBatchEvents: 5,
    limits: { maxJsonDepth: 8 },
    logger: pino({ level: 'info' }, sink),
    observability: { metrics, onRequestSpan },
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as { port: number };
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 });
  await t.services.streams.create({ name: 'plain' }, 'admin');
  await t.services.streams.create({ name: 'solo', exclusiveProducer: true }, 'admin');
  const scoped = await t.keyWith(['produce:other-*']);
  // a key is taken by the lane once the key cache knows it: one request each first
  for (const headers of [t.admin, scoped]) await pool.request({ method: 'GET', path: '/v1/streams', headers });
  return { t, pool, metrics, lines, spans, scoped };
}

export async function send(
  side: Side,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer,
): Promise<Sent> {
  // the lane takes keys seen in the last few seconds; on a busy machine building an app takes
  // longer than that, so the key is looked up first (as a recent request of its would have)
  const bearer = /^Bearer (.+)$/.exec(typeof headers.authorization === 'string' ? headers.authorization : '');
  if (bearer) await side.t.services.keys.authenticate(bearer[1]!);
  const before = side.lines.length;
  const res = await side.pool.request({ method: 'POST', path, headers, body });
  const text = await res.body.text();
  // the completion line is written as the answer finishes; let it land
  await new Promise((r) => setImmediate(r));
  const picked: Record<string, string | undefined> = {};
  for (const name of COMPARED_HEADERS) picked[name] = res.headers[name] as string | undefined;
  assert.ok(res.headers['x-request-id'], 'every answer names its request');
  const logs = side.lines
    .slice(before)
    .filter((l) => l.reqId === res.headers['x-request-id'])
    .map((l) => {
      const shown = { ...l } as Record<string, unknown>;
      for (const k of ['time', 'pid', 'hostname', 'reqId', 'trace_id', 'span_id', 'responseTime']) delete shown[k];
      // a stack trace names the code that threw, which differs between the lane and the route
      if (shown.err) shown.err = { ...(shown.err as object), stack: 'masked' };
      if (shown.req)
        shown.req = {
          ...(shown.req as object),
          remotePort: 'masked',
          host: String((shown.req as { host: string }).host).replace(/:\d+$/, ':port'),
        };
      return JSON.stringify(shown).replace(UUID, '<uuid>');
    });
  const spans = side.spans
    .filter((span) => span.requestId === res.headers['x-request-id'])
    .map((span) => ({ ...span, requestId: 'masked' }));
  return { status: res.statusCode, headers: picked, body: text.replace(UUID, '<uuid>'), logs, spans };
}

export async function withSides(
  options: TestAppOptions,
  body: (laned: Side, plain: Side) => Promise<void>,
): Promise<void> {
  const laned = await openSide(options);
  const plain = await openSide({ ...options, produceLane: false });
  try {
    await body(laned, plain);
  } finally {
    for (const side of [laned, plain]) {
      await side.pool.close();
      await side.t.close();
    }
  }
}

/** requests the lane answered on a side so far */
export const laneCount = async (side: Side) => (await side.metrics.produceLane.get()).values[0]?.value ?? 0;
