/**
 * Owners cannot see each other's streams, sinks or specs. Two owners, alice and bob, each hold
 * `manage` on their own stream prefix (and on the shared iFLUX stream, which rules need); bob
 * builds a stream with events, a schema, a consumer, a sink, a spec, an okdata stream, an
 * aether job and the iFLUX resources (event source, event type, action target, rule). Alice then
 * tries every route that reads or changes them, on the native API and the dialects, and must be
 * refused each time (403 or 404, or the dialect's own refusal) without any of bob's names or data
 * in the answer; listings must leave bob's things out. Each refusal is paired with the same call
 * on alice's own things answering 2xx, so a route that refused everyone would fail the test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDelivery } from '../../src/delivery/delivery-setup.js';
import { buildTestApp, type TestApp } from '../support/test-app.js';

/** a word that appears only in bob's data, descriptions and names' content */
const MARK = 'bobsecretmarker';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

async function call(t: TestApp, headers: Record<string, string>, method: Method, url: string, payload?: unknown) {
  const res = await t.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { status: res.statusCode, text: res.body, json: () => JSON.parse(res.body) as Record<string, unknown> };
}

async function ok(t: TestApp, headers: Record<string, string>, method: Method, url: string, payload?: unknown) {
  const res = await call(t, headers, method, url, payload);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${url} as its owner: ${res.status} ${res.text}`);
  return res;
}

/** alice is refused, and the refusal tells nothing of bob's things */
async function refused(
  t: TestApp,
  alice: Record<string, string>,
  method: Method,
  url: string,
  payload?: unknown,
  allowed = [401, 403, 404],
) {
  const res = await call(t, alice, method, url, payload);
  assert.ok(allowed.includes(res.status), `${method} ${url} by another owner answered ${res.status}: ${res.text}`);
  assert.ok(!res.text.includes(MARK), `${method} ${url}: the refusal shows bob's data: ${res.text}`);
  return res;
}

/** one owner's world, created through the API with that owner's key */
async function world(t: TestApp, who: 'alice' | 'bob', key: Record<string, string>, receiver: string) {
  const s = `${who}.orders`;
  const mark = who === 'bob' ? MARK : 'alicedata';
  await ok(t, key, 'POST', '/v1/streams', { name: s, description: `${who} ${mark}` });
  await ok(t, key, 'POST', `/v1/streams/${s}/events`, [
    { id: `${who}-e1`, type: 'order.placed', data: { note: mark } },
  ]);
  await ok(t, key, 'POST', `/v1/streams/${s}/schemas/order.placed`, { schema: { type: 'object' } });
  await ok(t, key, 'POST', `/v1/streams/${s}/consumers`, { name: 'c1', start: { from: 'beginning' } });
  await ok(t, key, 'POST', '/v1/sinks', {
    id: `${who}-hook`,
    description: mark,
    streams: [s],
    target: { kind: 'http', url: `${receiver}/${who}` },
    state: 'paused',
  });
  await ok(t, key, 'POST', '/v1/specs', {
    meta: { owner: who, dataset: 'shop' },
    streams: [{ name: `${who}.shop`, description: mark }],
  });
  await ok(t, key, 'POST', '/v1/event-sources', { id: `${who}-src`, name: mark, publicId: `${who}-public` });
  await ok(t, key, 'POST', '/v1/event-types', { id: `${who}-type`, type: `/eventTypes/${who}Type`, name: mark });
  await ok(t, key, 'POST', '/v1/action-targets', { id: `${who}-lamp`, name: mark, url: `${receiver}/${who}-lamp` });
  await ok(t, key, 'POST', '/v1/rules', {
    id: `${who}-rule`,
    name: mark,
    conditions: [{ eventTypeId: `${who}-type` }],
    actions: [{ actionTargetId: `${who}-lamp`, actionTypeId: 'blink' }],
  });
  await ok(t, key, 'POST', `/job/${who}-job`, {
    type: 'post',
    topic: [s],
    url: `${receiver}/${who}-job/{id}`,
    datamap: { id: '$.msg.id' },
  });
  await ok(t, key, 'POST', '/streams/' + `${who}set/1`, { confidentiality: 'green' });
  await ok(t, key, 'POST', `/${who}set/1/events`, [{ note: mark }]);
}

async function setup() {
  const delivery = createDelivery({ allowLoopback: true });
  const t = await buildTestApp({
    core: { sinkChecks: delivery.checks, rulesStream: 'iflux' },
    dialects: { iflux: { stream: 'iflux', anonymous: false } },
  });
  const scopes = (who: string) => [`manage:${who}.*`, `manage:okdata.${who}set.*`, 'manage:iflux'];
  const alice = await t.keyWith(scopes('alice'), 'alice');
  const bob = await t.keyWith(scopes('bob'), 'bob');
  // the engine is not started: nothing here is about delivery, only about who sees what
  await world(t, 'bob', bob, 'http://127.0.0.1:9');
  await world(t, 'alice', alice, 'http://127.0.0.1:9');
  return { t, alice, bob };
}

/** every route that touches a stream named `s` (and a consumer c1 on it) */
function streamCalls(s: string): [Method, string, unknown?][] {
  return [
    ['GET', `/v1/streams/${s}`],
    ['PATCH', `/v1/streams/${s}`, { description: 'taken over' }],
    ['GET', `/v1/streams/${s}/events?after=0`],
    ['GET', `/v1/streams/${s}/events/${s.split('.')[0]}-e1`],
    ['POST', `/v1/streams/${s}/events`, { type: 'order.placed', data: {} }],
    ['POST', `/v1/streams/${s}/validate`, { type: 'order.placed', data: {} }],
    ['GET', `/v1/streams/${s}/schemas`],
    ['GET', `/v1/streams/${s}/schemas/order.placed`],
    ['GET', `/v1/streams/${s}/schemas/order.placed/versions/1`],
    ['POST', `/v1/streams/${s}/schemas/other.type`, { schema: { type: 'object' } }],
    ['PUT', `/v1/streams/${s}/schemas/order.placed/compatibility`, { compatibility: 'NONE' }],
    ['GET', `/v1/streams/${s}/consumers`],
    ['POST', `/v1/streams/${s}/consumers`, { name: 'c2' }],
    ['GET', `/v1/streams/${s}/consumers/c1`],
    ['GET', `/v1/streams/${s}/consumers/c1/lag`],
    ['GET', `/v1/streams/${s}/consumers/c1/events`],
    ['POST', `/v1/streams/${s}/consumers/c1/receive`, { max: 10 }],
    ['POST', `/v1/streams/${s}/consumers/c1/commit`, { seq: 1 }],
    ['POST', `/v1/streams/${s}/consumers/c1/seek`, { from: 'beginning' }],
    ['GET', `/v1/streams/${s}/rates`],
    ['GET', `/v1/streams/${s}/live?after=0`],
    ['POST', '/v1/live-tokens', { stream: s }],
    ['GET', `/api/v1/streams/${s}/events`],
    [
      'POST',
      `/api/v1/streams/${s}/events`,
      { specversion: '1.0', id: 'x1', source: '/x', type: 'order.placed', data: {} },
    ],
  ];
}

describe('owner isolation', () => {
  it('streams: another owner cannot list, read, describe, produce to, consume, follow live or manage them', async () => {
    const { t, alice, bob } = await setup();
    try {
      // listings show only what the key may see
      const listed = (await ok(t, alice, 'GET', '/v1/streams?limit=1000')).json().streams as { name: string }[];
      const names = listed.map((s) => s.name);
      assert.ok(names.includes('alice.orders'), `alice sees her stream: ${names.join(', ')}`);
      assert.deepEqual(
        names.filter((n) => n.startsWith('bob') || n.includes('bobset')),
        [],
        'no stream of bob is listed to alice',
      );
      assert.ok(!JSON.stringify(listed).includes(MARK));
      assert.deepEqual((await ok(t, alice, 'GET', '/v1/streams?prefix=bob')).json().streams, []);
      const rates = await ok(t, alice, 'GET', '/v1/rates');
      assert.ok(!rates.text.includes('bob.'), `the rates overview names bob's streams: ${rates.text}`);

      for (const [method, url, payload] of streamCalls('bob.orders')) {
        await refused(t, alice, method, url, payload);
        // a live subscription on her own stream would stay open: inject() waits for the end
        if (url.includes('/live')) continue;
        // the same call on her own stream is allowed: the refusal is about the owner, not the route
        const own = await call(
          t,
          alice,
          method,
          url.replaceAll('bob', 'alice'),
          payload === undefined ? undefined : JSON.parse(JSON.stringify(payload).replaceAll('bob', 'alice')),
        );
        assert.ok(
          ![401, 403, 404].includes(own.status),
          `${method} ${url.replaceAll('bob', 'alice')} by its owner: ${own.status} ${own.text}`,
        );
      }
      // consumer settlement with a token bob received
      const got = (await ok(t, bob, 'POST', '/v1/streams/bob.orders/consumers/c1/receive', { max: 1 })).json()
        .deliveries as { leaseToken: string }[];
      const tokens = got.map((d) => d.leaseToken);
      assert.equal(tokens.length, 1);
      for (const op of ['ack', 'nack', 'release', 'extend'])
        await refused(t, alice, 'POST', `/v1/streams/bob.orders/consumers/c1/${op}`, { tokens });
      await refused(t, alice, 'DELETE', '/v1/streams/bob.orders/consumers/c1');
      await refused(t, alice, 'DELETE', '/v1/streams/bob.orders/schemas/order.placed/versions/1');
      await refused(t, alice, 'DELETE', '/v1/streams/bob.orders');

      // okdata: bob's dataset is "not authorised" to alice on every route
      for (const [method, url, payload] of [
        ['GET', '/bobset/1'],
        ['GET', '/streams/bobset/1'],
        ['DELETE', '/bobset/1'],
        ['GET', '/bobset/1/events?from_date=2020-01-01&to_date=2100-01-01'],
        ['POST', '/bobset/1/events', [{ x: 1 }]],
        ['GET', '/bobset/1/subscribable'],
        ['PUT', '/bobset/1/subscribable', { subscribable: false }],
        ['GET', '/bobset/1/sinks'],
        ['POST', '/bobset/1/sinks', { type: 's3' }],
      ] as [Method, string, unknown?][]) {
        await refused(t, alice, method, url, payload);
      }
      await ok(t, alice, 'GET', '/aliceset/1');
      await ok(t, alice, 'GET', '/aliceset/1/sinks');

      // bob's things are all still there, untouched
      const still = (await ok(t, bob, 'GET', '/v1/streams/bob.orders')).json();
      assert.equal(still.description, `bob ${MARK}`);
      assert.equal(
        (await ok(t, bob, 'GET', '/v1/streams/bob.orders/events?after=0')).json().events instanceof Array,
        true,
      );
      assert.equal(
        ((await ok(t, bob, 'GET', '/v1/streams/bob.orders/events?after=0')).json().events as unknown[]).length,
        1,
      );
      assert.equal((await ok(t, bob, 'GET', '/v1/streams/bob.orders/consumers/c1')).json().committedSeq, 0);
    } finally {
      await t.close();
    }
  });

  it("sinks, specs, rules and their parts, aether jobs: another owner's are not found, and not listed", async () => {
    const { t, alice, bob } = await setup();
    try {
      const lists: [string, string][] = [
        ['/v1/sinks?limit=1000', 'sinks'],
        ['/v1/rules', 'rules'],
        ['/v1/event-sources', 'eventSources'],
        ['/v1/event-types', 'eventTypes'],
        ['/v1/action-targets', 'actionTargets'],
        ['/v1/specs', 'datasets'],
      ];
      for (const [url, field] of lists) {
        const res = await ok(t, alice, 'GET', url);
        const items = res.json()[field] as { owner?: string }[];
        assert.ok(Array.isArray(items) && items.length > 0, `${url} lists alice's own: ${res.text}`);
        assert.ok(
          !res.text.includes(MARK) && !res.text.includes('"bob"') && !res.text.includes('bob-'),
          `${url} shows bob's: ${res.text}`,
        );
      }
      const jobs = await ok(t, alice, 'GET', '/jobs/list');
      assert.ok(jobs.text.includes('alice-job') && !jobs.text.includes('bob-job'), jobs.text);
      assert.ok((await ok(t, alice, 'GET', '/jobs/alice')).text.includes('alice-job'));

      const calls: [Method, string, unknown?][] = [
        ['GET', '/v1/sinks/bob-hook'],
        ['PATCH', '/v1/sinks/bob-hook', { description: 'taken over' }],
        ['POST', '/v1/sinks/bob-hook/pause'],
        ['POST', '/v1/sinks/bob-hook/resume'],
        ['POST', '/v1/sinks/bob-hook/seek', { from: 'beginning' }],
        ['POST', '/v1/sinks/bob-hook/replay', { stream: 'bob.orders', fromSeq: 1 }],
        ['POST', '/v1/sinks/bob-hook/dead-letters/retry'],
        ['GET', '/v1/sinks/bob-hook/attempts'],
        ['GET', '/v1/sinks/bob-hook/rates'],
        ['GET', '/v1/rules/bob-rule'],
        ['PATCH', '/v1/rules/bob-rule', { name: 'taken over' }],
        ['POST', '/v1/rules/bob-rule/disable'],
        ['POST', '/v1/rules/bob-rule/enable'],
        ['POST', '/v1/rules/bob-rule/validate', { type: '/eventTypes/bobType', source: '/x', data: {} }],
        ['GET', '/v1/rules/bob-rule/attempts'],
        ['POST', '/v1/rules/bob-rule/dead-letters/retry'],
        ['GET', '/v1/event-sources/bob-src'],
        ['PATCH', '/v1/event-sources/bob-src', { name: 'x' }],
        ['GET', '/v1/event-types/bob-type'],
        ['PATCH', '/v1/event-types/bob-type', { name: 'x' }],
        ['GET', '/v1/action-targets/bob-lamp'],
        ['PATCH', '/v1/action-targets/bob-lamp', { name: 'x' }],
        ['GET', '/job/bob-job'],
        ['GET', '/jobs/get?id=bob-job'],
        ['GET', '/job/bob-job/stop'],
        ['POST', '/job/bob-job/start'],
        ['GET', '/job/bob-job/set_offset/beginning'],
        ['POST', '/job/bob-job/dry-run', { id: 'x' }],
      ];
      for (const [method, url, payload] of calls) {
        const res = await refused(t, alice, method, url, payload, [403, 404]);
        if (url.startsWith('/v1/'))
          assert.equal(
            res.status,
            404,
            `${method} ${url}: another owner's is not found, so its existence does not leak`,
          );
        const own = await call(
          t,
          alice,
          method,
          url.replaceAll('bob', 'alice'),
          payload === undefined ? undefined : JSON.parse(JSON.stringify(payload).replaceAll('bob', 'alice')),
        );
        assert.ok(
          ![401, 403, 404].includes(own.status),
          `${method} ${url.replaceAll('bob', 'alice')} by its owner: ${own.status} ${own.text}`,
        );
      }
      await refused(t, alice, 'GET', '/jobs/bob', undefined, [403, 404]);
      await refused(t, alice, 'DELETE', '/job/bob-job', undefined, [403, 404]);
      await refused(
        t,
        alice,
        'POST',
        `/job/bob-job`,
        { type: 'post', topic: ['alice.orders'], url: 'http://127.0.0.1:9/x' },
        [403, 404, 409],
      );
      // nor can she point her own things at bob's streams
      await refused(t, alice, 'POST', '/v1/sinks', {
        id: 'peek',
        streams: ['bob.orders'],
        target: { kind: 'http', url: 'http://127.0.0.1:9/x' },
      });
      await refused(t, alice, 'POST', '/v1/sinks', {
        id: 'push',
        streams: ['alice.orders'],
        target: { kind: 'stream', stream: 'bob.orders' },
      });
      await refused(t, alice, 'POST', '/v1/rules', {
        id: 'peek',
        name: 'x',
        streams: ['bob.orders'],
        conditions: [{ eventTypeId: 'alice-type' }],
        actions: [{ actionTargetId: 'alice-lamp', actionTypeId: 'a' }],
      });
      await refused(
        t,
        alice,
        'POST',
        '/v1/rules',
        {
          id: 'borrow',
          name: 'x',
          conditions: [{ eventTypeId: 'bob-type' }],
          actions: [{ actionTargetId: 'bob-lamp', actionTypeId: 'a' }],
        },
        [400, 403, 404],
      );
      await refused(t, alice, 'POST', '/job/peek', {
        type: 'post',
        topic: ['bob.orders'],
        url: 'http://127.0.0.1:9/x',
      });
      for (const url of [
        '/v1/sinks/bob-hook',
        '/v1/rules/bob-rule',
        '/v1/event-sources/bob-src',
        '/v1/event-types/bob-type',
        '/v1/action-targets/bob-lamp',
      ]) {
        await refused(t, alice, 'DELETE', url, undefined, [404]);
      }

      // specs: another owner's datasets are "not authorised", on /v1/specs and the specstore dialect
      const specCalls: [Method, string, unknown?][] = [
        ['GET', '/v1/specs?owner=bob'],
        ['GET', '/v1/specs/bob/shop/revisions'],
        ['GET', '/v1/specs/bob/shop/revisions/latest'],
        ['POST', '/v1/specs/bob/shop/revisions/1/apply'],
        ['GET', '/source/bob/shop/latest'],
      ];
      for (const [method, url, payload] of specCalls) {
        await refused(t, alice, method, url, payload, [401, 403, 404]);
        const own = await call(t, alice, method, url.replaceAll('bob', 'alice'), payload);
        assert.ok(
          own.status < 300,
          `${method} ${url.replaceAll('bob', 'alice')} by its owner: ${own.status} ${own.text}`,
        );
      }
      await refused(t, alice, 'POST', '/v1/specs', { meta: { owner: 'bob', dataset: 'shop' }, streams: [] });
      await refused(t, alice, 'POST', '/v1/specs', {
        meta: { owner: 'alice', dataset: 'grab' },
        streams: [{ name: 'bob.orders' }],
      });
      const upload = await call(
        t,
        { ...alice, 'content-type': 'application/json' },
        'POST',
        '/source/upload',
        JSON.stringify({ meta: { owner: 'bob', dataset: 'shop' } }),
      );
      assert.ok(!upload.text.includes(MARK));
      assert.ok(
        upload.status >= 400 || upload.json().success === false,
        `specstore upload for another owner: ${upload.status} ${upload.text}`,
      );

      // bob's things are untouched
      assert.equal((await ok(t, bob, 'GET', '/v1/sinks/bob-hook')).json().description, MARK);
      assert.equal((await ok(t, bob, 'GET', '/v1/rules/bob-rule')).json().name, MARK);
      assert.equal((await ok(t, bob, 'GET', '/v1/specs/bob/shop/revisions')).json().revisions instanceof Array, true);
    } finally {
      await t.close();
    }
  });
});
