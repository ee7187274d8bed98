/** The native API end to end through inject(): streams, produce in every shape, idempotency, reads. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../support/test-app.js';

type Json = Record<string, unknown> & {
  events?: { id: string; seq: number; duplicate?: boolean; data?: unknown; type?: string }[];
};

describe('native API', () => {
  let t: TestApp;
  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, headers: { ...t.admin, ...headers }, payload: payload as string });
  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers: { ...t.admin, ...headers } });
  /** each test gets its own app over a fresh store, closed even when the test fails */
  const itApp = (name: string, body: () => Promise<void>, seed?: () => Promise<void>) =>
    it(name, async () => {
      t = await buildTestApp();
      try {
        await seed?.();
        await body();
      } finally {
        await t.close();
      }
    });

  describe('streams', () => {
    itApp('creates, describes with stats, updates, lists and deletes', async () => {
      const created = await post('/v1/streams', {
        name: 'crud',
        description: 'd',
        retention: { maxEvents: 100 },
        exclusiveProducer: false,
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.headers.location, '/v1/streams/crud');
      assert.equal(created.json().stats.count, 0);
      await post('/v1/streams/crud/events', [
        { type: 'a', data: 1, time: '2024-01-01T00:00:00Z' },
        { type: 'a', data: 2, time: '2024-01-02T00:00:00Z' },
      ]);
      const described = (await get('/v1/streams/crud')).json();
      assert.deepEqual([described.stats.count, described.stats.firstSeq, described.stats.lastSeq], [2, 1, 2]);
      assert.equal(described.stats.firstTime, '2024-01-01T00:00:00Z');
      assert.ok(described.stats.bytes > 0);
      const patched = await t.app.inject({
        method: 'PATCH',
        url: '/v1/streams/crud',
        headers: t.admin,
        payload: { description: 'new', version: 1 },
      });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().version, 2);
      const stale = await t.app.inject({
        method: 'PATCH',
        url: '/v1/streams/crud',
        headers: t.admin,
        payload: { description: 'stale', version: 1 },
      });
      assert.equal(stale.statusCode, 409);
      assert.equal(stale.json().code, 'CONFLICT');
      assert.equal(
        (await t.app.inject({ method: 'DELETE', url: '/v1/streams/crud', headers: t.admin })).statusCode,
        204,
      );
      const gone = await get('/v1/streams/crud');
      assert.equal(gone.statusCode, 404);
      assert.equal(gone.json().code, 'STREAM_NOT_FOUND');
      assert.equal(
        (await t.app.inject({ method: 'DELETE', url: '/v1/streams/crud', headers: t.admin })).statusCode,
        404,
      );
    });

    itApp('answers 409 for a duplicate name and 400 for an invalid one', async () => {
      await post('/v1/streams', { name: 'dup' });
      const again = await post('/v1/streams', { name: 'dup' });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().code, 'STREAM_EXISTS');
      for (const name of ['a/b', '.x', 'a..b', 'x'.repeat(201)]) {
        const bad = await post('/v1/streams', { name });
        assert.equal(bad.statusCode, 400, `${name}: ${bad.body}`);
        assert.match(bad.json().code, /INVALID_STREAM_NAME|VALIDATION_FAILED/);
        assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
      }
      const retention = await post('/v1/streams', { name: 'ret', retention: { maxEvents: 0 } });
      assert.equal(retention.statusCode, 400);
      assert.match(retention.json().pointer, /retention/);
    });

    itApp('lists a page at a time, with a prefix', async () => {
      for (const n of ['page.a', 'page.b', 'page.c', 'page.d', 'page.e']) await post('/v1/streams', { name: n });
      const first = (await get('/v1/streams?prefix=page.&limit=2')).json();
      assert.deepEqual(
        first.streams.map((s: { name: string }) => s.name),
        ['page.a', 'page.b'],
      );
      const second = (await get(`/v1/streams?prefix=page.&limit=2&after=${first.next}`)).json();
      assert.deepEqual(
        second.streams.map((s: { name: string }) => s.name),
        ['page.c', 'page.d'],
      );
      const last = (await get(`/v1/streams?prefix=page.&limit=2&after=${second.next}`)).json();
      assert.deepEqual(
        last.streams.map((s: { name: string }) => s.name),
        ['page.e'],
      );
      assert.equal(last.next, null);
    });

    itApp('shows a key only the streams its scopes reach', async () => {
      await post('/v1/streams', { name: 'vis.mine' });
      await post('/v1/streams', { name: 'vis.theirs' });
      const key = await t.keyWith(['consume:vis.mine']);
      const listed = (await get('/v1/streams?prefix=vis.', key)).json();
      assert.deepEqual(
        listed.streams.map((s: { name: string }) => s.name),
        ['vis.mine'],
      );
    });
  });

  describe('produce', () => {
    const seedP = async () => {
      await post('/v1/streams', { name: 'p' });
    };

    itApp(
      'takes one plain event or an array, and answers ids and seqs',
      async () => {
        const one = await post('/v1/streams/p/events', { type: 'a', data: { x: 1 } });
        assert.equal(one.statusCode, 201, one.body);
        const first = one.json() as Json;
        assert.equal(first.events![0]!.duplicate, false);
        const many = (await post('/v1/streams/p/events', [{ type: 'a' }, { type: 'b' }])).json() as Json;
        assert.deepEqual(
          many.events!.map((e) => e.seq),
          [first.events![0]!.seq + 1, first.events![0]!.seq + 2],
        );
      },
      seedP,
    );

    itApp(
      'takes CloudEvents structured and batch',
      async () => {
        const ce = { specversion: '1.0', id: 'ce-s-1', source: '/t', type: 'com.x', data: { a: 1 } };
        const structured = await post('/v1/streams/p/events', JSON.stringify(ce), {
          'content-type': 'application/cloudevents+json',
        });
        assert.equal(structured.statusCode, 201, structured.body);
        assert.equal((structured.json() as Json).events![0]!.id, 'ce-s-1');
        const batch = await post(
          '/v1/streams/p/events',
          JSON.stringify([
            { ...ce, id: 'ce-b-1' },
            { ...ce, id: 'ce-b-2' },
          ]),
          { 'content-type': 'application/cloudevents-batch+json' },
        );
        assert.equal(batch.statusCode, 201, batch.body);
        const notArray = await post('/v1/streams/p/events', JSON.stringify(ce), {
          'content-type': 'application/cloudevents-batch+json',
        });
        assert.equal(notArray.statusCode, 422);
        const missingId = await post('/v1/streams/p/events', JSON.stringify({ ...ce, id: undefined }), {
          'content-type': 'application/cloudevents+json',
        });
        assert.equal(missingId.statusCode, 422);
        assert.equal(missingId.json().pointer, '/id');
      },
      seedP,
    );

    itApp(
      'takes CloudEvents binary mode with JSON, text and bytes',
      async () => {
        const ceHeaders = (id: string) => ({
          'ce-specversion': '1.0',
          'ce-id': id,
          'ce-source': '/bin',
          'ce-type': 'com.bin',
        });
        const json = await post('/v1/streams/p/events', '{"k":[1,2]}', {
          ...ceHeaders('bin-json'),
          'content-type': 'application/json',
        });
        const text = await post('/v1/streams/p/events', 'plain words', {
          ...ceHeaders('bin-text'),
          'content-type': 'text/plain',
        });
        const bytes = await t.app.inject({
          method: 'POST',
          url: '/v1/streams/p/events',
          headers: { ...t.admin, ...ceHeaders('bin-bytes'), 'content-type': 'application/octet-stream' },
          payload: Buffer.from([0, 1, 255]),
        });
        for (const r of [json, text, bytes]) assert.equal(r.statusCode, 201, r.body);
        assert.deepEqual((await get('/v1/streams/p/events/bin-json')).json().data, { k: [1, 2] });
        assert.equal((await get('/v1/streams/p/events/bin-text')).json().data, 'plain words');
        const stored = (await get('/v1/streams/p/events/bin-bytes')).json();
        assert.equal(stored.data, Buffer.from([0, 1, 255]).toString('base64'));
        assert.equal(stored.meta.data_base64, true);
        const missing = await post('/v1/streams/p/events', 'x', {
          'ce-specversion': '1.0',
          'ce-source': '/bin',
          'ce-type': 't',
          'content-type': 'text/plain',
        });
        assert.equal(missing.statusCode, 422);
        assert.equal(missing.json().pointer, '/id');
      },
      seedP,
    );

    itApp(
      'de-duplicates by event id and replays an Idempotency-Key',
      async () => {
        await post('/v1/streams', { name: 'idem' });
        const first = (await post('/v1/streams/idem/events', [{ type: 't', id: 'fixed-1' }])).json() as Json;
        const retry = (
          await post('/v1/streams/idem/events', [
            { type: 't', id: 'fixed-1' },
            { type: 't', id: 'fixed-2' },
          ])
        ).json() as Json;
        assert.deepEqual(
          retry.events!.map((e) => [e.id, e.seq, e.duplicate]),
          [
            ['fixed-1', first.events![0]!.seq, true],
            ['fixed-2', 2, false],
          ],
        );
        const body = [{ type: 'k', data: 1 }];
        const original = await post('/v1/streams/idem/events', body, { 'idempotency-key': 'req-1' });
        assert.equal(original.headers['idempotent-replayed'], undefined);
        const replayed = await post('/v1/streams/idem/events', body, { 'idempotency-key': 'req-1' });
        assert.equal(replayed.statusCode, 201);
        assert.equal(replayed.headers['idempotent-replayed'], 'true');
        assert.deepEqual((replayed.json() as Json).events, (original.json() as Json).events);
        const reused = await post('/v1/streams/idem/events', [{ type: 'k', data: 2 }], { 'idempotency-key': 'req-1' });
        assert.equal(reused.statusCode, 422);
        assert.equal(reused.json().code, 'IDEMPOTENCY_KEY_REUSED');
        assert.equal((await get('/v1/streams/idem')).json().stats.count, 3);
        // binary mode: the bytes and the ce-* headers are part of what the key stands for
        const bin = (id: string, bytes: number[]) =>
          t.app.inject({
            method: 'POST',
            url: '/v1/streams/idem/events',
            headers: {
              ...t.admin,
              'idempotency-key': 'bin-1',
              'ce-specversion': '1.0',
              'ce-id': id,
              'ce-source': '/b',
              'ce-type': 't',
              'content-type': 'application/octet-stream',
            },
            payload: Buffer.from(bytes),
          });
        assert.equal((await bin('b1', [1, 2])).statusCode, 201);
        assert.equal((await bin('b1', [1, 2])).headers['idempotent-replayed'], 'true');
        assert.equal((await bin('b1', [3, 4])).statusCode, 422, 'other bytes');
        assert.equal((await bin('b2', [1, 2])).statusCode, 422, 'other attributes');
      },
      seedP,
    );

    itApp(
      'locks an exclusive stream to its first producer: another gets 423',
      async () => {
        await post('/v1/streams', { name: 'excl', exclusiveProducer: true });
        assert.equal(
          (await post('/v1/streams/excl/events', { type: 't' }, { 'x-producer-id': 'one' })).statusCode,
          201,
        );
        assert.equal(
          (await post('/v1/streams/excl/events', { type: 't' }, { 'x-producer-id': 'one' })).statusCode,
          201,
        );
        const other = await post('/v1/streams/excl/events', { type: 't' }, { 'x-producer-id': 'two' });
        assert.equal(other.statusCode, 423);
        assert.equal(other.json().code, 'PRODUCER_LOCKED');
        assert.equal((await get('/v1/streams/excl')).json().lockedBy, 'one');
      },
      seedP,
    );
  });

  describe('read', () => {
    const seedR = async () => {
      await post('/v1/streams', { name: 'r' });
      const events = Array.from({ length: 30 }, (_, i) => ({
        type: i % 2 ? 'odd' : 'even',
        id: `r-${i + 1}`,
        time: new Date(Date.UTC(2024, 0, 1, 0, i + 1)).toISOString(),
        data: i + 1,
      }));
      await post('/v1/streams/r/events', events);
    };
    const seqs = async (query: string) => {
      const res = await get(`/v1/streams/r/events${query}`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { events: { seq: number }[]; next: string | null };
      return { seqs: body.events.map((e) => e.seq), next: body.next };
    };

    itApp(
      'filters by after, from/to, type and limit',
      async () => {
        assert.deepEqual((await seqs('?after=27')).seqs, [28, 29, 30]);
        assert.deepEqual((await seqs('?from=2024-01-01T00:05:00Z&to=2024-01-01T00:07:00Z')).seqs, [5, 6, 7]);
        assert.deepEqual((await seqs('?from=2024-01-01&to=2024-01-01T00:02:00Z')).seqs, [1, 2]);
        assert.deepEqual((await seqs('?type=odd&limit=3')).seqs, [2, 4, 6]);
        assert.deepEqual((await seqs('?type=odd&type=even&limit=3&after=10')).seqs, [11, 12, 13]);
        assert.deepEqual((await seqs('?type=odd,even&limit=2')).seqs, [1, 2]);
      },
      seedR,
    );

    itApp(
      "answers a page framed around the store's own bytes as the renderer writes it, with short and long cursors",
      async () => {
        // many types make a cursor too long to fit beside the store's bytes: that page is put together instead
        const manyTypes = Array.from({ length: 40 }, (_, i) => `type=kind-${i}`).join('&');
        for (const query of [
          '?limit=5',
          '?limit=100',
          '?after=28&limit=5',
          '?after=30',
          `?${manyTypes}&type=odd&limit=3`,
        ]) {
          const res = await get(`/v1/streams/r/events${query}`);
          assert.equal(res.statusCode, 200, res.body);
          assert.equal(res.headers['content-type'], 'application/json');
          assert.equal(Number(res.headers['content-length']), res.rawPayload.byteLength, query);
          const body = res.json() as { events: unknown[]; next: string | null };
          assert.equal(res.body, JSON.stringify(body), query);
          if (body.next !== null) {
            const after = await get(`/v1/streams/r/events?cursor=${body.next}&limit=3`);
            assert.equal(after.statusCode, 200, after.body);
          }
        }
        assert.ok(
          ((await get(`/v1/streams/r/events?${manyTypes}&type=odd&limit=3`)).json().next as string).length > 256,
        );
      },
      seedR,
    );

    itApp(
      'pages with the cursor, keeping the filter',
      async () => {
        const walked: number[] = [];
        let page = await seqs('?type=even&limit=4');
        walked.push(...page.seqs);
        while (page.next) {
          page = await seqs(`?cursor=${page.next}&limit=4`);
          walked.push(...page.seqs);
        }
        assert.deepEqual(
          walked,
          Array.from({ length: 15 }, (_, i) => i * 2 + 1),
        );
      },
      seedR,
    );

    itApp(
      'answers CloudEvents when asked',
      async () => {
        const res = await get('/v1/streams/r/events?limit=2', { accept: 'application/cloudevents-batch+json' });
        assert.match(res.headers['content-type'] as string, /application\/cloudevents-batch\+json/);
        const body = res.json() as { specversion: string; id: string; data: number }[];
        assert.deepEqual(
          body.map((e) => [e.specversion, e.id, e.data]),
          [
            ['1.0', 'r-1', 1],
            ['1.0', 'r-2', 2],
          ],
        );
      },
      seedR,
    );

    itApp(
      'gets one event by id, 404 for an unknown one',
      async () => {
        const one = await get('/v1/streams/r/events/r-7');
        assert.equal(one.statusCode, 200);
        assert.deepEqual([one.json().seq, one.json().data, one.json().stream], [7, 7, 'r']);
        const missing = await get('/v1/streams/r/events/nope');
        assert.equal(missing.statusCode, 404);
        assert.equal(missing.json().code, 'EVENT_NOT_FOUND');
      },
      seedR,
    );

    itApp(
      'refuses bad read parameters with 400',
      async () => {
        for (const q of [
          '?limit=0',
          '?limit=100000',
          '?after=-1',
          '?from=yesterday',
          '?cursor=garbage',
          '?unknown=1',
        ]) {
          const res = await get(`/v1/streams/r/events${q}`);
          assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
          assert.ok(res.json().code, q);
        }
        assert.equal((await get('/v1/streams/none/events')).statusCode, 404);
      },
      seedR,
    );
  });
});
