/**
 * POST /v1/sinks/dry-run: a real event of a source stream through a sink definition's filter,
 * transform and http mapping with the delivery's own code, nothing sent or saved; an edited
 * sink's stored secrets used but never answered; bad definitions refused as a save would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startDeliveryApp } from '../support/delivery-app.js';

type Json = Record<string, unknown>;

describe('sink dry run', () => {
  it('runs a stored event through filter, transform and mapping without sending or saving', async () => {
    const h = await startDeliveryApp('sink dry run', { startEngine: false });
    try {
      const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
        const res = await h.t.app.inject({
          method,
          url,
          headers: h.t.admin,
          ...(payload === undefined ? {} : { payload: payload as Json }),
        });
        return { status: res.statusCode, json: res.json() as Json, body: res.body };
      };
      assert.equal((await call('POST', '/v1/streams', { name: 'orders' })).status, 201);
      assert.equal(
        (
          await call('POST', '/v1/streams/orders/events', [
            { type: 'order.placed', data: { order: 'A-1', amount: 50 } },
            { type: 'order.placed', data: { order: 'A-2', amount: 500 } },
          ])
        ).status,
        201,
      );

      const target = {
        kind: 'http',
        url: 'http://127.0.0.1:9/orders/{order}',
        datamap: { order: '$.msg.order', total: '$.msg.amount' },
        json_body: ['order', 'total'],
        token: 'secret-token-1234',
      };
      const definition = {
        streams: ['orders'],
        filter: { condition: 'data.amount > 100' },
        transform: '{"order": data.order, "amount": data.amount * 2}',
        target,
      };

      // the latest event (seq 2) passes the filter; the request is built from the transform's payload
      const latest = await call('POST', '/v1/sinks/dry-run', definition);
      assert.equal(latest.status, 200, latest.body);
      assert.equal((latest.json.event as Json).seq, 2);
      assert.equal(latest.json.matched, true);
      assert.deepEqual(latest.json.payload, { order: 'A-2', amount: 1000 });
      assert.equal(latest.json.deliveryError, null);
      const request = latest.json.delivery as {
        method: string;
        url: string;
        headers: Record<string, string>;
        body: string;
      };
      assert.equal(request.method, 'POST');
      assert.equal(request.url, 'http://127.0.0.1:9/orders/A-2');
      assert.deepEqual(JSON.parse(request.body), { order: 'A-2', total: 1000 });
      assert.equal(request.headers['authorization'], '[redacted]');
      assert.ok(!latest.body.includes('secret-token-1234'));

      // seq 1 does not pass
      const first = await call('POST', '/v1/sinks/dry-run', { ...definition, event: { seq: 1 } });
      assert.equal(first.json.matched, false);
      assert.equal(first.json.payload, null);
      assert.equal(first.json.delivery, null);

      // a transform that fails on this event says so
      const failing = await call('POST', '/v1/sinks/dry-run', { ...definition, transform: '$error("no good")' });
      assert.equal(failing.status, 200);
      assert.match(String(failing.json.transformError), /no good/);

      // bad definitions are refused as a save refuses them
      const badFilter = await call('POST', '/v1/sinks/dry-run', {
        ...definition,
        filter: { condition: 'data.amount >' },
      });
      assert.equal(badFilter.status, 400);
      assert.equal(badFilter.json.code, 'INVALID_EXPRESSION');
      const badTarget = await call('POST', '/v1/sinks/dry-run', { ...definition, target: { kind: 'http' } });
      assert.equal(badTarget.status, 400);
      const otherStream = await call('POST', '/v1/sinks/dry-run', { ...definition, event: { stream: 'audit' } });
      assert.equal(otherStream.status, 400);
      const noSuchSeq = await call('POST', '/v1/sinks/dry-run', { ...definition, event: { seq: 99 } });
      assert.equal(noSuchSeq.status, 404);

      // editing: the stored token fills the redacted one; nothing was saved by the dry runs
      assert.deepEqual((await call('GET', '/v1/sinks')).json.sinks, []);
      assert.equal((await call('POST', '/v1/sinks', { id: 'hook', ...definition, state: 'paused' })).status, 201);
      const edited = await call('POST', '/v1/sinks/dry-run', {
        id: 'hook',
        ...definition,
        target: { ...target, token: '[redacted]' },
      });
      assert.equal(edited.status, 200, edited.body);
      assert.equal(
        (edited.json.delivery as { headers: Record<string, string> }).headers['authorization'],
        '[redacted]',
      );
      const newSinkWithPlaceholder = await call('POST', '/v1/sinks/dry-run', {
        ...definition,
        target: { ...target, token: '[redacted]' },
      });
      assert.equal(newSinkWithPlaceholder.status, 400);

      // a key without manage on the stream may not try sinks on it
      const reader = await h.t.keyWith(['consume:orders'], 'admin');
      const refused = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks/dry-run',
        headers: reader,
        payload: definition,
      });
      assert.equal(refused.statusCode, 403);
    } finally {
      await h.close();
    }
  });
});
