/**
 * The Durable Streams mount as Rivulet sees it: keys and scopes, the anonymous switch, the
 * path ↔ name mapping, /ds streams as Rivulet streams (bytes and JSON messages as events), and
 * 410 for offsets retention dropped. The protocol itself is covered by its conformance suite
 * (test/conformance/).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from '../support/test-app.js';

type Headers = Record<string, string>;

describe('durable streams dialect', () => {
  it('asks for a key and the scope the method needs, on every answer with the security headers', async () => {
    const t = await buildTestApp();
    try {
      const none = await t.app.inject({
        method: 'PUT',
        url: '/ds/shop/orders',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(none.statusCode, 401);
      assert.match(none.headers['content-type'] as string, /^text\/plain/);
      assert.equal(none.headers['x-content-type-options'], 'nosniff');
      assert.equal(none.headers['cross-origin-resource-policy'], 'cross-origin');
      const reader = await t.keyWith(['consume:shop.*']);
      assert.equal(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/ds/shop/orders',
            headers: { ...reader, 'content-type': 'text/plain' },
          })
        ).statusCode,
        403,
      );
      const writer = await t.keyWith(['produce:shop.orders']);
      const owner = await t.keyWith(['manage:shop.*']);
      assert.equal(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/ds/shop/orders',
            headers: { ...owner, 'content-type': 'text/plain' },
          })
        ).statusCode,
        201,
      );
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/ds/shop/orders',
            headers: { ...reader, 'content-type': 'text/plain' },
            payload: 'x',
          })
        ).statusCode,
        403,
      );
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/ds/shop/orders',
            headers: { ...writer, 'content-type': 'text/plain' },
            payload: 'hello ',
          })
        ).statusCode,
        204,
      );
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/ds/shop/other',
            headers: { ...writer, 'content-type': 'text/plain' },
            payload: 'x',
          })
        ).statusCode,
        403,
      );
      const read = await t.app.inject({ method: 'GET', url: '/ds/shop/orders?offset=-1', headers: reader });
      assert.equal(read.statusCode, 200);
      assert.equal(read.body, 'hello ');
      assert.equal((await t.app.inject({ method: 'DELETE', url: '/ds/shop/orders', headers: writer })).statusCode, 403);
      assert.equal((await t.app.inject({ method: 'DELETE', url: '/ds/shop/orders', headers: owner })).statusCode, 204);
    } finally {
      await t.close();
    }
  });

  it('opens to callers without a key only when told to, and then only on streams made without one', async () => {
    const t = await buildTestApp({ dialects: { durableStreams: { anonymous: true } } });
    try {
      assert.equal(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/ds/public/feed',
            headers: { 'content-type': 'application/json' },
            payload: '[{"n":1}]',
          })
        ).statusCode,
        201,
      );
      const anon = await t.app.inject({ method: 'GET', url: '/ds/public/feed' });
      assert.equal(anon.statusCode, 200);
      assert.deepEqual(anon.json(), [{ n: 1 }]);
      assert.equal(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/ds/private/ledger',
            headers: { ...t.admin, 'content-type': 'text/plain' },
          })
        ).statusCode,
        201,
      );
      for (const method of ['GET', 'HEAD', 'DELETE'] as const) {
        assert.equal((await t.app.inject({ method, url: '/ds/private/ledger' })).statusCode, 403, method);
      }
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/ds/private/ledger',
            headers: { 'content-type': 'text/plain' },
            payload: 'x',
          })
        ).statusCode,
        403,
      );
      // a key is still checked when one is sent
      const other = await t.keyWith(['consume:elsewhere']);
      assert.equal((await t.app.inject({ method: 'GET', url: '/ds/public/feed', headers: other })).statusCode, 403);
    } finally {
      await t.close();
    }
  });

  it('maps paths to stream names one to one and refuses paths that cannot map', async () => {
    const t = await buildTestApp();
    try {
      const put = (path: string, headers: Headers = {}) =>
        t.app.inject({
          method: 'PUT',
          url: `/ds/${path}`,
          headers: { ...t.admin, 'content-type': 'text/plain', ...headers },
        });
      for (const bad of ['a.b', 'a//b', '_sink/x', `${'x'.repeat(201)}`, 'a/b%20c']) {
        const res = await put(bad);
        assert.equal(res.statusCode, 400, `${bad}: ${res.body}`);
        assert.match(res.body, /segment|server|too long|stream/);
      }
      assert.equal((await put('tenant-1/orders~eu/v2')).statusCode, 201);
      // the same PUT at once from several clients: one creates, the others find it
      const racing = await Promise.all(Array.from({ length: 6 }, () => put('raced')));
      assert.deepEqual(racing.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 201]);
      const stream = await t.app.inject({ method: 'GET', url: '/v1/streams/tenant-1.orders~eu.v2', headers: t.admin });
      assert.equal(stream.statusCode, 200);
      assert.equal(stream.json().options.durableStreams.contentType, 'text/plain');
    } finally {
      await t.close();
    }
  });

  it('keeps bytes and JSON messages as events the native API reads, and a native stream reads as JSON mode', async () => {
    const t = await buildTestApp();
    try {
      const bytes = Buffer.from([0, 255, 1, 2]);
      assert.equal(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/ds/blobs',
            headers: { ...t.admin, 'content-type': 'application/octet-stream' },
            payload: bytes,
          })
        ).statusCode,
        201,
      );
      assert.equal(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/ds/notes',
            headers: { ...t.admin, 'content-type': 'text/plain; charset=utf-8' },
            payload: 'line one\n',
          })
        ).statusCode,
        201,
      );
      assert.equal(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/ds/msgs',
            headers: { ...t.admin, 'content-type': 'application/json' },
            payload: '[{"a":1},[2,3]]',
          })
        ).statusCode,
        201,
      );
      const events = async (name: string) =>
        (await t.app.inject({ method: 'GET', url: `/v1/streams/${name}/events?after=0`, headers: t.admin })).json()
          .events as { seq: number; type: string; data: unknown; meta?: Record<string, unknown> }[];
      const [blob] = await events('blobs');
      assert.equal(blob!.type, 'ds.bytes');
      assert.equal(blob!.data, bytes.toString('base64'));
      assert.deepEqual(blob!.meta, { datacontenttype: 'application/octet-stream', data_base64: true });
      const [note] = await events('notes');
      assert.equal(note!.data, 'line one\n');
      assert.deepEqual(note!.meta, { datacontenttype: 'text/plain; charset=utf-8' });
      assert.deepEqual(
        (await events('msgs')).map((e) => [e.seq, e.type, e.data]),
        [
          [1, 'ds.message', { a: 1 }],
          [2, 'ds.message', [2, 3]],
        ],
      );
      const back = await t.app.inject({ method: 'GET', url: '/ds/blobs', headers: t.admin });
      assert.deepEqual(back.rawPayload, bytes);

      // a stream made through the native API reads through /ds as JSON messages of its events' data
      await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'native' } });
      await t.app.inject({
        method: 'POST',
        url: '/v1/streams/native/events',
        headers: t.admin,
        payload: [
          { type: 'a', data: { x: 1 } },
          { type: 'b', data: 'y' },
        ],
      });
      const native = await t.app.inject({ method: 'GET', url: '/ds/native?offset=-1', headers: t.admin });
      assert.equal(native.headers['content-type'], 'application/json');
      assert.deepEqual(native.json(), [{ x: 1 }, 'y']);
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/ds/native',
            headers: { ...t.admin, 'content-type': 'application/json' },
            payload: '{"x":2}',
          })
        ).statusCode,
        204,
      );
    } finally {
      await t.close();
    }
  });

  it('holds JSON messages to the schemas registered on the stream', async () => {
    const t = await buildTestApp();
    try {
      await t.app.inject({
        method: 'PUT',
        url: '/ds/orders',
        headers: { ...t.admin, 'content-type': 'application/json' },
      });
      const schema = { type: 'object', required: ['order'], properties: { order: { type: 'integer' } } };
      const registered = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/schemas/ds.message',
        headers: t.admin,
        payload: schema,
      });
      assert.equal(registered.statusCode, 201, registered.body);
      const bad = await t.app.inject({
        method: 'POST',
        url: '/ds/orders',
        headers: { ...t.admin, 'content-type': 'application/json' },
        payload: '[{"order":1},{"order":"two"}]',
      });
      assert.equal(bad.statusCode, 422, bad.body);
      assert.match(bad.body, /order/);
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/ds/orders',
            headers: { ...t.admin, 'content-type': 'application/json' },
            payload: '[{"order":1},{"order":2}]',
          })
        ).statusCode,
        204,
      );
      assert.deepEqual((await t.app.inject({ method: 'GET', url: '/ds/orders', headers: t.admin })).json(), [
        { order: 1 },
        { order: 2 },
      ]);
    } finally {
      await t.close();
    }
  });

  it('answers 410 for an offset before what retention kept, and reads on from -1', async () => {
    const t = await buildTestApp();
    try {
      const post = (n: number) =>
        t.app.inject({
          method: 'POST',
          url: '/ds/metrics',
          headers: { ...t.admin, 'content-type': 'application/json' },
          payload: JSON.stringify({ n }),
        });
      await t.app.inject({
        method: 'PUT',
        url: '/ds/metrics',
        headers: { ...t.admin, 'content-type': 'application/json' },
      });
      const first = await post(1);
      for (let n = 2; n <= 5; n++) await post(n);
      await t.store.events.enforceRetention('metrics', { maxEvents: 2 }, Date.now());
      const gone = await t.app.inject({
        method: 'GET',
        url: `/ds/metrics?offset=${first.headers['stream-next-offset'] as string}`,
        headers: t.admin,
      });
      assert.equal(gone.statusCode, 410, gone.body);
      const kept = await t.app.inject({ method: 'GET', url: '/ds/metrics?offset=-1', headers: t.admin });
      assert.deepEqual(kept.json(), [{ n: 4 }, { n: 5 }]);
    } finally {
      await t.close();
    }
  });
});
