/**
 * Two Rivulet apps on one nats store (one nats-server, one namespace, a connection each), as two
 * processes behind a load balancer would be. Each keeps its own caches of API keys and schemas;
 * a change made through one must reach the other's caches through the store's document watch,
 * well within the keys' 5 s cache lifetime (schemas have no lifetime at all).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { startNatsServer } from '../support/nats-server.js';
import { tempDir } from '../support/resources.js';
import { buildTestApp, type TestApp } from '../support/test-app.js';

const nats = await startNatsServer();
process.env.RIVULET_TEST_NATS_URL = nats.servers;
after(() => nats.close());

/** builds two apps sharing one store (buildTestApp names the namespace after the data dir) */
async function withTwoApps(fn: (a: TestApp, b: TestApp) => Promise<void>): Promise<void> {
  const dataDir = tempDir();
  const a = await buildTestApp({ dataDir });
  try {
    const b = await buildTestApp({ dataDir });
    try {
      await fn(a, b);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

/** asks until `ok` holds, for up to 2 s: well inside the keys' cache lifetime */
async function eventually(
  ask: () => Promise<LightMyRequestResponse>,
  ok: (res: LightMyRequestResponse) => boolean,
  what: string,
): Promise<LightMyRequestResponse> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const res = await ask();
    if (ok(res)) return res;
    assert.ok(Date.now() < deadline, `${what}: still ${res.statusCode} ${res.body}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const ORDER = {
  type: 'object',
  properties: { orderId: { type: 'string' }, price: { type: 'number', minimum: 0 } },
  required: ['orderId', 'price'],
};
const STRICTER = { ...ORDER, properties: { ...ORDER.properties, price: { type: 'number', minimum: 10 } } };

describe('two Rivulet apps on one nats store', () => {
  it('a key revoked through one is refused by the other at once, not after its cache expires', () =>
    withTwoApps(async (a, b) => {
      const created = await a.app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: a.admin,
        payload: { owner: 'bob', scopes: ['consume:*'] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const { key, secret } = created.json() as { key: { id: string }; secret: string };
      const asBob = { authorization: `Bearer ${secret}` };
      const onB = () => b.app.inject({ method: 'GET', url: '/v1/whoami', headers: asBob });
      const first = await onB();
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json().id, key.id);
      // cached on B now; a second request is answered from the cache
      assert.equal((await onB()).statusCode, 200);

      assert.equal(
        (await a.app.inject({ method: 'DELETE', url: `/v1/keys/${key.id}`, headers: a.admin })).statusCode,
        204,
      );
      const refused = await eventually(onB, (res) => res.statusCode !== 200, 'B still accepts the revoked key');
      assert.equal(refused.statusCode, 401, refused.body);
      assert.equal(refused.json().code, 'UNAUTHENTICATED');
      assert.equal((await a.app.inject({ method: 'GET', url: '/v1/whoami', headers: asBob })).statusCode, 401);
    }));

  it('a schema registered or deleted through one is enforced by the other at once', () =>
    withTwoApps(async (a, b) => {
      const stream = await a.app.inject({
        method: 'POST',
        url: '/v1/streams',
        headers: a.admin,
        payload: { name: 'orders', options: { validation: 'strict' } },
      });
      assert.equal(stream.statusCode, 201, stream.body);
      const register = (schema: unknown) =>
        a.app.inject({
          method: 'POST',
          url: '/v1/streams/orders/schemas/o',
          headers: a.admin,
          payload: { schema, compatibility: 'NONE' },
        });
      assert.equal((await register(ORDER)).statusCode, 201);
      const produceOnB = () =>
        b.app.inject({
          method: 'POST',
          url: '/v1/streams/orders/events',
          headers: b.admin,
          payload: { type: 'o', data: { orderId: 'x', price: 5 } },
        });
      const lastSchemaVersion = async () => {
        const read = await b.app.inject({ method: 'GET', url: '/v1/streams/orders/events', headers: b.admin });
        return (read.json().events as { schemaVersion?: number }[]).at(-1)?.schemaVersion;
      };
      const accepted = await produceOnB();
      assert.equal(accepted.statusCode, 201, accepted.body);
      assert.equal(await lastSchemaVersion(), 1, 'B validated with version 1 and cached it');

      assert.equal((await register(STRICTER)).statusCode, 201);
      const refused = await eventually(produceOnB, (res) => res.statusCode !== 201, 'B still applies version 1');
      assert.equal(refused.statusCode, 422, refused.body);
      assert.equal(refused.json().code, 'SCHEMA_VIOLATION');
      assert.equal(refused.json().schemaVersion, 2);

      const del = (version: number) =>
        a.app.inject({ method: 'DELETE', url: `/v1/streams/orders/schemas/o/versions/${version}`, headers: a.admin });
      assert.equal((await del(2)).statusCode, 204);
      await eventually(produceOnB, (res) => res.statusCode === 201, 'B still applies the deleted version 2');
      assert.equal(await lastSchemaVersion(), 1);

      assert.equal((await del(1)).statusCode, 204);
      const unknown = await eventually(
        produceOnB,
        (res) => res.statusCode !== 201,
        'B still knows the deleted version 1',
      );
      assert.equal(
        unknown.json().code,
        'UNKNOWN_EVENT_TYPE',
        'a strict stream without a schema for the type refuses it',
      );
    }));
});
