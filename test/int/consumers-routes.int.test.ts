import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from '../support/test-app.js';

describe('native consumers API', () => {
  it('creates a consumer, receives under a lease, acks, reports lag, and shows in /openapi.json', async () => {
    const t = await buildTestApp();
    try {
      const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, headers = t.admin) =>
        t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
      assert.equal((await call('POST', '/v1/streams', { name: 'orders' })).statusCode, 201);
      await call('POST', '/v1/streams/orders/events', [
        { type: 'a', data: 1 },
        { type: 'b', data: 2 },
        { type: 'a', data: 3 },
      ]);
      const created = await call('POST', '/v1/streams/orders/consumers', {
        name: 'billing',
        types: ['a'],
        leaseMs: 60_000,
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal((await call('POST', '/v1/streams/orders/consumers', { name: 'billing' })).statusCode, 409);
      const peek = await call('GET', '/v1/streams/orders/consumers/billing/events?limit=5');
      assert.deepEqual(
        peek.json().events.map((e: { seq: number }) => e.seq),
        [1, 3],
      );
      const got = await call('POST', '/v1/streams/orders/consumers/billing/receive', { max: 5, clientId: 'w1' });
      assert.equal(got.statusCode, 200, got.body);
      const deliveries = got.json().deliveries as { event: { seq: number }; leaseToken: string; deliveries: number }[];
      assert.deepEqual(
        deliveries.map((d) => [d.event.seq, d.deliveries]),
        [
          [1, 1],
          [3, 1],
        ],
      );
      const acked = await call('POST', '/v1/streams/orders/consumers/billing/ack', {
        tokens: deliveries.map((d) => d.leaseToken),
      });
      assert.deepEqual(
        acked.json().outcomes.map((o: { outcome: string }) => o.outcome),
        ['ok', 'ok'],
      );
      const lag = await call('GET', '/v1/streams/orders/consumers/billing/lag');
      assert.deepEqual([lag.json().pending, lag.json().committedSeq], [0, 3]);
      const sought = await call('POST', '/v1/streams/orders/consumers/billing/seek', { from: 'seq', seq: 3 });
      assert.equal(sought.json().committedSeq, 2);
      const reader = await t.keyWith(['consume:orders']);
      assert.equal(
        (await call('DELETE', '/v1/streams/orders/consumers/billing', undefined, reader)).statusCode,
        403,
        'delete needs manage',
      );
      assert.equal((await call('GET', '/v1/streams/orders/consumers', undefined, reader)).json().consumers.length, 1);
      assert.equal((await call('DELETE', '/v1/streams/orders/consumers/billing')).statusCode, 204);
      assert.equal((await call('GET', '/v1/streams/orders/consumers/billing')).statusCode, 404);
      const spec = (await call('GET', '/openapi.json')).json();
      assert.ok(spec.paths['/v1/streams/{name}/consumers/{consumer}/receive']);
    } finally {
      await t.close();
    }
  });
});
