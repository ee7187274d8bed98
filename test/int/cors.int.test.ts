/**
 * Cross-origin access over real HTTP: preflights on native routes, live subscriptions, every
 * dialect and the produce lane; the headers on actual answers (fastify's and the lane's alike,
 * successes and refusals); origins not listed get none; off by default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp, type TestApp, type TestAppOptions } from '../support/test-app.js';

const ORIGIN = 'https://app.example.com';

async function listening(options: TestAppOptions): Promise<TestApp & { base: string }> {
  const t = await buildTestApp(options);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(t, { base: `http://127.0.0.1:${port}` });
}

async function preflight(base: string, path: string, method: string, origin = ORIGIN): Promise<Response> {
  const res = await fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, content-type',
    },
  });
  await res.body?.cancel();
  return res;
}

/** a path of every surface: native, live, each dialect */
const PREFLIGHTS: [string, string][] = [
  ['/v1/streams', 'POST'],
  ['/v1/streams/orders/events', 'POST'],
  ['/v1/streams/orders/live', 'GET'],
  ['/v1/live-tokens', 'POST'],
  ['/v1/sinks/s1', 'DELETE'],
  ['/api/v1/streams/orders/consumers', 'POST'],
  ['/events', 'POST'],
  ['/source/alice/shop/1', 'PUT'],
  ['/jobs/alice', 'GET'],
  ['/streams/orders/1/events', 'POST'],
  ['/ds/orders', 'PUT'],
  ['/no/such/route', 'PATCH'],
];

describe('CORS', () => {
  it('answers preflights on every surface, listed origins only, and adds the headers to actual answers on both produce paths', async () => {
    const t = await listening({ cors: { origins: [ORIGIN, 'http://localhost:5173'] } });
    try {
      for (const [path, method] of PREFLIGHTS) {
        const res = await preflight(t.base, path, method);
        assert.equal(res.status, 204, `${method} ${path}`);
        // the Durable Streams mount answers as its protocol says: any origin
        assert.equal(res.headers.get('access-control-allow-origin'), path.startsWith('/ds/') ? '*' : ORIGIN, path);
        assert.match(res.headers.get('access-control-allow-methods') ?? '', new RegExp(method), path);
        assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/i, path);
        assert.ok(Number(res.headers.get('access-control-max-age')) > 0, path);
        if (!path.startsWith('/ds/')) assert.equal(res.headers.get('access-control-allow-credentials'), 'true', path);
      }
      // an origin not listed gets no grant
      const stranger = await preflight(t.base, '/v1/streams', 'POST', 'https://evil.example');
      assert.equal(stranger.headers.get('access-control-allow-origin'), null);

      const created = await fetch(`${t.base}/v1/streams`, {
        method: 'POST',
        headers: { ...t.admin, origin: ORIGIN, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'orders' }),
      });
      assert.equal(created.status, 201);
      assert.equal(created.headers.get('access-control-allow-origin'), ORIGIN);
      assert.match(created.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
      assert.match(created.headers.get('vary') ?? '', /origin/i);

      // the same produce request through the lane (a key already seen) and through fastify (a query string)
      const answers = [];
      for (const url of ['/v1/streams/orders/events', '/v1/streams/orders/events?x=1']) {
        const res = await fetch(`${t.base}${url}`, {
          method: 'POST',
          headers: { ...t.admin, origin: ORIGIN, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 't', data: 1 }),
        });
        assert.ok(res.status === 201 || res.status === 400, `${url}: ${res.status}`);
        answers.push(res);
        await res.body?.cancel();
      }
      const lanes = (await (await fetch(`${t.base}/metrics`, { headers: t.admin })).text()).match(
        /rivulet_produce_lane_requests_total (\d+)/,
      );
      assert.ok(lanes && Number(lanes[1]) >= 1, 'the lane answered one of them');
      for (const res of answers) {
        assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
        assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
        assert.match(res.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
      }

      // refusals carry the headers too, or a page could not read why it was refused
      const refused = await fetch(`${t.base}/v1/streams/orders/events`, { headers: { origin: ORIGIN } });
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('access-control-allow-origin'), ORIGIN);
      await refused.body?.cancel();

      // a live subscription's answer (the SSE response is written outside fastify's reply)
      const controller = new AbortController();
      const live = await fetch(`${t.base}/v1/streams/orders/live?after=0`, {
        headers: { ...t.admin, origin: ORIGIN, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      assert.equal(live.status, 200);
      assert.equal(live.headers.get('access-control-allow-origin'), ORIGIN);
      assert.equal(live.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      controller.abort();
    } finally {
      await t.close();
    }
  });

  it('* grants any origin by naming it (credentials allowed); off by default, a preflight is not answered', async () => {
    const any = await listening({ cors: { origins: ['*'] } });
    try {
      const res = await preflight(any.base, '/v1/streams', 'GET', 'https://anywhere.example');
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://anywhere.example');
      const got = await fetch(`${any.base}/v1/streams/orders/events`, {
        method: 'POST',
        headers: { ...any.admin, origin: 'https://anywhere.example', 'content-type': 'application/json' },
        body: '{"type":"t","data":1}',
      });
      assert.equal(got.headers.get('access-control-allow-origin'), 'https://anywhere.example');
      await got.body?.cancel();
    } finally {
      await any.close();
    }
    const off = await listening({});
    try {
      const res = await preflight(off.base, '/v1/streams', 'POST');
      assert.notEqual(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      const got = await fetch(`${off.base}/v1/streams`, { headers: { ...off.admin, origin: ORIGIN } });
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('access-control-allow-origin'), null);
      await got.body?.cancel();
    } finally {
      await off.close();
    }
  });
});
