/**
 * Keys and credentials: a key cannot be made already expired, and a request carrying two
 * credentials (two Authorization headers, Basic and Bearer, Authorization and Auth-Token naming
 * different keys) is refused with 400 AMBIGUOUS_CREDENTIALS on every API, in its own format,
 * through fastify and through the produce lane over a real socket, and nothing is written.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pool, type Dispatcher } from 'undici';
import { buildTestApp } from '../support/test-app.js';

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

describe('keys and credentials', () => {
  it('refuses a key whose expiresAt lies in the past', async () => {
    const t = await buildTestApp();
    try {
      const past = await t.app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: t.admin,
        payload: { owner: 'alice', scopes: ['manage:alice.*'], expiresAt: '2020-01-01T00:00:00Z' },
      });
      assert.equal(past.statusCode, 400, past.body);
      assert.equal(past.json().code, 'VALIDATION_FAILED');
      assert.equal(past.json().pointer, '/expiresAt');
      const future = await t.app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: t.admin,
        payload: {
          owner: 'alice',
          scopes: ['manage:alice.*'],
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        },
      });
      assert.equal(future.statusCode, 201, future.body);
    } finally {
      await t.close();
    }
  });

  it('refuses two credentials in one request on every API, the produce lane included', async () => {
    const t = await buildTestApp({ dialects: { iflux: { stream: 'iflux', anonymous: false } } });
    let pool: Pool | undefined;
    try {
      await t.services.streams.create({ name: 'alice.orders' }, 'alice');
      const alice = (await t.keyWith(['manage:alice.*', 'manage:iflux', 'manage:okdata.*'], 'alice')).authorization!;
      const bob = (await t.keyWith(['manage:*'], 'bob')).authorization!;
      const aliceSecret = alice.slice('Bearer '.length);
      const bobSecret = bob.slice('Bearer '.length);
      const twoCredentials: [string, Record<string, string | string[]>][] = [
        ['two Authorization headers', { authorization: [alice, bob] }],
        ['the same key twice in Authorization', { authorization: [alice, alice] }],
        ['Basic and Bearer', { authorization: [basic('alice', aliceSecret), bob] }],
        ['Authorization and another Auth-Token', { authorization: alice, 'auth-token': bobSecret }],
        ['two Auth-Token headers', { 'auth-token': [aliceSecret, bobSecret] }],
      ];
      // one route of each API, with the answer format each speaks
      const routes: {
        api: string;
        method: 'GET' | 'POST';
        url: string;
        payload?: unknown;
        extra?: Record<string, string>;
        format: (body: string) => void;
      }[] = [
        {
          api: 'native',
          method: 'GET',
          url: '/v1/streams/alice.orders',
          format: (b) => assert.equal(JSON.parse(b).code, 'AMBIGUOUS_CREDENTIALS'),
        },
        {
          api: 'native produce',
          method: 'POST',
          url: '/v1/streams/alice.orders/events',
          payload: { type: 't', data: {} },
          format: (b) => assert.equal(JSON.parse(b).code, 'AMBIGUOUS_CREDENTIALS'),
        },
        {
          api: 'eventserver',
          method: 'GET',
          url: '/api/v1/streams/alice.orders/events?eventName=t&limit=10',
          extra: { 'x-consumer-id': '6f1c5a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b' },
          format: (b) => assert.match(JSON.parse(b) as string, /^Bad Request - .*more than one credential/),
        },
        {
          api: 'iflux',
          method: 'POST',
          url: '/events',
          payload: [],
          format: (b) => assert.match(b, /more than one credential/),
        },
        {
          api: 'okdata',
          method: 'GET',
          url: '/streams/aliceset/1',
          format: (b) => assert.match(JSON.parse(b).message as string, /more than one credential/),
        },
        {
          api: 'aether',
          method: 'GET',
          url: '/jobs/alice',
          format: (b) => assert.equal(JSON.parse(b).code, 'AMBIGUOUS_CREDENTIALS'),
        },
        {
          api: 'specstore',
          method: 'POST',
          url: '/source/upload',
          payload: { meta: { owner: 'alice', dataset: 'shop' } },
          format: (b) => assert.match(JSON.stringify(JSON.parse(b).errors), /more than one credential/),
        },
      ];
      for (const route of routes) {
        for (const [what, headers] of twoCredentials) {
          const res = await t.app.inject({
            method: route.method,
            url: route.url,
            headers: {
              ...headers,
              ...route.extra,
              ...(route.payload === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(route.payload === undefined ? {} : { payload: JSON.stringify(route.payload) }),
          });
          assert.equal(res.statusCode, 400, `${route.api} ${route.url} with ${what}: ${res.statusCode} ${res.body}`);
          route.format(res.body);
        }
        // paired: one credential, or the same key as Authorization and Auth-Token, is fine
        for (const headers of [{ authorization: alice }, { authorization: alice, 'auth-token': aliceSecret }]) {
          const res = await t.app.inject({
            method: route.method,
            url: route.url,
            headers: {
              ...headers,
              ...route.extra,
              ...(route.payload === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(route.payload === undefined ? {} : { payload: JSON.stringify(route.payload) }),
          });
          assert.notEqual(res.statusCode, 400, `${route.api} ${route.url} with one key: ${res.statusCode} ${res.body}`);
          assert.ok(
            res.statusCode < 500 && res.statusCode !== 401,
            `${route.api} ${route.url} with one key: ${res.statusCode} ${res.body}`,
          );
        }
      }

      // the produce lane takes keys it has seen: both are seen first, then sent together
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as { port: number };
      pool = new Pool(`http://127.0.0.1:${port}`, { connections: 2 });
      for (const key of [alice, bob])
        await (await pool.request({ method: 'GET', path: '/v1/streams', headers: { authorization: key } })).body.text();
      const before = (await t.store.events.stats('alice.orders')).count;
      const body = JSON.stringify({ type: 't', data: {} });
      for (const headers of [
        ['authorization', alice, 'authorization', bob, 'content-type', 'application/json'],
        ['authorization', basic('x', aliceSecret), 'authorization', bob, 'content-type', 'application/json'],
        ['authorization', alice, 'auth-token', bobSecret, 'content-type', 'application/json'],
      ]) {
        const res: Dispatcher.ResponseData = await pool.request({
          method: 'POST',
          path: '/v1/streams/alice.orders/events',
          headers,
          body,
        });
        const text = await res.body.text();
        assert.equal(res.statusCode, 400, text);
        assert.equal(JSON.parse(text).code, 'AMBIGUOUS_CREDENTIALS');
      }
      assert.equal((await t.store.events.stats('alice.orders')).count, before, 'nothing was written');
      const one = await pool.request({
        method: 'POST',
        path: '/v1/streams/alice.orders/events',
        headers: { authorization: alice, 'content-type': 'application/json' },
        body,
      });
      assert.equal(one.statusCode, 201, await one.body.text());
    } finally {
      await pool?.close();
      await t.close();
    }
  });
});
