/**
 * Internal streams (`_sink.*`, `_rule.*`, dead letters) belong to the server and to the owner of
 * what they serve. Alice owns a sink and a rule delivering to a real receiver; bob holds
 * `manage:*`. Bob (and the admin key) cannot write into her attempt log, her rule's actions or
 * her dead letters on any API (native through fastify and through the produce lane over a real
 * socket, CloudEvents modes, the event server dialect), cannot read them, cannot create names in
 * those namespaces; alice and the admin still read them, her attempt log still answers, and her
 * receiver gets only her own actions. The nats wiring file runs it on the nats store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { startReceiver } from '../support/receiver.js';
import { startDeliveryApp, until, type DeliveryApp } from '../support/delivery-app.js';

type Headers = Record<string, string>;

async function inject(
  h: DeliveryApp,
  headers: Headers,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  extra: Headers = {},
) {
  const res = await h.t.app.inject({
    method,
    url,
    headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...extra },
    ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  });
  return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) as Record<string, unknown> };
}

function refusedAsInternal(res: { status: number; body: string }, what: string): void {
  assert.equal(res.status, 403, `${what}: ${res.status} ${res.body}`);
  assert.equal(JSON.parse(res.body).code, 'INTERNAL_STREAM', `${what}: ${res.body}`);
}

describe('internal streams', () => {
  it("no key writes into a sink's attempt log, a rule's actions or dead letters on any API; only their owner and admins read them", async () => {
    const rx = await startReceiver();
    const h = await startDeliveryApp('internal streams', {
      core: { rulesStream: 'iflux' },
      dialects: { iflux: { stream: 'iflux', anonymous: false } },
    });
    let pool: Pool | undefined;
    try {
      const { t } = h;
      const alice = await t.keyWith(['manage:*'], 'alice');
      const bob = await t.keyWith(['manage:*'], 'bob');
      const ok = async (headers: Headers, url: string, payload: unknown) => {
        const res = await inject(h, headers, 'POST', url, payload);
        assert.ok(res.status < 300, `${url}: ${res.status} ${res.body}`);
        return res.json();
      };

      // alice's sink delivers one event, so its attempt log exists; her rule has sent one action
      await ok(alice, '/v1/streams', { name: 'alice.orders' });
      await ok(alice, '/v1/sinks', {
        id: 'alice-hook',
        streams: ['alice.orders'],
        target: { kind: 'http', url: `${rx.url}/hook` },
      });
      const type = await ok(alice, '/v1/event-types', { type: '/eventTypes/t' });
      await ok(alice, '/v1/action-targets', {
        id: 'alice-lamp',
        name: 'lamp',
        url: `${rx.url}/lamp`,
        auth: { type: 'bearer', token: 'alice-lamp-token' },
      });
      await ok(alice, '/v1/rules', {
        id: 'alice-rule',
        conditions: [{ eventTypeId: type.id }],
        actions: [{ actionTargetId: 'alice-lamp', actionTypeId: '/actionTypes/blink' }],
      });
      await ok(alice, '/v1/streams/alice.orders/events', { type: 'order.placed', data: { n: 1 } });
      await ok(alice, '/v1/streams/iflux/events', { type: '/eventTypes/t', data: { n: 1 } });
      const attempts = '_sink.alice-hook.attempts';
      const actions = '_rule.alice-rule.actions';
      await until('the first delivery logged', async () => {
        const res = await inject(h, alice, 'GET', '/v1/sinks/alice-hook/attempts');
        return res.status === 200 && (res.json().attempts as unknown[]).length > 0 ? true : undefined;
      });
      await until("the rule's action delivered", () =>
        rx.requests.some((q) => q.url.startsWith('/lamp')) ? true : undefined,
      );
      const countOf = async (stream: string) => (await t.store.events.stats(stream)).count;
      const before = { attempts: await countOf(attempts), actions: await countOf(actions) };

      // writes: every key, every route that produces
      const injected = { target: `${rx.url}/lamp`, type: '/actionTypes/injected', properties: {} };
      for (const [who, key] of [
        ['bob', bob],
        ['admin', t.admin],
        ['alice', alice],
      ] as const) {
        for (const stream of [attempts, actions, 'alice.orders.dlq', '_rule.alice-rule.dlq']) {
          refusedAsInternal(
            await inject(h, key, 'POST', `/v1/streams/${stream}/events`, { type: 'x', data: injected }),
            `${who} writes ${stream}`,
          );
          refusedAsInternal(
            await inject(
              h,
              key,
              'POST',
              `/v1/streams/${stream}/events`,
              { specversion: '1.0', id: 'ce-1', source: '/x', type: 'x', data: injected },
              { 'content-type': 'application/cloudevents+json' },
            ),
            `${who} writes ${stream} (structured)`,
          );
          refusedAsInternal(
            await inject(
              h,
              key,
              'POST',
              `/v1/streams/${stream}/events`,
              [{ specversion: '1.0', id: 'ce-2', source: '/x', type: 'x', data: injected }],
              { 'content-type': 'application/cloudevents-batch+json' },
            ),
            `${who} writes ${stream} (batch)`,
          );
          refusedAsInternal(
            await inject(h, key, 'POST', `/v1/streams/${stream}/events`, JSON.stringify(injected), {
              'content-type': 'application/json',
              'ce-specversion': '1.0',
              'ce-id': 'b-1',
              'ce-source': '/x',
              'ce-type': 'x',
            }),
            `${who} writes ${stream} (binary)`,
          );
          // the event server dialect refuses as its seed does (401, a JSON string)
          const es = await inject(h, key, 'POST', `/api/v1/streams/${stream}/events`, {
            event: { name: 'x', version: 1 },
            system: { id: 's', name: 's', time: '2017-09-06 13:58:12', timezone: 'Europe/Berlin' },
            trigger: { type: 'system', name: 'x' },
            payload: injected,
          });
          assert.equal(es.status, 401, `${who} writes ${stream} through the event server: ${es.status} ${es.body}`);
        }
      }
      // the Durable Streams mount names `alice.orders.dlq` by the path /ds/alice/orders/dlq
      for (const key of [bob, t.admin]) {
        const ds = await inject(h, key, 'POST', '/ds/alice/orders/dlq', JSON.stringify(injected), {
          'content-type': 'application/json',
        });
        assert.equal(ds.status, 403, `an append through the Durable Streams mount: ${ds.status} ${ds.body}`);
        assert.match(ds.body, /internal stream/, ds.body);
      }
      // the produce lane, over a real socket, with keys it has seen (so it would take them)
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as { port: number };
      pool = new Pool(`http://127.0.0.1:${port}`, { connections: 2 });
      for (const key of [bob, t.admin]) {
        await (await pool.request({ method: 'GET', path: '/v1/streams', headers: key })).body.text();
        for (const stream of [attempts, actions]) {
          const res = await pool.request({
            method: 'POST',
            path: `/v1/streams/${stream}/events`,
            headers: { ...key, 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'x', data: injected }),
          });
          refusedAsInternal({ status: res.statusCode, body: await res.body.text() }, `${stream} over a socket`);
        }
      }
      assert.deepEqual(
        { attempts: await countOf(attempts), actions: await countOf(actions) },
        before,
        'nothing was written',
      );

      // names: nobody creates a stream in an internal namespace, not even an admin
      for (const name of [
        '_sink.evil.attempts',
        '_rule.evil.actions',
        'alice.orders.dlq',
        'bob.x.retry-dlq',
        'okdata.set.failed.1',
      ]) {
        refusedAsInternal(await inject(h, t.admin, 'POST', '/v1/streams', { name }), `admin creates ${name}`);
        refusedAsInternal(await inject(h, bob, 'POST', '/v1/streams', { name }), `bob creates ${name}`);
      }
      // a configured dead-letter stream is a dead-letter name, so it is internal too
      const parked = await inject(h, bob, 'POST', '/v1/sinks', {
        id: 'bob-hook',
        streams: ['alice.orders'],
        deadLetterStream: 'bob.parked',
        target: { kind: 'http', url: `${rx.url}/bob` },
      });
      assert.equal(parked.status, 400, parked.body);
      // a stream sink cannot write into one either
      const piped = await inject(h, t.admin, 'POST', '/v1/sinks', {
        id: 'pipe',
        streams: ['alice.orders'],
        target: { kind: 'stream', stream: actions },
      });
      assert.equal(piped.status, 400, piped.body);

      // reads: bob's wildcard does not reach them; alice's does, and the admin's
      for (const url of [
        `/v1/streams/${attempts}/events`,
        `/v1/streams/${attempts}`,
        `/v1/streams/${actions}/events`,
      ]) {
        refusedAsInternal(await inject(h, bob, 'GET', url), `bob reads ${url}`);
        assert.equal((await inject(h, alice, 'GET', url)).status, 200, `alice reads ${url}`);
        assert.equal((await inject(h, t.admin, 'GET', url)).status, 200, `admin reads ${url}`);
      }
      refusedAsInternal(
        await inject(h, bob, 'POST', `/v1/streams/${attempts}/consumers`, { name: 'spy' }),
        'bob makes a consumer',
      );
      refusedAsInternal(await inject(h, bob, 'DELETE', `/v1/streams/${attempts}`), 'bob deletes the log');
      const listed = (await inject(h, bob, 'GET', '/v1/streams?limit=100')).json().streams as { name: string }[];
      assert.deepEqual(
        listed.map((s) => s.name).filter((n) => n.startsWith('_')),
        [],
        "bob's listing leaves internal streams out",
      );
      const own = (await inject(h, alice, 'GET', '/v1/streams?limit=100')).json().streams as { name: string }[];
      assert.ok(
        own.some((s) => s.name === attempts),
        "alice's listing shows her sink's attempt log",
      );

      // her rule's sinks read and write its internal actions stream: hers to see, not bob's
      for (const sink of ['rule-alice-rule', 'rule-alice-rule-actions']) {
        assert.equal((await inject(h, alice, 'GET', `/v1/sinks/${sink}`)).status, 200, `alice reads ${sink}`);
        assert.equal((await inject(h, bob, 'GET', `/v1/sinks/${sink}`)).status, 404, `bob reads ${sink}`);
      }

      // alice's attempt log answers; her receiver got no injected action
      const log = await inject(h, alice, 'GET', '/v1/sinks/alice-hook/attempts');
      assert.equal(log.status, 200, log.body);
      assert.ok(!rx.requests.some((q) => q.body.includes('injected')), 'no injected action was delivered');
    } finally {
      await pool?.close();
      await h.close();
      await rx.close();
    }
  });

  it('an attempt log holding a malformed record still answers, without it', async () => {
    const h = await startDeliveryApp('malformed attempt log', { startEngine: false });
    try {
      const { t } = h;
      await t.services.streams.create({ name: 'orders' }, 'admin');
      const created = await inject(h, t.admin, 'POST', '/v1/sinks', {
        id: 'hook',
        streams: ['orders'],
        target: { kind: 'http', url: 'http://127.0.0.1:9/x' },
      });
      assert.equal(created.status, 201, created.body);
      // what an older version, or a write from before internal streams were closed, may have left
      const good = {
        sink: 'hook',
        stream: 'orders',
        seq: 1,
        eventId: 'e',
        deliveryId: 'd',
        attempt: 1,
        outcome: 'success',
        status: 200,
        latencyMs: 3,
        error: null,
        action: 'delivered',
        at: '2026-01-01T00:00:00.000Z',
      };
      const name = '_sink.hook.attempts';
      await t.services.streams.ensureInternal({ name }, 'admin');
      const event = (id: string, data: unknown) => ({
        id,
        idSupplied: true,
        type: 'sink.attempts',
        source: '/x',
        time: good.at,
        producer: null,
        data: data as never,
        meta: {},
      });
      await t.services.produce.produceInternal({
        stream: name,
        producer: null,
        events: [
          event('a', { records: [good, { seq: 'x' }, null, 7, { ...good, status: 'oops' }] }),
          event('b', 'a string'),
          event('c', { target: 'http://evil', type: 'x' }),
          event('d', { records: [{ ...good, seq: 2 }] }),
        ],
      });
      const res = await inject(h, t.admin, 'GET', '/v1/sinks/hook/attempts');
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(
        (res.json().attempts as { seq: number }[]).map((a) => a.seq),
        [2, 1],
      );
    } finally {
      await h.close();
    }
  });
});
