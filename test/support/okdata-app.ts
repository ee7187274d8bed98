/**
 * The okdata dialect's test app: the real app over a real SQLite store, listening on a free
 * port, with the delivery engine running (the processing step and okdata sinks are real
 * sinks), and clients for it: the real curl binary for the seed's commands, fetch for the rest.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { OkdataSinkOptions } from '../../src/dialects/okdata/okdata-sinks.js';
import type { SinkEngine } from '../../src/delivery/engine/sink-engine.js';
import { buildDeliveryApp, until } from './delivery-app.js';
import type { TestApp } from './test-app.js';

export { until };

const run = promisify(execFile);

export interface Listening extends TestApp {
  base: string;
  /** the delivery engine: started unless the options said otherwise */
  engine: SinkEngine;
}

export interface OkdataAppOptions {
  /** where okdata sinks deliver, and their policies */
  okdata?: Partial<OkdataSinkOptions>;
  /** false: the engine is built but not started (nothing is delivered until the test starts it) */
  engine?: boolean;
}

/** quick retries and short buffering, so tests do not wait */
export const FAST_POLICY = {
  retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50, multiplier: 2, jitter: 'none' as const },
};

export async function listening(options: OkdataAppOptions = {}): Promise<Listening> {
  const { t, engine } = await buildDeliveryApp({
    dialects: {
      okdata: {
        targets: options.okdata?.targets ?? {},
        policies: { processing: FAST_POLICY, ...options.okdata?.policies },
      },
    },
    startEngine: options.engine !== false,
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const close = t.close.bind(t);
  return Object.assign(t, {
    base: `http://127.0.0.1:${port}`,
    engine,
    async close() {
      await engine.close();
      await close();
    },
  });
}

export async function withApp(body: (t: Listening) => Promise<void>, options: OkdataAppOptions = {}): Promise<void> {
  const t = await listening(options);
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

/** runs a seed curl command through a shell with $TOKEN set, host swapped for the test server's */
export async function curl(
  t: Listening,
  command: string,
  token = t.adminKey,
): Promise<{ status: number; body: unknown }> {
  const line = command.replaceAll('http://127.0.0.1:8080', t.base);
  const { stdout } = await run('sh', ['-c', `${line} -s -w '\\n%{http_code}'`], {
    env: { ...process.env, TOKEN: token },
  });
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  return { status: Number(stdout.slice(cut + 1)), body: text === '' ? undefined : JSON.parse(text) };
}

export type Call = { status: number; body: unknown };

export async function call(
  t: Listening,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Call> {
  const headers: Record<string, string> = { ...(options.headers ?? t.admin) };
  let payload: string | undefined;
  if (options.raw !== undefined || options.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = options.raw ?? JSON.stringify(options.body);
  }
  const res = await fetch(`${t.base}${path}`, { method, headers, body: payload });
  const text = await res.text();
  if (res.status !== 204)
    assert.match(
      String(res.headers.get('content-type')),
      /application\/(json|problem\+json)/,
      `${method} ${path}: ${text}`,
    );
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

export function expect(res: Call, status: number, body?: unknown): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  if (body !== undefined) assert.deepEqual(res.body, body);
}

/** waits until GET `path` answers a body whose status is `status` */
export async function statusBecomes(t: Listening, path: string, status: string): Promise<Record<string, unknown>> {
  let last: unknown;
  try {
    return await until(`${path} to be ${status}`, async () => {
      const res = await call(t, 'GET', path);
      last = res.body;
      const body = res.body as Record<string, unknown>;
      return res.status === 200 && body.status === status ? body : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last answer ${JSON.stringify(last)}`);
  }
}
