import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from '../support/test-app.js';

describe('streams and events over the native API', () => {
  it('creates a stream, produces a batch and reads it back in order', async () => {
    const t = await buildTestApp();
    try {
      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/streams',
        headers: t.admin,
        payload: { name: 'orders' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const produced = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/events',
        headers: t.admin,
        payload: [
          { type: 'order.placed', data: { n: 1 } },
          { type: 'order.paid', data: { n: 2 } },
        ],
      });
      assert.equal(produced.statusCode, 201, produced.body);
      assert.deepEqual(
        produced.json().events.map((e: { seq: number }) => e.seq),
        [1, 2],
      );
      const read = await t.app.inject({ method: 'GET', url: '/v1/streams/orders/events', headers: t.admin });
      assert.equal(read.statusCode, 200);
      const body = read.json();
      assert.deepEqual(
        body.events.map((e: { data: { n: number } }) => e.data.n),
        [1, 2],
      );
      assert.equal(body.next, null);
    } finally {
      await t.close();
    }
  });
});

describe('a stream’s write mode (options.writeMode)', () => {
  it('is chained or concurrent, fixed at creation, and kept by a change that leaves it out', async () => {
    const t = await buildTestApp();
    try {
      const bad = await t.app.inject({
        method: 'POST',
        url: '/v1/streams',
        headers: t.admin,
        payload: { name: 'bad', options: { writeMode: 'fast' } },
      });
      assert.equal(bad.statusCode, 400, bad.body);
      assert.equal(bad.json().code, 'VALIDATION_FAILED');
      assert.equal(bad.json().pointer, '/options/writeMode');
      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/streams',
        headers: t.admin,
        payload: { name: 'hot', options: { writeMode: 'concurrent' } },
      });
      assert.equal(created.statusCode, 201, created.body);
      const switched = await t.app.inject({
        method: 'PATCH',
        url: '/v1/streams/hot',
        headers: t.admin,
        payload: { options: { writeMode: 'chained' } },
      });
      assert.equal(switched.statusCode, 400, switched.body);
      const kept = await t.app.inject({
        method: 'PATCH',
        url: '/v1/streams/hot',
        headers: t.admin,
        payload: { options: { team: 'a' } },
      });
      assert.equal(kept.statusCode, 200, kept.body);
      assert.deepEqual(kept.json().options, { team: 'a', writeMode: 'concurrent' });
      // SQLite has one writer: the stream keeps every chained guarantee, typeSeq included
      const produced = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/hot/events',
        headers: t.admin,
        payload: [
          { type: 'a', data: 1 },
          { type: 'a', data: 2 },
        ],
      });
      assert.deepEqual(
        produced.json().events.map((e: { seq: number; typeSeq: number }) => [e.seq, e.typeSeq]),
        [
          [1, 1],
          [2, 2],
        ],
      );
    } finally {
      await t.close();
    }
  });
});
