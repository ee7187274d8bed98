/** Who may call what, and what every kind of bad input gets: a 4xx problem naming it, never a 5xx. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declaredRoutes } from '../../src/http/plugins/auth.js';
import { buildTestApp, type TestApp, type TestAppOptions } from '../support/test-app.js';

async function withApp(body: (t: TestApp) => Promise<void>, options?: TestAppOptions): Promise<void> {
  const t = await buildTestApp(options);
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

function problem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): Record<string, unknown> },
  status: number,
  code: string,
) {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json();
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(typeof body.detail, 'string');
  assert.equal(typeof body.instance, 'string');
  return body;
}

describe('authentication and authorisation', () => {
  it('answers 401 without a key or with a wrong one, and accepts Bearer, Basic password and Auth-Token', () =>
    withApp(async (t) => {
      problem(await t.app.inject({ method: 'GET', url: '/v1/streams' }), 401, 'UNAUTHENTICATED');
      const wrong = await t.app.inject({
        method: 'GET',
        url: '/v1/streams',
        headers: { authorization: 'Bearer rvl_not-a-key' },
      });
      problem(wrong, 401, 'UNAUTHENTICATED');
      assert.match(String(wrong.headers['www-authenticate']), /Bearer/);
      problem(
        await t.app.inject({ method: 'GET', url: '/v1/streams', headers: { authorization: 'Token abc' } }),
        401,
        'UNAUTHENTICATED',
      );
      const basic = Buffer.from(`anyone:${t.adminKey}`).toString('base64');
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/v1/streams', headers: { authorization: `Basic ${basic}` } }))
          .statusCode,
        200,
      );
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/v1/streams', headers: { 'auth-token': t.adminKey } })).statusCode,
        200,
      );
      assert.equal((await t.app.inject({ method: 'GET', url: '/v1/streams', headers: t.admin })).statusCode, 200);
    }));

  it('answers 403 to a valid key without the scope', () =>
    withApp(async (t) => {
      await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'orders' } });
      const consumer = await t.keyWith(['consume:orders']);
      const body = problem(
        await t.app.inject({
          method: 'POST',
          url: '/v1/streams/orders/events',
          headers: consumer,
          payload: { type: 't' },
        }),
        403,
        'FORBIDDEN',
      );
      assert.equal(body.needs, 'produce:orders');
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/v1/streams/orders/events', headers: consumer })).statusCode,
        200,
      );
      const producer = await t.keyWith(['produce:ord*']);
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/v1/streams/orders/events',
            headers: producer,
            payload: { type: 't' },
          })
        ).statusCode,
        201,
      );
      problem(await t.app.inject({ method: 'DELETE', url: '/v1/streams/orders', headers: producer }), 403, 'FORBIDDEN');
      problem(
        await t.app.inject({ method: 'POST', url: '/v1/streams', headers: producer, payload: { name: 'ord-new' } }),
        403,
        'FORBIDDEN',
      );
      const manager = await t.keyWith(['manage:ord*']);
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: manager, payload: { name: 'ord-new' } }))
          .statusCode,
        201,
      );
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/v1/streams/ord-new/events',
            headers: manager,
            payload: { type: 't' },
          })
        ).statusCode,
        201,
        'manage implies produce',
      );
    }));

  it('lets only admins create, list, get and revoke keys; a revoked key stops working', () =>
    withApp(async (t) => {
      const user = await t.keyWith(['manage:*']);
      problem(await t.app.inject({ method: 'GET', url: '/v1/keys', headers: user }), 403, 'FORBIDDEN');
      problem(
        await t.app.inject({
          method: 'POST',
          url: '/v1/keys',
          headers: user,
          payload: { owner: 'x', scopes: ['admin'] },
        }),
        403,
        'FORBIDDEN',
      );
      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: t.admin,
        payload: { owner: 'bob', name: 'bob key', scopes: ['consume:*'] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const { key, secret } = created.json() as { key: { id: string }; secret: string };
      const listed = (await t.app.inject({ method: 'GET', url: '/v1/keys', headers: t.admin })).json() as {
        keys: { id: string }[];
      };
      assert.ok(listed.keys.some((k) => k.id === key.id));
      assert.ok(!JSON.stringify(listed).includes(secret), 'secrets are never listed');
      assert.equal(
        (await t.app.inject({ method: 'GET', url: `/v1/keys/${key.id}`, headers: t.admin })).json().owner,
        'bob',
      );
      const whoami = await t.app.inject({
        method: 'GET',
        url: '/v1/whoami',
        headers: { authorization: `Bearer ${secret}` },
      });
      assert.equal(whoami.json().id, key.id);
      assert.equal(
        (await t.app.inject({ method: 'DELETE', url: `/v1/keys/${key.id}`, headers: t.admin })).statusCode,
        204,
      );
      problem(
        await t.app.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: `Bearer ${secret}` } }),
        401,
        'UNAUTHENTICATED',
      );
      problem(
        await t.app.inject({ method: 'DELETE', url: `/v1/keys/${key.id}`, headers: t.admin }),
        404,
        'KEY_NOT_FOUND',
      );
      problem(
        await t.app.inject({
          method: 'POST',
          url: '/v1/keys',
          headers: t.admin,
          payload: { owner: 'x', scopes: ['everything'] },
        }),
        400,
        'VALIDATION_FAILED',
      );
    }));

  it('refuses a missing key with 401 on every non-public route', () =>
    withApp(async (t) => {
      const routes = declaredRoutes(t.app);
      const guarded = routes.filter((r) => r.config?.access?.scope !== 'public');
      assert.ok(guarded.length >= 10, `only ${guarded.length} guarded routes found`);
      for (const route of guarded) {
        for (const method of [route.method].flat() as string[]) {
          const url = route.url.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x');
          const res = await t.app.inject({
            method: method as 'GET',
            url,
            payload: method === 'GET' || method === 'HEAD' ? undefined : {},
          });
          assert.equal(res.statusCode, 401, `${method} ${route.url} answered ${res.statusCode}`);
        }
      }
      const publicUrls = routes.filter((r) => r.config?.access?.scope === 'public').map((r) => r.url);
      for (const url of ['/healthz', '/readyz', '/openapi.json']) assert.ok(publicUrls.includes(url), url);
    }));

  it('refuses a valid key without the scope on every scoped route, before looking at params or body', () =>
    withApp(async (t) => {
      // a real key whose only grant matches no stream the walk names
      const scopeless = await t.keyWith(['consume:zz-none-*']);
      const scoped = declaredRoutes(t.app).filter((r) => {
        const access = r.config?.access;
        return (
          access &&
          access.scope !== 'public' &&
          access.scope !== 'authenticated' &&
          !('allowAnonymous' in access && access.allowAnonymous?.())
        );
      });
      assert.ok(scoped.length >= 20, `only ${scoped.length} scoped routes found`);
      let walked = 0;
      for (const route of scoped) {
        for (const method of [route.method].flat() as string[]) {
          const url = route.url.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x');
          const withBody = method !== 'GET' && method !== 'HEAD' && method !== 'DELETE';
          const res = await t.app.inject({
            method: method as 'GET',
            url,
            headers: scopeless,
            payload: withBody ? { name: 'x', stream: 'x' } : undefined,
          });
          // the event server's seed knows no 403: it answers every refusal of credentials 401 (docs/dialects)
          const expected = url.startsWith('/api/v1/streams/') ? 401 : 403;
          assert.equal(
            res.statusCode,
            expected,
            `${method} ${route.url} answered ${res.statusCode}: ${res.body.slice(0, 200)}`,
          );
          walked++;
        }
      }
      assert.ok(walked >= 30);
    }));
});

describe('bad input gets a 4xx problem naming it', () => {
  const produce = (t: TestApp, payload: string | Buffer, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/streams/in/events',
      headers: { ...t.admin, 'content-type': 'application/json', ...headers },
      payload,
    });
  const seeded = (body: (t: TestApp) => Promise<void>, options?: TestAppOptions) => () =>
    withApp(async (t) => {
      await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'in' } });
      await body(t);
    }, options);

  it(
    'malformed JSON, empty body, invalid UTF-8, forbidden keys, too deep',
    seeded(async (t) => {
      assert.match(String(problem(await produce(t, '{"type": "a",'), 400, 'INVALID_JSON').detail), /not valid JSON/);
      problem(await produce(t, ''), 400, 'INVALID_JSON');
      problem(
        await produce(t, Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])),
        400,
        'INVALID_UTF8',
      );
      problem(await produce(t, '{"type":"t","data":{"__proto__":{"x":1}}}'), 400, 'FORBIDDEN_KEY');
      problem(await produce(t, `{"type":"t","data":${'['.repeat(100)}${']'.repeat(100)}}`), 400, 'NESTING_TOO_DEEP');
    }),
  );

  it(
    'wrong content type 415',
    seeded(async (t) => {
      problem(
        await produce(t, 'type=t', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      problem(await produce(t, '{"type":"t"}', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      problem(
        await t.app.inject({
          method: 'POST',
          url: '/v1/streams',
          headers: { ...t.admin, 'content-type': 'text/csv' },
          payload: 'a,b',
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    }),
  );

  it(
    'body too large 413 and batch too large 413',
    seeded(
      async (t) => {
        problem(await produce(t, JSON.stringify({ type: 't', data: 'x'.repeat(5000) })), 413, 'BODY_TOO_LARGE');
        const batch = problem(
          await produce(t, JSON.stringify(Array.from({ length: 6 }, () => ({ type: 't' })))),
          413,
          'BATCH_TOO_LARGE',
        );
        assert.equal(batch.limit, 5);
        assert.equal(
          (await produce(t, JSON.stringify(Array.from({ length: 5 }, () => ({ type: 't' }))))).statusCode,
          201,
        );
      },
      { limits: { bodyLimit: 2048 }, maxBatchEvents: 5 },
    ),
  );

  it(
    'unknown stream 404, invalid event 422 with index and pointer, bad headers 400',
    seeded(async (t) => {
      problem(
        await t.app.inject({
          method: 'POST',
          url: '/v1/streams/nope/events',
          headers: t.admin,
          payload: { type: 't' },
        }),
        404,
        'STREAM_NOT_FOUND',
      );
      const invalid = problem(
        await produce(t, JSON.stringify([{ type: 't' }, { type: 't', time: 'noon' }])),
        422,
        'INVALID_EVENT',
      );
      assert.equal(invalid.index, 1);
      assert.equal(invalid.pointer, '/1/time');
      problem(
        await produce(t, JSON.stringify({ type: 't' }), { 'idempotency-key': 'k'.repeat(300) }),
        400,
        'BAD_REQUEST',
      );
      problem(
        await produce(t, JSON.stringify({ type: 't' }), { 'x-producer-id': 'p'.repeat(300) }),
        400,
        'BAD_REQUEST',
      );
      problem(await t.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: t.admin }), 404, 'NOT_FOUND');
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/v1/streams/in', headers: t.admin })).json().stats.count,
        0,
        'nothing was written',
      );
    }),
  );

  it(
    'never answers 5xx to a barrage of malformed requests',
    seeded(async (t) => {
      const bodies = [
        'null',
        '[]',
        '[null]',
        '"text"',
        '42',
        '{"type":null}',
        '{"type":["a"]}',
        '{"specversion":1}',
        '[{"type":"t"},"x"]',
        '{"type":"t","time":12}',
        '\u0000',
        '{"type":"t"}}',
      ];
      for (const body of bodies) {
        const res = await produce(t, body);
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${JSON.stringify(body)} answered ${res.statusCode}`);
      }
    }),
  );
});

describe('health and documentation', () => {
  it('serves /healthz, /readyz, OpenAPI 3.1 listing every /v1 route, and /docs', () =>
    withApp(async (t) => {
      assert.deepEqual((await t.app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json().status, 'ready');
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
      };
      assert.match(spec.openapi, /^3\.1/);
      const v1 = declaredRoutes(t.app).filter((r) => r.url.startsWith('/v1'));
      for (const route of v1) {
        const path = route.url.replace(/:([^/]+)/g, '{$1}');
        for (const method of [route.method].flat() as string[]) {
          if (method === 'HEAD') continue;
          assert.ok(spec.paths[path]?.[method.toLowerCase()], `openapi.json lacks ${method} ${path}`);
        }
      }
      const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
      const page =
        docs.statusCode === 302 ? await t.app.inject({ method: 'GET', url: String(docs.headers.location) }) : docs;
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /text\/html/);
    }));
});
