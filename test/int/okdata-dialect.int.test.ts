/**
 * The okdata dialect (seed 000) over a listening app: the seed's curl commands run by the real
 * curl binary (verbatim apart from host and token; `-s -w` added to read the status), the
 * lifecycle and conflict rules with okdata's exact messages, history across day boundaries
 * and time zones, scopes, bad bodies, and the subscribable switch on live following.
 * The delivery engine runs: the processing step (raw → processed) is a real sink. The seed's
 * sink commands are in okdata-sinks.int.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { declaredRoutes } from '../../src/http/plugins/auth.js';
import { call, curl, expect, statusBecomes, until, withApp, type Listening } from '../support/okdata-app.js';

async function configVersion(t: Listening, stream: string): Promise<number> {
  const res = await t.app.inject({ method: 'GET', url: `/v1/streams/${stream}`, headers: t.admin });
  return res.json().options.okdata.configVersion;
}

describe('okdata dialect (seed 000): the seed curl commands', () => {
  it('creates a stream, refuses a second one, and reads history, as the seed shows', () =>
    withApp(async (t) => {
      const create = await curl(
        t,
        `curl -H "Authorization: bearer $TOKEN" -H "Content-Type: application/json" --data '{}' -XPOST http://127.0.0.1:8080/renovasjonsbiler-status/1`,
      );
      assert.equal(create.status, 201, JSON.stringify(create.body));
      const created = create.body as Record<string, unknown>;
      assert.deepEqual(Object.keys(created).sort(), [
        'create_raw',
        'deleted',
        'id',
        'status',
        'updated_at',
        'updated_by',
      ]);
      assert.deepEqual(
        [created.id, created.create_raw, created.deleted, created.updated_by],
        ['renovasjonsbiler-status/1', true, false, 'admin'],
      );
      // ACTIVE once a process runs its processing step
      assert.ok(['CREATE_IN_PROGRESS', 'ACTIVE'].includes(String(created.status)), String(created.status));
      assert.ok(!Number.isNaN(Date.parse(String(created.updated_at))));
      await statusBecomes(t, '/renovasjonsbiler-status/1', 'ACTIVE');

      const again = await curl(
        t,
        `curl -H "Authorization: bearer $TOKEN" -H "Content-Type: application/json" --data '{}' -XPOST http://127.0.0.1:8080/renovasjonsbiler-status/1`,
      );
      assert.deepEqual(again, {
        status: 409,
        body: { message: 'Event stream with id renovasjonsbiler-status/1 already exist' },
      });
      const underStreams = await curl(
        t,
        `curl -H "Authorization: bearer $TOKEN" -H "Content-Type: application/json" --data '{}' -XPOST http://127.0.0.1:8080/streams/renovasjonsbiler-status/1`,
      );
      assert.equal(underStreams.status, 409, 'the /streams mount is the same API');

      // an okdata stream is two ordinary streams
      for (const name of ['okdata.renovasjonsbiler-status.raw.1', 'okdata.renovasjonsbiler-status.processed.1']) {
        assert.equal(
          (await t.app.inject({ method: 'GET', url: `/v1/streams/${name}`, headers: t.admin })).statusCode,
          200,
          name,
        );
      }
      // posted events land in the raw stream; the processing step carries them to the processed
      // stream, which history reads (time from `timestamp`)
      const posted = [
        { timestamp: '2020-10-17T22:00:00Z', bil: 'A' },
        { timestamp: '2020-10-18T08:00:00Z', bil: 'B' },
        { timestamp: '2020-10-19T21:00:00Z', bil: 'C' },
        { timestamp: '2020-10-20T00:00:00Z', bil: 'D' },
      ];
      expect(await call(t, 'POST', '/renovasjonsbiler-status/1/events', { body: posted }), 200, null);
      const history = await until('history to see the processed events', async () => {
        const res = await curl(
          t,
          `curl -H "Authorization: bearer $TOKEN" "http://127.0.0.1:8080/streams/renovasjonsbiler-status/1/events?from_date=2020-10-18&to_date=2020-10-19"`,
        );
        return res.status === 200 ? res : undefined;
      });
      assert.deepEqual(history, { status: 200, body: { values: [posted[1], posted[2]], page: 1, total_pages: 1 } });
    }));

  it('answers okdata-shaped 401 and 403, and maps read/write/update to consume/produce/manage', () =>
    withApp(async (t) => {
      const none = await curl(t, `curl -XGET http://127.0.0.1:8080/some-dataset/1`);
      assert.deepEqual(none, { status: 401, body: { message: 'Not authenticated' } });
      const wrong = await curl(
        t,
        `curl -H "Authorization: bearer $TOKEN" -XGET http://127.0.0.1:8080/some-dataset/1`,
        'rvl_not-a-key',
      );
      assert.deepEqual(wrong, { status: 401, body: { message: 'Invalid access token' } });

      const reader = await t.keyWith(['consume:okdata.some-dataset.processed.*']);
      const writer = await t.keyWith(['produce:okdata.some-dataset.raw.*']);
      const owner = await t.keyWith(['manage:okdata.some-dataset.*'], 'dataset-owner');
      expect(await call(t, 'POST', '/some-dataset/1', { body: {}, headers: reader }), 403, { message: 'Forbidden' });
      expect(await call(t, 'POST', '/some-dataset/1', { body: {}, headers: writer }), 403, { message: 'Forbidden' });
      const created = await call(t, 'POST', '/some-dataset/1', { body: {}, headers: owner });
      expect(created, 201);
      assert.equal((created.body as { updated_by: string }).updated_by, 'dataset-owner');
      expect(await call(t, 'POST', '/some-dataset/1/events', { body: [{ a: 1 }], headers: writer }), 200, null);
      expect(await call(t, 'POST', '/some-dataset/1/events', { body: [{ a: 1 }], headers: reader }), 403, {
        message: 'Forbidden',
      });
      expect(
        await call(t, 'GET', '/some-dataset/1/events?from_date=2020-01-01&to_date=2020-01-02', { headers: writer }),
        403,
        { message: 'Forbidden' },
      );
      expect(await call(t, 'GET', '/some-dataset/1/subscribable', { headers: reader }), 200);
      expect(await call(t, 'PUT', '/some-dataset/1/subscribable', { body: { enabled: true }, headers: reader }), 403, {
        message: 'Forbidden',
      });
      expect(await call(t, 'DELETE', '/some-dataset/1', { headers: reader }), 403, { message: 'Forbidden' });
      expect(await call(t, 'GET', '/some-dataset/1', { headers: owner }), 200);
    }));
});

describe('okdata dialect: lifecycle and conflicts', () => {
  it('goes ACTIVE → DELETE → INACTIVE, refuses what okdata refused, and counts config versions across a re-creation', () =>
    withApp(async (t) => {
      const P = 'okdata.parking-sensors.processed.2';
      expect(await call(t, 'GET', '/parking-sensors/2'), 404, { message: 'Could not find stream: parking-sensors/2' });
      expect(await call(t, 'DELETE', '/parking-sensors/2'), 404, {
        message: 'Event stream with id parking-sensors/2 does not exist',
      });
      expect(await call(t, 'GET', '/parking-sensors/2/subscribable'), 404, {
        message: 'Event stream with id parking-sensors/2 does not exist',
      });
      expect(await call(t, 'POST', '/parking-sensors/2/events', { body: [{}] }), 404, {
        message: 'Event stream with id parking-sensors/2 does not exist',
      });

      expect(
        await call(t, 'POST', '/streams/parking-sensors/2', { body: { create_raw: true, accessRights: 'restricted' } }),
        201,
      );
      const stream = await statusBecomes(t, '/parking-sensors/2', 'ACTIVE');
      assert.deepEqual(
        [stream.status, stream.deleted, stream.accessRights, stream.confidentiality],
        ['ACTIVE', false, 'restricted', 'yellow'],
      );
      assert.equal(await configVersion(t, P), 1);
      expect(await call(t, 'PUT', '/parking-sensors/2', { body: {} }), 501, { message: null });

      const sub = await call(t, 'GET', '/parking-sensors/2/subscribable');
      expect(sub, 200);
      assert.deepEqual(
        [
          (sub.body as Record<string, unknown>).enabled,
          (sub.body as Record<string, unknown>).status,
          (sub.body as Record<string, unknown>).updated_by,
        ],
        [false, 'INACTIVE', null],
      );
      expect(await call(t, 'PUT', '/parking-sensors/2/subscribable', { body: { enabled: false } }), 409, {
        message: 'Event stream with id parking-sensors/2 is not currently subscribable',
      });
      const on = await call(t, 'PUT', '/parking-sensors/2/subscribable', { body: { enabled: true } });
      expect(on, 200);
      assert.deepEqual(
        [
          (on.body as Record<string, unknown>).enabled,
          (on.body as Record<string, unknown>).status,
          (on.body as Record<string, unknown>).updated_by,
        ],
        [true, 'ACTIVE', 'admin'],
      );
      expect(await call(t, 'PUT', '/parking-sensors/2/subscribable', { body: { enabled: true } }), 409, {
        message: 'Event stream with id parking-sensors/2 is already subscribable',
      });
      expect(await call(t, 'DELETE', '/parking-sensors/2'), 409, {
        message:
          'Event stream with id parking-sensors/2 contains sub-resources. Delete all related event-sinks and disable event subscription',
      });
      expect(await call(t, 'PUT', '/parking-sensors/2/subscribable', { body: { enabled: false } }), 200);
      assert.equal(await configVersion(t, P), 3);

      expect(await call(t, 'DELETE', '/parking-sensors/2'), 200, {
        message: 'Deleted event stream with id parking-sensors/2',
      });
      const deleted = await call(t, 'GET', '/parking-sensors/2');
      expect(deleted, 200);
      assert.deepEqual(
        [(deleted.body as Record<string, unknown>).deleted, (deleted.body as Record<string, unknown>).status],
        [true, 'INACTIVE'],
      );
      for (const name of [P, 'okdata.parking-sensors.raw.2']) {
        assert.equal(
          (await t.app.inject({ method: 'GET', url: `/v1/streams/${name}`, headers: t.admin })).statusCode,
          404,
          `${name} is gone`,
        );
      }
      expect(await call(t, 'DELETE', '/parking-sensors/2'), 404, {
        message: 'Event stream with id parking-sensors/2 does not exist',
      });
      expect(await call(t, 'PUT', '/parking-sensors/2/subscribable', { body: { enabled: true } }), 404, {
        message: 'Event stream with id parking-sensors/2 does not exist',
      });

      const recreated = await call(t, 'POST', '/parking-sensors/2');
      expect(recreated, 201);
      assert.equal((recreated.body as Record<string, unknown>).deleted, false);
      assert.equal(await configVersion(t, P), 5, 'create 1, enable 2, disable 3, delete 4, re-create 5');
      assert.equal(
        ((await call(t, 'GET', '/parking-sensors/2')).body as Record<string, unknown>).accessRights,
        'restricted',
        'kept across the deletion',
      );
    }));

  it('reports OPERATION_FAILED from the real state, and then refuses to become subscribable', () =>
    withApp(async (t) => {
      // a stream of the raw name that okdata does not own: creation cannot finish
      expect(await call(t, 'POST', '/v1/streams', { body: { name: 'okdata.taken-name.raw.1' } }), 201);
      const failed = await call(t, 'POST', '/taken-name/1', { body: {} });
      expect(failed, 201);
      assert.equal((failed.body as Record<string, unknown>).status, 'OPERATION_FAILED');
      expect(await call(t, 'PUT', '/taken-name/1/subscribable', { body: { enabled: true } }), 409, {
        message: 'Event stream with id taken-name/1 is not ready',
      });

      // an ACTIVE stream whose raw stream was deleted underneath it has failed
      expect(await call(t, 'POST', '/lost-raw/1', { body: {} }), 201);
      await statusBecomes(t, '/lost-raw/1', 'ACTIVE');
      assert.equal((await call(t, 'DELETE', '/v1/streams/okdata.lost-raw.raw.1')).status, 204);
      assert.equal(((await call(t, 'GET', '/lost-raw/1')).body as Record<string, unknown>).status, 'OPERATION_FAILED');
      expect(await call(t, 'PUT', '/lost-raw/1/subscribable', { body: { enabled: true } }), 409, {
        message: 'Event stream with id lost-raw/1 is not ready',
      });
    }));
});

describe('okdata dialect: events and bad input', () => {
  it('writes a JSON array of objects into the raw stream, verbatim, timed by the timestamp field', () =>
    withApp(async (t) => {
      expect(await call(t, 'POST', '/besoksdata/1', { body: { timestamp_field: 'tidspunkt' } }), 201);
      const event = {
        tidspunkt: '2020-06-02T09:48:58+02:00',
        plasseringId: 1,
        sensorId: 1,
        stasjonId: 41,
        stasjon: 'haraldrud-gjenbruk',
      };
      expect(await call(t, 'POST', '/besoksdata/1/events', { body: [event, { stasjonId: 42 }] }), 200, null);
      expect(await call(t, 'POST', '/besoksdata/1/events', { body: [] }), 200, null);
      const raw = (
        await t.app.inject({ method: 'GET', url: '/v1/streams/okdata.besoksdata.raw.1/events', headers: t.admin })
      ).json().events as { data: unknown; time: string; type: string }[];
      assert.equal(raw.length, 2);
      assert.deepEqual(raw[0]!.data, event);
      assert.equal(raw[0]!.time, '2020-06-02T07:48:58.000Z');
      assert.equal(raw[0]!.type, 'okdata.event');
      assert.ok(Date.now() - Date.parse(raw[1]!.time) < 60_000, 'no timestamp: filed under the time it arrived');
    }));

  it('answers 422 to bad bodies and parameters, writing nothing', () =>
    withApp(async (t) => {
      expect(await call(t, 'POST', '/bad-input/1', { raw: '{"create_raw":' }), 422);
      expect(await call(t, 'POST', '/bad-input/1', { body: { create_raw: 'perhaps' } }), 422);
      expect(await call(t, 'POST', '/bad-input/1', { body: [1] }), 422);
      expect(await call(t, 'POST', '/streams/AB/1', { body: {} }), 422);
      expect(await call(t, 'POST', '/streams/bad-input/1.0', { body: {} }), 422);
      expect(await call(t, 'POST', '/bad-input/1', { body: {} }), 201);
      expect(await call(t, 'PUT', '/bad-input/1/subscribable', { body: {} }), 422);
      expect(await call(t, 'PUT', '/bad-input/1/subscribable', { body: { enabled: 'yes please' } }), 422);
      for (const body of [{ a: 1 }, [1, 2], [{ a: 1 }, 'x'], [{ a: 1 }, null], 'text']) {
        const res = await call(t, 'POST', '/bad-input/1/events', { body });
        expect(res, 422);
        assert.equal(typeof (res.body as { message: unknown }).message, 'string');
      }
      const raw = (
        await t.app.inject({ method: 'GET', url: '/v1/streams/okdata.bad-input.raw.1', headers: t.admin })
      ).json();
      assert.equal(raw.stats.count, 0, 'nothing was written');
      for (const query of [
        'to_date=2020-01-01',
        'from_date=2020-01-01',
        'from_date=yesterday&to_date=2020-01-01',
        'from_date=2020-02-30&to_date=2020-03-01',
        'from_date=2020-01-01&to_date=2020-01-02&page=0',
        'from_date=2020-01-01&to_date=2020-01-02&page_size=10001',
        'from_date=2020-01-01&to_date=2020-01-02&page_size=x',
      ]) {
        expect(await call(t, 'GET', `/streams/bad-input/1/events?${query}`), 422);
      }
      // the root mount leaves the native API's namespace alone
      const native = await call(t, 'GET', '/v1/nothing-here');
      assert.equal(native.status, 404);
      assert.equal((native.body as { code: string }).code, 'NOT_FOUND');
      expect(await call(t, 'GET', '/streams/bad-input/1/nothing'), 404, { message: 'Not Found' });
    }));
});

describe('okdata dialect: the two mounts', () => {
  it("serves datasets named like another API's first path segment under /streams", () =>
    withApp(async (t) => {
      const firsts = new Set(
        declaredRoutes(t.app)
          .map((r) => r.url.split('/')[1] ?? '')
          .filter((s) => /^[a-z0-9-]{3,70}$/.test(s)),
      );
      assert.ok(firsts.has('streams') && firsts.has('healthz'), [...firsts].join(' '));
      for (const name of firsts) {
        expect(await call(t, 'POST', `/streams/${name}/1`, { body: {} }), 201);
        expect(await call(t, 'GET', `/streams/${name}/1/subscribable`), 200);
      }
      // at the root the other APIs keep their paths: /healthz/1 is still okdata's, /healthz is not
      expect(await call(t, 'GET', '/healthz/1'), 200);
      assert.equal((await fetch(`${t.base}/healthz`)).status, 200);
    }));
});

describe('okdata dialect: history', () => {
  it('selects by inclusive UTC dates or exact date-times, across midnight and offsets, in pages', () =>
    withApp(async (t) => {
      // without a raw stream events go straight to the processed stream, which history reads
      expect(await call(t, 'POST', '/tidssone/1', { body: { create_raw: false } }), 201);
      const events = [
        { id: 'a', timestamp: '2020-10-17T23:59:59.999Z' },
        { id: 'b', timestamp: '2020-10-18T00:00:00Z' },
        { id: 'c', timestamp: '2020-10-18T01:30:00+02:00' }, // 2020-10-17T23:30Z: the 17th in UTC
        { id: 'd', timestamp: '2020-10-19T23:59:59Z' },
        { id: 'e', timestamp: '2020-10-20T00:30:00+02:00' }, // 2020-10-19T22:30Z: the 19th in UTC
        { id: 'f', timestamp: '2020-10-20T00:00:00Z' },
        { id: 'g', timestamp: 1603065600000 }, // 2020-10-19T00:00:00Z
        { id: 'h', timestamp: '2020-10-18T12:00:00' }, // no offset: UTC, as the search cluster read it
      ];
      expect(await call(t, 'POST', '/tidssone/1/events', { body: events }), 200, null);
      const ids = async (query: string) => {
        const res = await call(t, 'GET', `/streams/tidssone/1/events?${query}`);
        expect(res, 200);
        const body = res.body as { values: { id: string }[]; page: number; total_pages: number };
        return { ids: body.values.map((v) => v.id).join(''), page: body.page, pages: body.total_pages };
      };
      assert.deepEqual(await ids('from_date=2020-10-18&to_date=2020-10-19'), { ids: 'bdegh', page: 1, pages: 1 });
      assert.deepEqual(await ids('from_date=2020-10-17&to_date=2020-10-17'), { ids: 'ac', page: 1, pages: 1 });
      assert.deepEqual(
        await ids('from_date=2020-10-18T01:30:00%2B02:00&to_date=2020-10-18T00:00:00Z'),
        { ids: 'abc', page: 1, pages: 1 },
        'date-time bounds are exact and inclusive',
      );
      assert.deepEqual(
        await ids('from_date=2020-10-20T00:00:00%2B01:00&to_date=2020-10-20'),
        { ids: 'df', page: 1, pages: 1 },
        'e is 2020-10-19T22:30Z, before the bound',
      );
      assert.deepEqual(await ids('from_date=2020-10-17&to_date=2020-10-20&page_size=3'), {
        ids: 'abc',
        page: 1,
        pages: 3,
      });
      assert.deepEqual(await ids('from_date=2020-10-17&to_date=2020-10-20&page_size=3&page=3'), {
        ids: 'gh',
        page: 3,
        pages: 3,
      });
      const none = { message: 'Could not find event: tidssone/1' };
      expect(
        await call(t, 'GET', '/streams/tidssone/1/events?from_date=2020-10-17&to_date=2020-10-20&page_size=3&page=4'),
        400,
        none,
      );
      expect(await call(t, 'GET', '/streams/tidssone/1/events?from_date=2020-10-21&to_date=2020-10-22'), 400, none);
      expect(await call(t, 'GET', '/streams/tidssone/1/events?from_date=2020-10-19&to_date=2020-10-18'), 400, none);
      expect(await call(t, 'GET', '/tidssone/1/events?from_date=2020-10-18&to_date=2020-10-18'), 200, {
        values: [events[1], events[7]],
        page: 1,
        total_pages: 1,
      });
      expect(await call(t, 'GET', '/streams/no-such-stream/1/events?from_date=2020-10-18&to_date=2020-10-18'), 400, {
        message: 'Could not find event: no-such-stream/1',
      });
    }));
});

describe('okdata dialect: the subscribable switch governs live following', () => {
  it('refuses SSE and WebSocket until subscribable, delivers once on, and ends followers when turned off', () =>
    withApp(async (t) => {
      expect(await call(t, 'POST', '/live-data/1', { body: { create_raw: false } }), 201);
      const reader = await t.keyWith(['consume:okdata.live-data.processed.*']);
      const live = `${t.base}/v1/streams/okdata.live-data.processed.1/live`;
      const sse = await fetch(live, { headers: { ...reader, accept: 'text/event-stream' } });
      assert.equal(sse.status, 403);
      assert.equal(((await sse.json()) as { code: string }).code, 'FORBIDDEN');
      // the raw stream of an okdata stream obeys the same switch, for any key
      expect(await call(t, 'POST', '/live-raw/1', { body: {} }), 201);
      const raw = await fetch(`${t.base}/v1/streams/okdata.live-raw.raw.1/live`, {
        headers: { ...t.admin, accept: 'text/event-stream' },
      });
      assert.equal(raw.status, 403);
      await raw.body?.cancel();

      const refused = new WebSocket(live.replace('http', 'ws'), { headers: reader });
      const refusedStatus = await new Promise<number>((resolve, reject) => {
        refused.once('unexpected-response', (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        refused.once('open', () => reject(new Error('opened while not subscribable')));
        refused.once('error', () => {});
      });
      assert.equal(refusedStatus, 403);
      refused.terminate();

      expect(await call(t, 'PUT', '/live-data/1/subscribable', { body: { enabled: true } }), 200);
      const socket = new WebSocket(live.replace('http', 'ws'), { headers: reader });
      const messages: Record<string, unknown>[] = [];
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      const first = new Promise<void>((resolve) =>
        socket.on('message', (raw) => {
          messages.push(JSON.parse(String(raw)) as Record<string, unknown>);
          resolve();
        }),
      );
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      expect(
        await call(t, 'POST', '/live-data/1/events', { body: [{ timestamp: '2021-01-01T00:00:00Z', n: 1 }] }),
        200,
        null,
      );
      await first;
      assert.deepEqual(messages[0]!.data, { timestamp: '2021-01-01T00:00:00Z', n: 1 });

      expect(await call(t, 'PUT', '/live-data/1/subscribable', { body: { enabled: false } }), 200);
      await closed;
      assert.equal(messages.at(-1)!.kind, 'error');
      assert.equal(messages.at(-1)!.code, 'FORBIDDEN');
    }));
});
