/**
 * Specs declaring sinks and rules (with their event sources and action targets), over a real
 * SQLite store with the delivery engine running and real HTTP receivers on 127.0.0.1:0 (the
 * URL guard allows loopback explicitly for them). The applier runs in the background as in `serve`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecApplier } from '../../src/core/specs/spec-applier.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { FAST_RETRY, startRules, until, type RulesHarness } from '../support/rules-harness.js';

const SINK_TOKEN = 'Bearer sink-token-d41d8cd98f';
const SINK_TOKEN_2 = 'Bearer sink-token-2-9e107d9d37';
const ACTION_TOKEN = 'action-token-e4d909c290';

interface Ctx {
  h: RulesHarness;
  applier: SpecApplier;
  auth: Record<string, string>;
}

async function withSpecs(fn: (c: Ctx) => Promise<void>): Promise<void> {
  const h = await startRules();
  const applier = new SpecApplier(h.t.services.specs);
  applier.start();
  try {
    await fn({ h, applier, auth: await h.t.keyWith(['manage:*'], 'alice') });
  } finally {
    await applier.close();
    await h.close();
  }
}

type Json = Record<string, unknown>;

async function call(c: Ctx, method: 'GET' | 'POST', url: string, payload?: unknown, headers = c.auth) {
  return c.h.t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as Json }) });
}

async function plan(
  c: Ctx,
  body: unknown,
  prune = false,
): Promise<{
  changes: {
    action: string;
    ref: string;
    changes: { path: string; from?: unknown; to?: unknown }[];
    after: string[];
  }[];
  unchanged: string[];
  orphans: string[];
}> {
  const res = await call(c, 'POST', `/v1/specs/plan${prune ? '?prune=true' : ''}`, body);
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

/** uploads, waits for the applier, answers the revision as GET shows it (and its raw text) */
async function apply(
  c: Ctx,
  body: unknown,
  prune = false,
): Promise<{
  doc: Json & { state: string; pipelines: { id: string; status: string; errors: string[] }[] };
  text: string;
}> {
  const res = await call(c, 'POST', `/v1/specs${prune ? '?prune=true' : ''}`, body);
  assert.equal(res.statusCode, 201, res.body);
  await c.applier.idle();
  const got = await call(c, 'GET', String(res.headers.location));
  return { doc: got.json(), text: got.body };
}

async function produce(c: Ctx, events: { type: string; total: number }[]): Promise<void> {
  const res = await call(
    c,
    'POST',
    '/v1/streams/orders/events',
    events.map((e) => ({ type: e.type, data: { total: e.total } })),
    c.h.t.admin,
  );
  assert.equal(res.statusCode, 201, res.body);
}

const summary = (p: Awaited<ReturnType<typeof plan>>) => p.changes.map((ch) => `${ch.action} ${ch.ref}`);
const seqs = (r: Receiver) => r.requests.map((q) => (JSON.parse(q.body) as { seq: number }).seq);

function shopSpec(sinkUrl: string, actionUrl: string, sink: Json = {}): Json {
  return {
    meta: { owner: 'alice', dataset: 'shop' },
    streams: [{ name: 'orders' }],
    eventSources: [{ id: 'web-shop', name: 'Web shop' }],
    actionTargets: [{ id: 'lamp', name: 'Lamp', url: actionUrl, auth: { type: 'bearer', token: ACTION_TOKEN } }],
    sinks: [
      {
        id: 'orders-hook',
        streams: ['orders'],
        target: { kind: 'http', url: sinkUrl, token: SINK_TOKEN },
        policy: { retry: FAST_RETRY },
        ...sink,
      },
    ],
    rules: [
      {
        id: 'big-orders',
        name: 'big orders',
        streams: ['orders'],
        conditions: [{ expression: 'data.total > 100' }],
        actions: [{ actionTargetId: 'lamp', actionTypeId: '/actionTypes/blink', transform: '{"total": data.total}' }],
        delivery: { retry: FAST_RETRY },
      },
    ],
  };
}

describe('specs: sinks and rules as resource kinds', () => {
  it('plan, apply, deliver; re-apply unchanged; update in place keeps the position; orphan, then prune; secrets never shown', () =>
    withSpecs(async (c) => {
      const rx1 = await startReceiver();
      const rx2 = await startReceiver();
      const actions = await startReceiver();
      try {
        const v1 = shopSpec(rx1.url, actions.url);
        const p1 = await plan(c, v1);
        assert.deepEqual(summary(p1), [
          'create streams/orders',
          'create eventSources/web-shop',
          'create actionTargets/lamp',
          'create sinks/orders-hook',
          'create rules/big-orders',
        ]);
        assert.deepEqual(p1.changes.find((ch) => ch.ref === 'sinks/orders-hook')!.after, ['streams/orders']);
        assert.deepEqual(p1.changes.find((ch) => ch.ref === 'rules/big-orders')!.after, [
          'streams/orders',
          'actionTargets/lamp',
        ]);
        const sinkTarget = p1.changes
          .find((ch) => ch.ref === 'sinks/orders-hook')!
          .changes.find((ch) => ch.path === '/target')!.to as Json;
        assert.equal(sinkTarget.url, rx1.url);
        assert.equal(sinkTarget.token, '[redacted]');
        assert.ok(!JSON.stringify(p1).includes('token-'), 'no secret in the plan');
        assert.equal(
          (await call(c, 'GET', '/v1/sinks/orders-hook', undefined, c.h.t.admin)).statusCode,
          404,
          'a dry run changes nothing',
        );

        const r1 = await apply(c, v1);
        assert.equal(r1.doc.state, 'SUCCEEDED', r1.text);
        assert.ok(!r1.text.includes('token-'), 'no secret in the revision as answered');
        assert.equal((r1.doc.spec as { sinks: { target: Json }[] }).sinks[0]!.target.token, '[redacted]');
        const sink = (await call(c, 'GET', '/v1/sinks/orders-hook', undefined, c.h.t.admin)).json();
        assert.equal(sink.owner, 'alice');
        assert.equal((await call(c, 'GET', '/v1/rules/big-orders')).json().owner, 'alice');

        await produce(c, [
          { type: 'order.created', total: 50 },
          { type: 'order.created', total: 150 },
          { type: 'order.created', total: 250 },
        ]);
        await until('3 deliveries and 2 actions', () => rx1.requests.length >= 3 && actions.requests.length >= 2);
        assert.equal(rx1.requests[0]!.headers.authorization, SINK_TOKEN, 'the stored secret is the one delivered with');
        assert.deepEqual(
          actions.requests
            .map((q) => JSON.parse(q.body) as unknown)
            .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
          [
            { target: 'lamp', type: '/actionTypes/blink', properties: { total: 150 } },
            { target: 'lamp', type: '/actionTypes/blink', properties: { total: 250 } },
          ],
        );
        assert.equal(actions.requests[0]!.headers.authorization, `Bearer ${ACTION_TOKEN}`);

        // the same spec again: nothing to change, a revision without pipelines, no redelivery
        const p2 = await plan(c, v1);
        assert.deepEqual(p2.changes, []);
        assert.deepEqual(p2.unchanged.sort(), [
          'actionTargets/lamp',
          'eventSources/web-shop',
          'rules/big-orders',
          'sinks/orders-hook',
          'streams/orders',
        ]);
        const r2 = await apply(c, v1);
        assert.equal(r2.doc.state, 'SUCCEEDED');
        assert.deepEqual(r2.doc.pipelines, []);
        await produce(c, [{ type: 'order.created', total: 1 }]);
        await until('the 4th delivery', () => rx1.requests.length >= 4);
        assert.deepEqual(seqs(rx1).sort(), [1, 2, 3, 4], 'each event once: the position was kept');

        // a new URL, a filter and a rotated token: updated in place, the token shown only as changed
        const v3 = shopSpec(rx2.url, actions.url, {
          filter: { types: ['order.created'] },
          target: { kind: 'http', url: rx2.url, token: SINK_TOKEN_2 },
        });
        const p3 = await plan(c, v3);
        assert.deepEqual(summary(p3), ['update sinks/orders-hook']);
        assert.deepEqual(p3.changes[0]!.changes, [
          { path: '/filter', from: null, to: { types: ['order.created'] } },
          { path: '/target/token', from: '[redacted]', to: '[redacted]' },
          { path: '/target/url', from: rx1.url, to: rx2.url },
        ]);
        const r3 = await apply(c, v3);
        assert.equal(r3.doc.state, 'SUCCEEDED', r3.text);
        assert.ok(!r3.text.includes('token-'), 'no secret in the revision, its pipelines or logs');
        await produce(c, [
          { type: 'order.cancelled', total: 5 },
          { type: 'order.created', total: 6 },
        ]);
        await until('the first delivery to the new URL', () => rx2.requests.length >= 1);
        const afterUpdate = (await call(c, 'GET', '/v1/sinks/orders-hook', undefined, c.h.t.admin)).json();
        await until(
          'the filtered event to be passed',
          async () => (await call(c, 'GET', '/v1/sinks/orders-hook', undefined, c.h.t.admin)).json().lag.pending === 0,
        );
        assert.deepEqual(seqs(rx2), [6], 'only what came after, and only what the filter lets through');
        assert.equal(rx2.requests[0]!.headers.authorization, SINK_TOKEN_2);
        assert.equal(rx1.requests.length, 4);
        assert.equal(afterUpdate.createdAt, sink.createdAt, 'the same sink');

        // the sink as the revision was answered (token "[redacted]") uploaded again: the placeholder stands for the stored token
        const answered = { ...v3, sinks: (r3.doc.spec as { sinks: Json[] }).sinks };
        assert.equal((answered.sinks[0]!.target as Json).token, '[redacted]');
        assert.deepEqual((await plan(c, answered)).changes, []);
        assert.equal((await c.h.t.services.sinks.get('orders-hook')).target.token, SINK_TOKEN_2);
        const nothingToKeep = await call(c, 'POST', '/v1/specs/plan', {
          ...v3,
          sinks: [{ ...answered.sinks[0], id: 'new-hook' }],
        });
        assert.equal(nothingToKeep.statusCode, 400, nothingToKeep.body);
        assert.equal(nothingToKeep.json().pointer, '/sinks/0/target/token');

        // the sink, the rule and the action target leave the spec: kept without prune
        const smaller = {
          meta: { owner: 'alice', dataset: 'shop' },
          streams: [{ name: 'orders' }],
          eventSources: [{ id: 'web-shop', name: 'Web shop' }],
        };
        const p4 = await plan(c, smaller);
        assert.deepEqual(p4.changes, []);
        assert.deepEqual(p4.orphans.sort(), ['actionTargets/lamp', 'rules/big-orders', 'sinks/orders-hook']);
        const r4 = await apply(c, smaller);
        assert.equal(r4.doc.state, 'SUCCEEDED');
        assert.equal((await call(c, 'GET', '/v1/sinks/orders-hook', undefined, c.h.t.admin)).statusCode, 200);

        // with prune: deleted, the rule before the action target it uses
        const p5 = await plan(c, smaller, true);
        assert.deepEqual(summary(p5), [
          'delete rules/big-orders',
          'delete sinks/orders-hook',
          'delete actionTargets/lamp',
        ]);
        assert.deepEqual(p5.changes[2]!.after, ['rules/big-orders']);
        const r5 = await apply(c, smaller, true);
        assert.equal(r5.doc.state, 'SUCCEEDED', r5.text);
        for (const url of ['/v1/sinks/orders-hook', '/v1/rules/big-orders', '/v1/action-targets/lamp']) {
          assert.equal((await call(c, 'GET', url, undefined, c.h.t.admin)).statusCode, 404, url);
        }
        assert.equal(
          (await call(c, 'GET', '/v1/sinks/rule-big-orders', undefined, c.h.t.admin)).statusCode,
          404,
          'the rule’s own sinks went with it',
        );
        const datasets = (await call(c, 'GET', '/v1/specs')).json().datasets as { managed: string[] }[];
        assert.deepEqual(datasets[0]!.managed.sort(), ['eventSources/web-shop', 'streams/orders']);
      } finally {
        await Promise.all([rx1.close(), rx2.close(), actions.close()]);
      }
    }));

  it('a failing stream pipeline fails the sink and rule pipelines depending on it; claims keep another dataset’s sink', () =>
    withSpecs(async (c) => {
      const rx = await startReceiver();
      try {
        const bob = await c.h.t.keyWith(['manage:*'], 'bob');
        assert.equal((await call(c, 'POST', '/v1/streams', { name: 'shared' }, bob)).statusCode, 201);
        const grab = {
          meta: { owner: 'alice', dataset: 'grab' },
          streams: [{ name: 'shared', description: 'mine now' }],
          actionTargets: [{ id: 'lamp', name: 'Lamp', url: rx.url }],
          sinks: [{ id: 'shared-hook', streams: ['shared'], target: { kind: 'http', url: rx.url } }],
          rules: [
            {
              id: 'on-shared',
              streams: ['shared'],
              conditions: [{ expression: 'true' }],
              actions: [{ actionTargetId: 'lamp', actionTypeId: 'x' }],
            },
          ],
        };
        const { doc } = await apply(c, grab);
        assert.equal(doc.state, 'FAILED');
        const status = Object.fromEntries(doc.pipelines.map((p) => [p.id, p.status]));
        assert.deepEqual(status, {
          'alice/grab/1/streams/shared': 'FAILED',
          'alice/grab/1/actionTargets/lamp': 'SUCCEEDED',
          'alice/grab/1/sinks/shared-hook': 'FAILED',
          'alice/grab/1/rules/on-shared': 'FAILED',
        });
        const sinkPipeline = doc.pipelines.find((p) => p.id === 'alice/grab/1/sinks/shared-hook')!;
        assert.deepEqual(sinkPipeline.errors, [
          'Dependency unsuccessful. Cannot run until dependency "alice/grab/1/streams/shared" is successfully executed',
        ]);
        assert.equal((await call(c, 'GET', '/v1/sinks/shared-hook', undefined, c.h.t.admin)).statusCode, 404);

        // dataset "one" manages sink "hook"; dataset "two" declaring it fails; bob's spec cannot take it
        const hook = (dataset: string, owner = 'alice') => ({
          meta: { owner, dataset },
          streams: [{ name: `${dataset}-s` }],
          sinks: [{ id: 'hook', streams: [`${dataset}-s`], target: { kind: 'http', url: rx.url } }],
        });
        assert.equal((await apply(c, hook('one'))).doc.state, 'SUCCEEDED');
        const two = (await apply(c, hook('two'))).doc;
        assert.equal(two.state, 'FAILED');
        assert.match(
          two.pipelines.find((p) => p.id.endsWith('/sinks/hook'))!.errors[0]!,
          /managed by dataset alice\/one/,
        );
        // a sink no dataset manages, of another owner, is not adopted
        assert.equal((await call(c, 'POST', '/v1/streams', { name: 'bobs' }, bob)).statusCode, 201);
        assert.equal(
          (
            await call(
              c,
              'POST',
              '/v1/sinks',
              { id: 'loose', streams: ['bobs'], target: { kind: 'http', url: rx.url } },
              bob,
            )
          ).statusCode,
          201,
        );
        const taking = (
          await apply(c, {
            meta: { owner: 'alice', dataset: 'taking' },
            sinks: [{ id: 'loose', streams: ['one-s'], target: { kind: 'http', url: rx.url } }],
          })
        ).doc;
        assert.match(taking.pipelines[0]!.errors[0]!, /sink "loose" exists and belongs to owner "bob"/);
        assert.deepEqual((await call(c, 'GET', '/v1/sinks/loose', undefined, c.h.t.admin)).json().streams, ['bobs']);
        assert.deepEqual(
          (await call(c, 'GET', '/v1/sinks/hook', undefined, c.h.t.admin)).json().streams,
          ['one-s'],
          'the sink is still dataset one’s',
        );
      } finally {
        await rx.close();
      }
    }));

  it('refusals name the entry: bad target, bad expression, unknown field, a stream the key may not manage', () =>
    withSpecs(async (c) => {
      const base = { meta: { owner: 'alice', dataset: 'bad' }, streams: [{ name: 'orders' }] };
      const refused = async (body: Json, pointer: RegExp, headers = c.auth) => {
        const res = await call(c, 'POST', '/v1/specs', body, headers);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().code, 'SPEC_INVALID');
        assert.match(res.json().pointer as string, pointer);
      };
      await refused(
        { ...base, sinks: [{ id: 'h', streams: ['orders'], target: { kind: 'http', url: 42 } }] },
        /^\/sinks\/0\/target\/url$/,
      );
      await refused(
        { ...base, sinks: [{ id: 'h', streams: ['orders'], target: { kind: 'carrier-pigeon' } }] },
        /^\/sinks\/0\/target\/kind$/,
      );
      await refused(
        {
          ...base,
          sinks: [
            {
              id: 'h',
              streams: ['orders'],
              target: { kind: 'http', url: 'http://127.0.0.1:1/' },
              filter: { condition: 'data.total >' },
            },
          ],
        },
        /^\/sinks\/0\/filter/,
      );
      await refused(
        {
          ...base,
          sinks: [
            { id: 'h', streams: ['orders'], target: { kind: 'http', url: 'http://127.0.0.1:1/' }, colour: 'red' },
          ],
        },
        /^\/sinks\/0\/colour$/,
      );
      await refused(
        {
          ...base,
          rules: [
            {
              id: 'r',
              streams: ['orders'],
              conditions: [{ expression: '((' }],
              actions: [{ actionTargetId: 'x', actionTypeId: 'y' }],
            },
          ],
        },
        /^\/rules\/0\/conditions\/0\/expression$/,
      );
      await refused(
        {
          ...base,
          rules: [
            { id: 'r', conditions: [{ expression: 'true' }], actions: [{ actionTargetId: 'x', actionTypeId: 'y' }] },
          ],
        },
        /^\/rules\/0\/streams$/,
      );
      await refused(
        {
          ...base,
          actionTargets: [{ id: 'a', name: 'A', url: 'http://127.0.0.1:1/', auth: { type: 'basic', user: 'u' } }],
        },
        /^\/actionTargets\/0\/auth\/password$/,
      );
      const narrow = await call(
        c,
        'POST',
        '/v1/specs',
        {
          ...base,
          streams: [],
          sinks: [{ id: 'h', streams: ['theirs'], target: { kind: 'http', url: 'http://127.0.0.1:1/' } }],
        },
        await c.h.t.keyWith(['manage:orders'], 'alice'),
      );
      assert.equal(narrow.statusCode, 403);
      assert.equal(narrow.json().needs, 'manage:theirs');
      assert.equal(
        (await call(c, 'GET', '/v1/specs/alice/bad/revisions/latest')).statusCode,
        404,
        'nothing was stored',
      );
    }));
});
