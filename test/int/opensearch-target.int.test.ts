/**
 * The `opensearch` target through the official client against a protocol-level double of
 * the `_bulk` endpoint (test/support/bulk-endpoint.ts). No OpenSearch or Elasticsearch
 * cluster can run on this machine, so the double is a real HTTP server that checks the bulk
 * NDJSON the way a node does and answers in the real bulk response shape.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { opensearchTarget } from '../../src/delivery/targets/opensearch-target.js';
import type { DeliveryItem, DeliveryTarget } from '../../src/delivery/targets/target.js';
import type { JsonValue, StoredEvent } from '../../src/kernel/envelope.js';
import { createUrlGuard } from '../../src/delivery/url-guard.js';
import { startBulkEndpoint } from '../support/bulk-endpoint.js';
import { track } from '../support/resources.js';

const loopbackGuard = createUrlGuard({ allowLoopback: true });

function target(config: Record<string, unknown>, guard = loopbackGuard): DeliveryTarget {
  const t = opensearchTarget.create(opensearchTarget.check({ index: 'orders', ...config }), { urlGuard: guard });
  let closed = false;
  track('opensearch target', t, () => closed);
  return {
    ...t,
    close: async () => {
      closed = true;
      await t.close();
    },
  };
}

function item(seq: number, time: string, data: JsonValue, payload: JsonValue = { mapped: data }): DeliveryItem {
  const event: StoredEvent = {
    id: `evt-${seq}`,
    stream: 'orders',
    seq,
    typeSeq: seq,
    type: 'order.created',
    source: '/shop',
    time,
    received: '2026-12-01T00:00:00.000Z',
    producer: 'shop-1',
    data,
    meta: {},
    schemaVersion: null,
  };
  return { event, payload, deliveryId: `sink-9:orders:${seq}`, attempt: 1 };
}

const context = (signal = new AbortController().signal) => ({ signal, sinkId: 'sink-9' });

describe('opensearch target (bulk endpoint double; no cluster runs here)', () => {
  it('indexes each event by month of its time, with _id = deliveryId, in well-formed bulk NDJSON', async () => {
    const node = await startBulkEndpoint();
    const t = target({ node: node.url, refresh: 'wait_for' });
    const batch = [
      item(1, '2026-10-31T23:59:59.999Z', { n: 1 }),
      item(2, '2026-11-01T00:00:00Z', { n: 2 }),
      item(3, '2026-11-15T12:00:00+05:00', { n: 3 }),
    ];
    const result = await t.deliver(batch, context());

    assert.deepEqual(result.items, [{ outcome: 'success' }, { outcome: 'success' }, { outcome: 'success' }]);
    assert.equal(result.status, 200);
    assert.deepEqual(result.detail, { indices: ['orders-2026.10', 'orders-2026.11'], errors: false });
    assert.deepEqual([...node.documents.keys()].sort(), ['orders-2026.10', 'orders-2026.11']);
    assert.deepEqual(node.documents.get('orders-2026.10')?.get('sink-9:orders:1'), batch[0]?.event);
    assert.deepEqual([...(node.documents.get('orders-2026.11')?.keys() ?? [])], ['sink-9:orders:2', 'sink-9:orders:3']);

    const [request] = node.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request.path, '/_bulk');
    assert.equal(request.contentType, 'application/x-ndjson');
    assert.equal(request.query.get('refresh'), 'wait_for');
    assert.equal(result.bytes, Buffer.byteLength(request.body));
    const lines = request.body.split('\n');
    assert.equal(lines.pop(), '', 'the body ends with a newline');
    assert.deepEqual(JSON.parse(lines[0] ?? ''), { index: { _index: 'orders-2026.10', _id: 'sink-9:orders:1' } });
    assert.equal(lines.length, 6);
    await t.close();
    await node.close();
  });

  it('a retried batch overwrites its documents instead of adding new ones', async () => {
    const node = await startBulkEndpoint();
    const t = target({ node: [node.url], dateSuffix: 'none', body: 'payload' });
    const batch = [item(1, '2026-10-01T00:00:00Z', { n: 1 }), item(2, '2026-10-01T00:00:00Z', { n: 2 })];
    await t.deliver(batch, context());
    const again = await t.deliver(
      batch.map((i) => ({ ...i, attempt: 2 })),
      context(),
    );
    assert.deepEqual(
      again.items.map((o) => o.outcome),
      ['success', 'success'],
    );
    assert.equal(node.documents.get('orders')?.size, 2);
    assert.equal(node.versions.get('orders/sink-9:orders:1'), 2);
    assert.deepEqual(node.documents.get('orders')?.get('sink-9:orders:2'), { mapped: { n: 2 } });
    await t.close();
    await node.close();
  });

  it('turns per-document failures into per-item outcomes: 400 permanent with type and reason, 429/5xx retry', async () => {
    const node = await startBulkEndpoint();
    node.rejectItem = (source) => {
      const data = source['data'] as Record<string, unknown>;
      if (data['price'] === 'abc')
        return {
          status: 400,
          type: 'mapper_parsing_exception',
          reason: "failed to parse field [data.price] of type [long] in document with id 'sink-9:orders:2'",
        };
      if (data['busy'] === true)
        return {
          status: 429,
          type: 'es_rejected_execution_exception',
          reason: 'rejected execution of primary operation',
        };
      if (data['shard'] === 'down')
        return { status: 503, type: 'unavailable_shards_exception', reason: 'primary shard is not active' };
      return undefined;
    };
    const t = target({ node: node.url });
    const batch = [
      item(1, '2026-11-01T00:00:00Z', { price: 1 }),
      item(2, '2026-11-01T00:00:00Z', { price: 'abc' }),
      item(3, '2026-11-01T00:00:00Z', { busy: true }),
      item(4, '2026-11-01T00:00:00Z', { shard: 'down' }),
      item(5, '2026-11-01T00:00:00Z', { price: 5 }),
    ];
    const result = await t.deliver(batch, context());
    assert.deepEqual(result.items, [
      { outcome: 'success' },
      {
        outcome: 'permanent',
        status: 400,
        error:
          "mapper_parsing_exception: failed to parse field [data.price] of type [long] in document with id 'sink-9:orders:2'",
      },
      {
        outcome: 'retry',
        status: 429,
        error: 'es_rejected_execution_exception: rejected execution of primary operation',
      },
      { outcome: 'retry', status: 503, error: 'unavailable_shards_exception: primary shard is not active' },
      { outcome: 'success' },
    ]);
    assert.equal(result.detail?.['errors'], true);
    assert.deepEqual([...(node.documents.get('orders-2026.11')?.keys() ?? [])], ['sink-9:orders:1', 'sink-9:orders:5']);
    await t.close();
    await node.close();
  });

  it('a payload that is not an object is permanent and never sent', async () => {
    const node = await startBulkEndpoint();
    const t = target({ node: node.url, body: 'payload' });
    const result = await t.deliver(
      [item(1, '2026-11-01T00:00:00Z', 1, 42), item(2, '2026-11-01T00:00:00Z', 2, { ok: true })],
      context(),
    );
    assert.equal(result.items[0]?.outcome, 'permanent');
    assert.match(result.items[0].error, /not a JSON object/);
    assert.deepEqual(result.items[1], { outcome: 'success' });
    assert.equal(node.documents.get('orders-2026.11')?.size, 1);
    await t.close();
    await node.close();
  });

  it('whole-request failures: 429 and 503 retry every item (with Retry-After), 401 is permanent', async () => {
    const node = await startBulkEndpoint();
    const t = target({ node: node.url, auth: { username: 'rivulet', password: 'right' } });
    const batch = [item(1, '2026-11-01T00:00:00Z', {}), item(2, '2026-11-01T00:00:00Z', {})];

    node.failNext(1, 429, { 'retry-after': '7' });
    const throttled = await t.deliver(batch, context());
    assert.equal(throttled.status, 429);
    for (const outcome of throttled.items) {
      assert.equal(outcome.outcome, 'retry');
      assert.equal(outcome.status, 429);
      assert.equal(outcome.retryAfterMs, 7000);
    }

    node.failNext(1, 503);
    assert.deepEqual(
      (await t.deliver(batch, context())).items.map((o) => [o.outcome, o.outcome === 'success' ? 0 : o.status]),
      [
        ['retry', 503],
        ['retry', 503],
      ],
    );

    node.requireAuthorization = `Basic ${Buffer.from('rivulet:other').toString('base64')}`;
    const refused = await t.deliver(batch, context());
    assert.deepEqual(
      refused.items.map((o) => [o.outcome, o.outcome === 'success' ? 0 : o.status]),
      [
        ['permanent', 401],
        ['permanent', 401],
      ],
    );
    assert.equal(node.requests.at(-1)?.authorization, `Basic ${Buffer.from('rivulet:right').toString('base64')}`);

    node.requireAuthorization = undefined;
    assert.deepEqual(
      (await t.deliver(batch, context())).items.map((o) => o.outcome),
      ['success', 'success'],
    );
    await t.close();
    await node.close();
  });

  it('sends an API key as Authorization: ApiKey', async () => {
    const node = await startBulkEndpoint();
    node.requireAuthorization = 'ApiKey a2V5OnNlY3JldA==';
    const t = target({ node: node.url, auth: { apiKey: 'a2V5OnNlY3JldA==' } });
    assert.deepEqual((await t.deliver([item(1, '2026-11-01T00:00:00Z', {})], context())).items, [
      { outcome: 'success' },
    ]);
    await t.close();
    await node.close();
  });

  it('a stopped node means retry; an aborted attempt gives up promptly', async () => {
    const node = await startBulkEndpoint();
    const t = target({ node: node.url });
    const batch = [item(1, '2026-11-01T00:00:00Z', {})];
    node.hold = true;
    const controller = new AbortController();
    const pending = t.deliver(batch, context(controller.signal));
    setTimeout(() => controller.abort(), 50);
    assert.deepEqual((await pending).items, [{ outcome: 'retry', error: 'attempt aborted' }]);
    assert.deepEqual((await t.deliver(batch, context(AbortSignal.abort()))).items, [
      { outcome: 'retry', error: 'attempt aborted' },
    ]);

    await node.close();
    const [down] = (await t.deliver(batch, context())).items;
    assert.equal(down?.outcome, 'retry');
    assert.match(down.error, /ConnectionError|ECONNREFUSED/);
    await t.close();
  });

  it('refuses a node the URL guard forbids, without calling it', async () => {
    const node = await startBulkEndpoint();
    const t = target({ node: node.url }, createUrlGuard());
    const [outcome] = (await t.deliver([item(1, '2026-11-01T00:00:00Z', {})], context())).items;
    assert.equal(outcome?.outcome, 'permanent');
    assert.match(outcome.error, /^TARGET_URL_FORBIDDEN: .*loopback/);
    assert.equal(node.requests.length, 0);
    await t.close();
    await node.close();
  });

  it('the double itself refuses what a cluster refuses (so the checks above can fail)', async () => {
    const node = await startBulkEndpoint();
    const post = (body: string, contentType = 'application/x-ndjson') =>
      fetch(`${node.url}/_bulk`, { method: 'POST', body, headers: { 'content-type': contentType } }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }),
      );
    assert.equal((await post('{"index":{"_index":"a","_id":"1"}}\n{"x":1}')).status, 400, 'no final newline');
    assert.equal((await post('{"index":{"_index":"a"}}\n{"x":1}\n', 'text/plain')).status, 406);
    assert.equal((await post('{"index":{"_id":"1"}}\n{"x":1}\n')).status, 400, 'no _index');
    const badName = await post('{"index":{"_index":"Orders","_id":"1"}}\n{"x":1}\n');
    assert.equal(badName.body['errors'], true);
    await node.close();
  });
});
