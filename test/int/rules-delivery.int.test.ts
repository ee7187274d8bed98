/**
 * Rules delivering to real HTTP receivers on 127.0.0.1:0: events fed through iFLUX's
 * `POST /events` and the native produce API, a table of conditions, transforms, several
 * actions where one target fails (retried, dead-lettered, the other delivered once), signing
 * and auth, disable/enable and replay from a time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateWebhookSecret, verifyWebhook } from '../../src/delivery/signing.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { FAST_RETRY, pause, startRules, until, type RulesHarness } from '../support/rules-harness.js';

const T = '/eventTypes/temperatureEventSchema';
const T2 = '/eventTypes/crowdDensityEventSchema';

interface Action {
  target: string;
  type: string;
  properties: Record<string, unknown>;
}
const actions = (r: Receiver) => r.requests.map((q) => JSON.parse(q.body) as Action);

async function setup(h: RulesHarness, rx: Receiver) {
  const s1 = await h.post('/v1/event-sources', { name: 'sensor 1', publicId: 'JI8928JFK' });
  const s2 = await h.post('/v1/event-sources', { name: 'sensor 2' });
  const t1 = await h.post('/v1/event-types', { type: T });
  const t2 = await h.post('/v1/event-types', { type: T2 });
  const target = await h.post('/v1/action-targets', { id: 'rx', name: 'receiver', url: `${rx.url}/actions` });
  return {
    s1: s1 as { id: string; source: string },
    s2: s2 as { id: string; source: string },
    t1: t1.id as string,
    t2: t2.id as string,
    target: target.id as string,
  };
}

function ifluxEvent(source: string, type: string, properties: Record<string, unknown>) {
  return { timestamp: '2015-01-12T05:21:07Z', source, type, properties };
}

describe('rules: conditions fed through iFLUX and the native API', () => {
  it("fires exactly the rules whose conditions match, with the event's properties as the default action properties", async () => {
    const h = await startRules();
    const rx = await startReceiver();
    try {
      const r = await setup(h, rx);
      assert.equal(r.s1.source, '/event-sources/JI8928JFK');
      const table: { name: string; conditions: Record<string, string>[]; fires: number[] }[] = [
        { name: 'source-only', conditions: [{ eventSourceId: r.s1.id }], fires: [1, 2, 4] },
        { name: 'type-only', conditions: [{ eventTypeId: r.t1 }], fires: [1, 3, 4] },
        { name: 'expression-only', conditions: [{ expression: 'data.temperature > 30' }], fires: [2, 3] },
        { name: 'source-and-type', conditions: [{ eventSourceId: r.s1.id, eventTypeId: r.t1 }], fires: [1, 4] },
        {
          name: 'type-and-expression',
          conditions: [{ eventTypeId: r.t1, expression: 'data.location = "room 2"' }],
          fires: [3],
        },
        {
          name: 'source-and-expression',
          conditions: [{ eventSourceId: r.s1.id, expression: '$contains(data.location, "room")' }],
          fires: [1, 4],
        },
        { name: 'empty', conditions: [{}], fires: [] },
        {
          name: 'any-of-two',
          conditions: [{ eventTypeId: r.t2 }, { expression: 'data.temperature > 34' }],
          fires: [2, 3],
        },
        { name: 'empty-beside-a-match', conditions: [{}, { eventSourceId: r.s2.id }], fires: [3] },
      ];
      for (const row of table) {
        await h.post('/v1/rules', {
          id: row.name,
          conditions: row.conditions,
          actions: [{ actionTargetId: r.target, actionTypeId: `/actionTypes/${row.name}` }],
        });
      }
      // three events through iFLUX's POST /events, one through the native produce API
      const posted = await h.t.app.inject({
        method: 'POST',
        url: '/events',
        headers: h.t.admin,
        payload: [
          ifluxEvent(r.s1.source, T, { n: 1, temperature: 22.5, location: 'room 1' }),
          ifluxEvent(r.s1.source, T2, { n: 2, temperature: 31 }),
          ifluxEvent(r.s2.source, T, { n: 3, temperature: 35, location: 'room 2' }),
        ],
      });
      assert.equal(posted.statusCode, 202, posted.body);
      await h.post('/v1/streams/iflux/events', {
        type: T,
        source: r.s1.source,
        data: { n: 4, temperature: 10, location: 'room 9' },
      });

      const expected = table.flatMap((row) => row.fires.map((n) => `/actionTypes/${row.name}#${n}`)).sort();
      await until(`${expected.length} actions`, () => rx.requests.length >= expected.length);
      await pause(300); // nothing more may come
      const got = actions(rx)
        .map((a) => `${a.type}#${String(a.properties.n)}`)
        .sort();
      assert.deepEqual(got, expected);
      for (const a of actions(rx)) {
        assert.deepEqual(Object.keys(a).sort(), ['properties', 'target', 'type']);
        assert.equal(a.target, r.target);
      }
      const first = actions(rx).find((a) => a.type === '/actionTypes/source-and-type' && a.properties.n === 1)!;
      assert.deepEqual(first.properties, { n: 1, temperature: 22.5, location: 'room 1' });

      const view = await until('stats flushed', async () => {
        const v = (await h.t.app.inject({ method: 'GET', url: '/v1/rules/source-only', headers: h.t.admin })).json();
        return v.stats.actions.delivered === 3 && v.stats.events.delivered === 4 ? v : undefined;
      });
      assert.equal(view.status, 'running');
      assert.equal(view.enabled, true);
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('builds action properties with transforms, one action per target and type', async () => {
    const h = await startRules();
    const rx = await startReceiver();
    try {
      const r = await setup(h, rx);
      await h.post('/v1/rules', {
        id: 'hot',
        conditions: [{ eventTypeId: r.t1, expression: 'data.temperature >= 30' }],
        actions: [
          {
            actionTargetId: r.target,
            actionTypeId: '/actionTypes/alert',
            transform:
              '{"celsius": data.temperature, "fahrenheit": data.temperature * 9 / 5 + 32, "where": $uppercase(data.location), "from": source}',
          },
          { actionTargetId: r.target, actionTypeId: '/actionTypes/log', transform: '"too hot in " & data.location' },
          { actionTargetId: r.target, actionTypeId: '/actionTypes/raw' },
        ],
      });
      const posted = await h.t.app.inject({
        method: 'POST',
        url: '/events',
        headers: h.t.admin,
        payload: ifluxEvent(r.s1.source, T, { temperature: 30, location: 'room 1' }),
      });
      assert.equal(posted.statusCode, 202);
      await until('3 actions', () => rx.requests.length >= 3);
      const byType = Object.fromEntries(actions(rx).map((a) => [a.type, a.properties]));
      assert.deepEqual(byType['/actionTypes/alert'], {
        celsius: 30,
        fahrenheit: 86,
        where: 'ROOM 1',
        from: '/event-sources/JI8928JFK',
      });
      assert.equal(byType['/actionTypes/log'], 'too hot in room 1');
      assert.deepEqual(byType['/actionTypes/raw'], { temperature: 30, location: 'room 1' });
      // three actions, three deliveries with their own ids
      assert.equal(new Set(rx.requests.map((q) => q.headers['webhook-id'])).size, 3);
    } finally {
      await rx.close();
      await h.close();
    }
  });
});

describe('rules: delivery of actions', () => {
  it('retries a failing target then dead-letters its action, while the other action is delivered once, signed and authenticated', async () => {
    const h = await startRules();
    const ok = await startReceiver();
    const failing = await startReceiver((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    try {
      const r = await setup(h, ok);
      const secret = generateWebhookSecret();
      await h.post('/v1/action-targets', {
        id: 'signed',
        name: 'signed',
        url: `${ok.url}/signed`,
        auth: { type: 'basic', user: 'iflux', password: 'pw-1' },
        headers: { 'x-tenant': 'a' },
        signing: { secrets: [secret] },
      });
      await h.post('/v1/action-targets', {
        id: 'down',
        name: 'down',
        url: `${failing.url}/down`,
        auth: { type: 'bearer', token: 'tok-2' },
      });
      await h.post('/v1/rules', {
        id: 'two',
        conditions: [{ eventSourceId: r.s1.id }],
        actions: [
          { actionTargetId: 'signed', actionTypeId: '/actionTypes/ok' },
          { actionTargetId: 'down', actionTypeId: '/actionTypes/down' },
        ],
        delivery: { retry: FAST_RETRY },
      });
      const posted = await h.t.app.inject({
        method: 'POST',
        url: '/events',
        headers: h.t.admin,
        payload: [ifluxEvent(r.s1.source, T, { temperature: 1 })],
      });
      assert.equal(posted.statusCode, 202);

      await until('3 attempts at the failing target', () => failing.requests.length >= 3);
      const dlq = await until('the dead letter', async () => {
        const res = await h.t.app.inject({
          method: 'GET',
          url: '/v1/streams/_rule.two.actions.dlq/events',
          headers: h.t.admin,
        });
        return res.statusCode === 200 && res.json().events?.length === 1 ? res.json().events[0] : undefined;
      });
      assert.deepEqual(dlq.data, { target: 'down', type: '/actionTypes/down', properties: { temperature: 1 } });
      assert.equal(dlq.meta.deadLetter.status, 503);
      await pause(200);
      assert.equal(failing.requests.length, 3, 'maxAttempts 3');
      assert.equal(
        new Set(failing.requests.map((q) => q.headers['webhook-id'])).size,
        1,
        'one action, one id across retries',
      );
      assert.equal(failing.requests[0]!.headers.authorization, 'Bearer tok-2');
      // the successful action was sent once, not again with the failing one's retries
      assert.equal(ok.requests.length, 1);
      const sent = ok.requests[0]!;
      assert.equal(sent.url, '/signed');
      assert.equal(sent.headers.authorization, `Basic ${Buffer.from('iflux:pw-1').toString('base64')}`);
      assert.equal(sent.headers['x-tenant'], 'a');
      verifyWebhook({ headers: sent.headers, body: sent.body, secrets: [secret] });

      const view = await until('stats flushed', async () => {
        const v = (await h.t.app.inject({ method: 'GET', url: '/v1/rules/two', headers: h.t.admin })).json();
        return v.stats.actions.deadLettered === 1 && v.stats.actions.delivered === 1 ? v : undefined;
      });
      assert.equal(view.stats.actions.retried, 2);
      const attempts = (
        await h.t.app.inject({ method: 'GET', url: '/v1/rules/two/attempts', headers: h.t.admin })
      ).json().attempts as { status: number; action: string }[];
      assert.equal(attempts.filter((a) => a.status === 503).length, 3);
      assert.ok(attempts.some((a) => a.action.startsWith('dead-lettered')));

      // the target recovers: retrying the dead letters sends the action once more
      failing.handle = (_req, res) => res.end('ok');
      const retried = await h.post('/v1/rules/two/dead-letters/retry', undefined, 202);
      assert.equal(retried.jobs, 1);
      await until('the retried action', () => failing.requests.some((q, i) => i >= 3));
      assert.equal(ok.requests.length, 1);
    } finally {
      await ok.close();
      await failing.close();
      await h.close();
    }
  });

  it('sends nothing while disabled; enabling starts from the tail, or from a time (replay)', async () => {
    const h = await startRules();
    const rx = await startReceiver();
    try {
      const r = await setup(h, rx);
      await h.post('/v1/rules', {
        id: 'toggle',
        conditions: [{ eventTypeId: r.t1 }],
        actions: [{ actionTargetId: r.target, actionTypeId: '/actionTypes/a' }],
      });
      const send = async (n: number) => {
        const res = await h.t.app.inject({
          method: 'POST',
          url: '/events',
          headers: h.t.admin,
          payload: [ifluxEvent(r.s1.source, T, { n })],
        });
        assert.equal(res.statusCode, 202);
      };
      await send(1);
      await until('first action', () => rx.requests.length === 1);
      const disabled = await h.post('/v1/rules/toggle/disable', undefined, 200);
      assert.equal(disabled.status, 'disabled');
      await send(2);
      await pause(300);
      assert.equal(rx.requests.length, 1, 'a disabled rule sends nothing');
      await h.post('/v1/rules/toggle/enable', undefined, 200);
      await send(3);
      await until('the action after enabling', () => rx.requests.length === 2);
      await pause(200);
      assert.deepEqual(
        actions(rx).map((a) => a.properties.n),
        [1, 3],
        'enabling starts from the tail',
      );

      // replay from a time before every event: all three are evaluated and sent again
      await h.post('/v1/rules/toggle/enable', { start: { from: 'time', time: '2000-01-01T00:00:00Z' } }, 200);
      await until('the replayed actions', () => rx.requests.length === 5);
      await pause(200);
      assert.deepEqual(
        actions(rx).map((a) => a.properties.n),
        [1, 3, 1, 2, 3],
      );
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('a rule created with start from the beginning sees events posted before it', async () => {
    const h = await startRules();
    const rx = await startReceiver();
    try {
      const r = await setup(h, rx);
      const res = await h.t.app.inject({
        method: 'POST',
        url: '/events',
        headers: h.t.admin,
        payload: [ifluxEvent(r.s2.source, T2, { n: 7 })],
      });
      assert.equal(res.statusCode, 202);
      await h.post('/v1/rules', {
        id: 'late',
        conditions: [{ eventSourceId: r.s2.id }],
        actions: [{ actionTargetId: r.target, actionTypeId: '/actionTypes/a' }],
      });
      await h.post('/v1/rules', {
        id: 'early',
        start: { from: 'beginning' },
        conditions: [{ eventSourceId: r.s2.id }],
        actions: [{ actionTargetId: r.target, actionTypeId: '/actionTypes/b' }],
      });
      await until('the action of the rule that started at the beginning', () => rx.requests.length === 1);
      await pause(200);
      assert.deepEqual(
        actions(rx).map((a) => a.type),
        ['/actionTypes/b'],
      );
    } finally {
      await rx.close();
      await h.close();
    }
  });
});
