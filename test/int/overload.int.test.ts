/**
 * Overload protection over real HTTP: too many produce requests in flight, a stalled event
 * loop and per-key rate limits each get refused at once (503 OVERLOADED / 429 RATE_LIMITED,
 * with Retry-After), nothing refused is written, and the server serves again once the
 * pressure is gone.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { buildTestApp, type TestApp, type TestAppOptions } from '../support/test-app.js';

interface Served {
  t: TestApp;
  pool: Pool;
  send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
}

async function withServer(options: TestAppOptions, body: (s: Served) => Promise<void>): Promise<void> {
  const t = await buildTestApp(options);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address() as { port: number };
  const pool = new Pool(`http://127.0.0.1:${address.port}`, { connections: 64, pipelining: 1 });
  const send: Served['send'] = async (method, path, headers, payload) => {
    const res = await pool.request({
      method: method as 'GET',
      path,
      headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  };
  try {
    await body({ t, pool, send });
  } finally {
    await pool.close();
    await t.close();
  }
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the point is to stall the event loop
  }
}

async function servedWithin(send: Served['send'], headers: Record<string, string>): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    const res = await send('GET', '/v1/streams', headers);
    if (res.status === 200) return true;
    assert.equal(res.status, 503);
    await sleep(20);
  }
  return false;
}

describe('admission control', () => {
  it('refuses produce requests beyond maxInflightProduce with 503 OVERLOADED and recovers', () =>
    withServer(
      { protection: { admission: { maxInflightProduce: 2, maxEventLoopDelayMs: 0 } } },
      async ({ t, send }) => {
        assert.equal((await send('POST', '/v1/streams', t.admin, { name: 'orders' })).status, 201);
        const answers = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            send('POST', '/v1/streams/orders/events', t.admin, { type: 't', id: `e${i}` }),
          ),
        );
        const created = answers.filter((a) => a.status === 201);
        const refused = answers.filter((a) => a.status === 503);
        assert.equal(
          created.length + refused.length,
          40,
          `unexpected statuses ${answers.map((a) => a.status).join(',')}`,
        );
        assert.ok(refused.length > 0, 'some requests were refused');
        assert.ok(created.length > 0, 'some requests were served');
        for (const r of refused) {
          assert.equal(r.headers['retry-after'], '1');
          const problem = JSON.parse(r.body) as { code: string; detail: string };
          assert.equal(problem.code, 'OVERLOADED');
          assert.match(problem.detail, /in flight/);
        }
        // nothing refused was written; everything acknowledged was
        const stream = JSON.parse((await send('GET', '/v1/streams/orders', t.admin)).body) as {
          stats: { count: number };
        };
        assert.equal(stream.stats.count, created.length);
        // recovered: sequential writes all pass
        for (let i = 0; i < 5; i++)
          assert.equal((await send('POST', '/v1/streams/orders/events', t.admin, { type: 't' })).status, 201);
        const metrics = (await send('GET', '/metrics', t.admin)).body;
        assert.match(
          metrics,
          new RegExp(`rivulet_requests_shed_total\\{reason="inflight_produce"\\} ${refused.length}`),
        );
        assert.match(metrics, /rivulet_produce_inflight 0/);
      },
    ));

  it('refuses requests while the event loop is stalled, keeps health and metrics open, and recovers', () =>
    withServer(
      { protection: { admission: { maxInflightProduce: 0, maxEventLoopDelayMs: 200, eventLoopWindowMs: 50 } } },
      async ({ t, send }) => {
        // a machine busy with other work may delay the loop by itself: start from a served request
        assert.ok(await servedWithin(send, t.admin), 'served before the stall');
        busyWait(600);
        let refused: Awaited<ReturnType<Served['send']>> | undefined;
        for (let i = 0; i < 10 && !refused; i++) {
          const res = await send('GET', '/v1/streams', t.admin);
          if (res.status === 503) refused = res;
          else assert.equal(res.status, 200);
          if (!refused) await sleep(5);
        }
        assert.ok(refused, 'a request was refused while the loop was stalled');
        assert.equal(refused.headers['retry-after'], '1');
        assert.equal((JSON.parse(refused.body) as { code: string }).code, 'OVERLOADED');
        // the iFLUX dialect answers the same refusal in its own format
        busyWait(600);
        let iflux: Awaited<ReturnType<Served['send']>> | undefined;
        for (let i = 0; i < 10 && !iflux; i++) {
          const res = await send('POST', '/events', t.admin, [
            { timestamp: new Date().toISOString(), source: 's', type: 't', properties: {} },
          ]);
          if (res.status === 503) iflux = res;
          if (!iflux) await sleep(5);
        }
        assert.ok(iflux, 'the iFLUX route was refused too');
        assert.match((JSON.parse(iflux.body) as { error: string }).error, /overloaded/);
        assert.equal(iflux.headers['retry-after'], '1');
        busyWait(600);
        assert.equal((await send('GET', '/healthz', {})).status, 200, 'health is never shed');
        assert.ok(await servedWithin(send, t.admin), 'the server serves again once the loop is free');
      },
    ));
});

describe('per-key rate limits', () => {
  // the buckets' clock is the test's own: on a busy machine real time would refill them mid-test
  let nowMs = 0;
  it('gives each key its own bucket: 429 RATE_LIMITED with Retry-After beyond it, then serves again', () =>
    withServer({ protection: { rateLimit: { perSecond: 20, burst: 3, now: () => nowMs } } }, async ({ t, send }) => {
      const a = await t.keyWith(['consume:*'], 'a');
      const b = await t.keyWith(['consume:*'], 'b');
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push(await send('GET', '/v1/streams', a));
      const limited = statuses.filter((s) => s.status === 429);
      assert.ok(
        statuses.slice(0, 3).every((s) => s.status === 200),
        statuses.map((s) => s.status).join(','),
      );
      assert.ok(limited.length >= 2, `expected 429s, got ${statuses.map((s) => s.status).join(',')}`);
      const problem = JSON.parse(limited[0]!.body) as { code: string; limit: number; burst: number };
      assert.equal(problem.code, 'RATE_LIMITED');
      assert.equal(problem.limit, 20);
      assert.equal(problem.burst, 3);
      assert.equal(limited[0]!.headers['retry-after'], '1');
      assert.equal((await send('GET', '/v1/streams', b)).status, 200, 'another key has its own bucket');
      // the event server dialect carries the limit in its own format, with Retry-After
      const basic = { authorization: `Basic ${Buffer.from(`u:${a.authorization!.slice(7)}`).toString('base64')}` };
      const dialect = await send('GET', '/api/v1/streams/orders/events', basic);
      assert.equal(dialect.headers['retry-after'], '1');
      assert.match(dialect.body, /requests per second/);
      nowMs += 200;
      assert.equal((await send('GET', '/v1/streams', a)).status, 200, 'the bucket refilled');
      assert.equal((await send('GET', '/healthz', {})).status, 200);
      // an unauthenticated request is refused for its credentials, never counted against a key
      assert.equal((await send('GET', '/v1/streams', {})).status, 401);
    }));
});
