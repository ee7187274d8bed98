import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from '../support/test-app.js';

describe('streams and events over the native API', () => {
  it('creates a stream, produces a batch and reads it back in order', async () => {
    const t = await buildTestApp();
    try {
      const created = await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'orders' } });
      assert.equal(created.statusCode, 201, created.body);
      const produced = await t.app.inject({
        method: 'POST', url: '/v1/streams/orders/events', headers: t.admin,
        payload: [{ type: 'order.placed', data: { n: 1 } }, { type: 'order.paid', data: { n: 2 } }],
      });
      assert.equal(produced.statusCode, 201, produced.body);
      assert.deepEqual(produced.json().events.map((e: { seq: number }) => e.seq), [1, 2]);
      const read = await t.app.inject({ method: 'GET', url: '/v1/streams/orders/events', headers: t.admin });
      assert.equal(read.statusCode, 200);
      const body = read.json();
      assert.deepEqual(body.events.map((e: { data: { n: number } }) => e.data.n), [1, 2]);
      assert.equal(body.next, null);
    } finally {
      await t.close();
    }
  });
});
