/**
 * The rules API (native /v1): event sources, event types (schemas in the registry), action
 * targets (secrets redacted, URL guard), rules (validation with pointers, dry run both ways,
 * referential integrity, owners), over the real app and store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startRules, type RulesHarness } from '../support/rules-harness.js';

const T = '/eventTypes/temperatureEventSchema';

async function basics(h: RulesHarness) {
  const source = await h.post('/v1/event-sources', { id: 'sensor', name: 'sensor', publicId: 'JI8928JFK' });
  const type = await h.post('/v1/event-types', { id: 'temp', type: T });
  const target = await h.post('/v1/action-targets', {
    id: 'lamp',
    name: 'lamp',
    url: 'http://127.0.0.1:9/lamp',
    auth: { type: 'bearer', token: 'sekret-token' },
  });
  return { source, type, target };
}

async function call(
  h: RulesHarness,
  method: 'GET' | 'DELETE' | 'PATCH' | 'POST',
  url: string,
  payload?: unknown,
  headers = h.t.admin,
) {
  const res = await h.t.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { status: res.statusCode, body: res.body === '' ? null : res.json(), type: res.headers['content-type'] };
}

describe('rules API: dry run', () => {
  it('answers the matched conditions and the rendered actions, or 422 when nothing matched', async () => {
    const h = await startRules();
    try {
      await basics(h);
      await h.post('/v1/rules', {
        id: 'r1',
        name: 'hot room',
        conditions: [
          { eventTypeId: 'temp', expression: 'data.temperature > 25' },
          { eventSourceId: 'sensor', expression: 'data.location = "roof"' },
        ],
        actions: [
          {
            actionTargetId: 'lamp',
            actionTypeId: '/actionTypes/blink',
            transform: '{"times": $round(data.temperature / 10)}',
          },
        ],
      });
      const sample = {
        timestamp: '2015-01-12T05:21:07Z',
        source: '/event-sources/JI8928JFK',
        type: T,
        properties: { temperature: 31.5, location: 'roof' },
      };
      const hit = await call(h, 'POST', '/v1/rules/r1/validate', sample);
      assert.equal(hit.status, 200, JSON.stringify(hit.body));
      assert.deepEqual(hit.body, {
        matchedConditions: [
          { index: 0, eventTypeId: 'temp', expression: 'data.temperature > 25' },
          { index: 1, eventSourceId: 'sensor', expression: 'data.location = "roof"' },
        ],
        matchedActions: [
          {
            target: 'lamp',
            type: '/actionTypes/blink',
            properties: { times: 3 },
            url: 'http://127.0.0.1:9/lamp',
            method: 'POST',
          },
        ],
      });
      // the native shape works too
      const native = await call(h, 'POST', '/v1/rules/r1/validate', {
        type: T,
        source: '/x',
        data: { temperature: 26 },
      });
      assert.equal(native.status, 200);
      assert.deepEqual(
        native.body.matchedConditions.map((c: { index: number }) => c.index),
        [0],
      );

      const miss = await call(h, 'POST', '/v1/rules/r1/validate', {
        ...sample,
        properties: { temperature: 20, location: 'cellar' },
      });
      assert.equal(miss.status, 422);
      assert.match(String(miss.type), /application\/problem\+json/);
      assert.equal(miss.body.title, 'The event was not matched by the rule.');
      assert.equal(miss.body.code, 'RULE_NOT_MATCHED');

      const bad = await call(h, 'POST', '/v1/rules/r1/validate', {
        timestamp: 'yesterday',
        source: 's',
        type: 't',
        properties: {},
      });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.code, 'INVALID_EVENT');
      assert.equal((await call(h, 'POST', '/v1/rules/nope/validate', sample)).status, 404);

      // a change tried before it is saved: the draft's conditions and actions stand in
      const draft = await call(h, 'POST', '/v1/rules/r1/validate', {
        sample: { ...sample, properties: { temperature: 20, location: 'cellar' } },
        conditions: [{ expression: 'data.temperature > 15' }],
        actions: [{ actionTargetId: 'lamp', actionTypeId: '/actionTypes/dim' }],
      });
      assert.equal(draft.status, 200, JSON.stringify(draft.body));
      assert.deepEqual(draft.body.matchedConditions, [{ index: 0, expression: 'data.temperature > 15' }]);
      assert.equal(draft.body.matchedActions[0].type, '/actionTypes/dim');
      assert.deepEqual(
        (await call(h, 'GET', '/v1/rules/r1')).body.conditions.map((c: { expression: string }) => c.expression),
        ['data.temperature > 25', 'data.location = "roof"'],
        'nothing saved',
      );
      const badDraft = await call(h, 'POST', '/v1/rules/r1/validate', {
        sample,
        conditions: [{ expression: 'data.temperature >' }],
      });
      assert.equal(badDraft.status, 400);
      assert.equal(
        (
          await call(h, 'POST', '/v1/rules/r1/validate', {
            sample,
            actions: [{ actionTargetId: 'nope', actionTypeId: 'x' }],
          })
        ).status,
        400,
      );
    } finally {
      await h.close();
    }
  });
});

describe('rules API: definitions', () => {
  it('refuses bad rules with the field named, never a 500', async () => {
    const h = await startRules();
    try {
      await basics(h);
      const cases: { body: Record<string, unknown>; status: number; code: string; pointer?: string }[] = [
        {
          body: { conditions: [{ eventSourceId: 'ghost' }], actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }] },
          status: 400,
          code: 'VALIDATION_FAILED',
          pointer: '/conditions/0/eventSourceId',
        },
        {
          body: { conditions: [{ eventTypeId: 'ghost' }], actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }] },
          status: 400,
          code: 'VALIDATION_FAILED',
          pointer: '/conditions/0/eventTypeId',
        },
        {
          body: { conditions: [{ eventTypeId: 'temp' }], actions: [{ actionTargetId: 'ghost', actionTypeId: 'a' }] },
          status: 400,
          code: 'VALIDATION_FAILED',
          pointer: '/actions/0/actionTargetId',
        },
        {
          body: {
            conditions: [{ expression: 'data.temperature >' }],
            actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }],
          },
          status: 400,
          code: 'INVALID_EXPRESSION',
          pointer: '/conditions/0/expression',
        },
        {
          body: {
            conditions: [{ eventTypeId: 'temp' }],
            actions: [{ actionTargetId: 'lamp', actionTypeId: 'a', transform: '{"a": }' }],
          },
          status: 400,
          code: 'INVALID_EXPRESSION',
          pointer: '/actions/0/transform',
        },
        {
          body: {
            conditions: [{ eventTypeId: 'temp', fn: 'x' }],
            actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }],
          },
          status: 400,
          code: 'BAD_REQUEST',
          pointer: '/conditions/0/fn',
        },
        {
          body: { conditions: [], actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }] },
          status: 400,
          code: 'BAD_REQUEST',
          pointer: '/conditions',
        },
        {
          body: { conditions: [{ eventTypeId: 'temp' }], actions: [] },
          status: 400,
          code: 'BAD_REQUEST',
          pointer: '/actions',
        },
        {
          body: {
            streams: ['missing'],
            conditions: [{ eventTypeId: 'temp' }],
            actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }],
          },
          status: 404,
          code: 'STREAM_NOT_FOUND',
        },
        {
          body: {
            id: 'has.dot',
            conditions: [{ eventTypeId: 'temp' }],
            actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }],
          },
          status: 400,
          code: 'VALIDATION_FAILED',
          pointer: '/id',
        },
        {
          body: {
            conditions: [{ eventTypeId: 'temp' }],
            actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }],
            delivery: { retry: { maxAttempts: 0 } },
          },
          status: 400,
          code: 'VALIDATION_FAILED',
          pointer: '/delivery/retry/maxAttempts',
        },
      ];
      for (const c of cases) {
        const res = await call(h, 'POST', '/v1/rules', c.body);
        assert.equal(res.status, c.status, `${JSON.stringify(c.body)} → ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, c.code, JSON.stringify(res.body));
        if (c.pointer !== undefined)
          assert.equal(res.body.pointer ?? res.body.details?.pointer, c.pointer, JSON.stringify(res.body));
      }
      // nothing was left behind by the refused ones
      assert.deepEqual((await call(h, 'GET', '/v1/rules')).body.rules, []);
      assert.deepEqual((await call(h, 'GET', '/v1/sinks')).body.sinks, []);
    } finally {
      await h.close();
    }
  });

  it('keeps referential integrity: a source, type or target in use cannot be deleted (409 naming the rule)', async () => {
    const h = await startRules();
    try {
      await basics(h);
      await h.post('/v1/rules', {
        id: 'guard',
        name: 'guards',
        conditions: [{ eventSourceId: 'sensor', eventTypeId: 'temp' }],
        actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }],
      });
      for (const url of ['/v1/event-sources/sensor', '/v1/event-types/temp', '/v1/action-targets/lamp']) {
        const res = await call(h, 'DELETE', url);
        assert.equal(res.status, 409, url);
        assert.equal(res.body.code, 'RESOURCE_IN_USE');
        assert.match(res.body.detail, /rule "guard"/);
      }
      // the rule's own sinks are its business: the native sink API reads them but will not change them
      for (const sink of ['rule-guard', 'rule-guard-actions']) {
        assert.equal((await call(h, 'GET', `/v1/sinks/${sink}`)).status, 200, sink);
        for (const [method, url, payload] of [
          ['PATCH', `/v1/sinks/${sink}`, { description: 'x' }],
          ['DELETE', `/v1/sinks/${sink}`],
          ['POST', `/v1/sinks/${sink}/pause`],
          ['POST', `/v1/sinks/${sink}/resume`],
        ] as const) {
          const res = await call(h, method, url, payload);
          assert.equal(res.status, 409, `${method} ${url}`);
          assert.equal(res.body.code, 'RESOURCE_IN_USE');
          assert.match(res.body.detail, /managed by rule "guard"; .* through \/v1\/rules\/guard/);
        }
      }
      const ruleKind = await call(h, 'POST', '/v1/sinks', { streams: ['iflux'], target: { kind: 'rule' } });
      assert.equal(ruleKind.status, 400, JSON.stringify(ruleKind.body));
      assert.equal(ruleKind.body.code, 'VALIDATION_FAILED');
      const del = await call(h, 'DELETE', '/v1/rules/guard');
      assert.equal(del.status, 204);
      assert.equal((await call(h, 'GET', '/v1/sinks/rule-guard')).status, 404, "the rule's sinks go with it");
      assert.equal((await call(h, 'GET', '/v1/streams/_rule.guard.actions')).status, 404, 'and its actions stream');
      for (const url of ['/v1/event-sources/sensor', '/v1/event-types/temp', '/v1/action-targets/lamp']) {
        assert.equal((await call(h, 'DELETE', url)).status, 204, url);
        assert.equal((await call(h, 'GET', url)).status, 404, url);
      }
    } finally {
      await h.close();
    }
  });

  it('changes a rule and follows action target changes', async () => {
    const h = await startRules();
    try {
      await basics(h);
      await h.post('/v1/rules', {
        id: 'r',
        conditions: [{ eventTypeId: 'temp' }],
        actions: [{ actionTargetId: 'lamp', actionTypeId: 'a' }],
      });
      await h.post('/v1/action-targets', { id: 'siren', name: 'siren', url: 'http://127.0.0.1:9/siren' });
      const changed = await call(h, 'PATCH', '/v1/rules/r', {
        name: 'two actions',
        actions: [
          { actionTargetId: 'lamp', actionTypeId: 'a' },
          { actionTargetId: 'siren', actionTypeId: 'b' },
        ],
      });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(changed.body.name, 'two actions');
      assert.equal(changed.body.actions.length, 2);
      const stale = await call(h, 'PATCH', '/v1/rules/r', { version: 1, name: 'x' });
      assert.equal(stale.status, 409);

      const moved = await call(h, 'PATCH', '/v1/action-targets/siren', { url: 'http://127.0.0.1:9/siren2' });
      assert.equal(moved.status, 200);
      const sink = (await call(h, 'GET', '/v1/sinks/rule-r-actions')).body;
      assert.equal(sink.target.targets.siren.url, 'http://127.0.0.1:9/siren2');
      assert.equal(sink.target.targets.lamp.token, '[redacted]', "the rule's sink answers secrets redacted too");
      const dry = await call(h, 'POST', '/v1/rules/r/validate', { type: T, data: {} });
      assert.deepEqual(
        dry.body.matchedActions.map((a: { url: string }) => a.url),
        ['http://127.0.0.1:9/lamp', 'http://127.0.0.1:9/siren2'],
      );
    } finally {
      await h.close();
    }
  });
});

describe('rules API: resources', () => {
  it('never answers action target secrets', async () => {
    const h = await startRules();
    try {
      const created = await h.post('/v1/action-targets', {
        id: 'hook',
        name: 'hook',
        url: 'https://example.com/hook',
        auth: { type: 'basic', user: 'u', password: 'p4ss' },
        headers: { 'x-api-key': 'k3y', 'x-plain': 'visible' },
        signing: { secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] },
      });
      for (const body of [
        created,
        (await call(h, 'GET', '/v1/action-targets/hook')).body,
        (await call(h, 'GET', '/v1/action-targets')).body.actionTargets[0],
      ]) {
        const text = JSON.stringify(body);
        for (const secret of ['p4ss', 'k3y', 'whsec_']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
        assert.equal(body.auth.user, 'u');
        assert.equal(body.headers['x-plain'], 'visible');
      }
      const bad = [
        [{ name: 'x', url: 'ftp://example.com' }, '/url'],
        [{ name: 'x', url: 'https://example.com/{id}' }, '/url'],
        [{ name: 'x', url: 'https://example.com', auth: { type: 'digest' } }, '/auth'],
        [{ name: 'x', url: 'https://example.com', headers: { authorization: 'x' } }, '/headers/authorization'],
        [{ name: 'x', url: 'https://example.com', signing: { secrets: ['nope'] } }, '/signing/secrets/0'],
        [{ name: 'x', url: 'https://example.com', method: 'GET' }, '/method'],
      ] as const;
      for (const [body, pointer] of bad) {
        const res = await call(h, 'POST', '/v1/action-targets', body);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.ok(
          String(res.body.pointer ?? res.body.details?.pointer ?? '').startsWith(pointer),
          `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`,
        );
      }
    } finally {
      await h.close();
    }
  });

  it('refuses loopback action targets unless the operator allowed them', async () => {
    const h = await startRules({ allowLoopback: false });
    try {
      const res = await call(h, 'POST', '/v1/action-targets', { name: 'local', url: 'http://127.0.0.1:8080/x' });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, 'TARGET_URL_FORBIDDEN');
    } finally {
      await h.close();
    }
  });

  it("registers an event type's JSON Schema for the iFLUX stream, enforced on POST /events", async () => {
    const h = await startRules();
    try {
      const schema = { type: 'object', properties: { temperature: { type: 'number' } }, required: ['temperature'] };
      const created = await h.post('/v1/event-types', { id: 'temp', type: T, schema });
      assert.equal(created.schemaVersion, 1);
      assert.deepEqual(created.schema, schema);
      const inRegistry = await call(h, 'GET', `/v1/streams/iflux/schemas/${encodeURIComponent(T)}/versions/latest`);
      assert.equal(inRegistry.status, 200);
      assert.deepEqual(inRegistry.body.schema, schema);
      const refused = await call(h, 'POST', '/events', [
        { timestamp: '2015-01-12T05:21:07Z', source: '/s', type: T, properties: { temperature: 'hot' } },
      ]);
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      const accepted = await h.t.app.inject({
        method: 'POST',
        url: '/events',
        headers: h.t.admin,
        payload: [{ timestamp: '2015-01-12T05:21:07Z', source: '/s', type: T, properties: { temperature: 20 } }],
      });
      assert.equal(accepted.statusCode, 202);
      assert.equal((await call(h, 'POST', '/v1/event-types', { type: T })).status, 409, 'one event type per type');
      const v2 = await call(h, 'PATCH', '/v1/event-types/temp', {
        schema: { type: 'object', properties: schema.properties },
      });
      assert.equal(v2.status, 200, JSON.stringify(v2.body));
      assert.equal(v2.body.schemaVersion, 2);
      const invalid = await call(h, 'POST', '/v1/event-types', {
        type: '/eventTypes/broken',
        schema: { type: 'no-such-type' },
      });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.code, 'SCHEMA_INVALID');
      assert.equal(
        (await call(h, 'GET', '/v1/event-types')).body.eventTypes.length,
        1,
        'a refused schema leaves no event type',
      );
    } finally {
      await h.close();
    }
  });

  it('needs manage on the iFLUX stream; owners see only their own', async () => {
    const h = await startRules();
    try {
      const alice = await h.t.keyWith(['manage:iflux'], 'alice');
      const bob = await h.t.keyWith(['manage:iflux'], 'bob');
      const reader = await h.t.keyWith(['consume:iflux'], 'carol');
      assert.equal((await call(h, 'POST', '/v1/event-sources', { name: 'x' }, reader)).status, 403);
      assert.equal((await call(h, 'GET', '/v1/rules', undefined, reader)).status, 403);
      await h.post('/v1/event-sources', { id: 'a-src', name: 'alice sensor' }, 201, alice);
      await h.post('/v1/action-targets', { id: 'a-tgt', name: 'alice lamp', url: 'http://127.0.0.1:9/a' }, 201, alice);
      await h.post(
        '/v1/rules',
        {
          id: 'a-rule',
          conditions: [{ eventSourceId: 'a-src' }],
          actions: [{ actionTargetId: 'a-tgt', actionTypeId: 'a' }],
        },
        201,
        alice,
      );
      assert.equal((await call(h, 'GET', '/v1/rules/a-rule', undefined, bob)).status, 404);
      assert.deepEqual((await call(h, 'GET', '/v1/rules', undefined, bob)).body.rules, []);
      assert.deepEqual((await call(h, 'GET', '/v1/event-sources', undefined, bob)).body.eventSources, []);
      assert.equal((await call(h, 'DELETE', '/v1/action-targets/a-tgt', undefined, bob)).status, 404);
      // bob cannot point his rule at alice's resources
      const borrowed = await call(
        h,
        'POST',
        '/v1/rules',
        { conditions: [{ eventSourceId: 'a-src' }], actions: [{ actionTargetId: 'a-tgt', actionTypeId: 'a' }] },
        bob,
      );
      assert.equal(borrowed.status, 400);
      assert.equal(borrowed.body.pointer ?? borrowed.body.details?.pointer, '/conditions/0/eventSourceId');
      // a rule on another stream needs manage there too
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      const elsewhere = await call(
        h,
        'POST',
        '/v1/rules',
        {
          streams: ['orders'],
          conditions: [{ eventSourceId: 'a-src' }],
          actions: [{ actionTargetId: 'a-tgt', actionTypeId: 'a' }],
        },
        alice,
      );
      assert.equal(elsewhere.status, 403);
      assert.equal((await call(h, 'GET', '/v1/rules/a-rule', undefined, alice)).body.owner, 'alice');
      assert.equal(
        (await call(h, 'GET', '/v1/rules', undefined, h.t.admin)).body.rules.length,
        1,
        'an admin sees every rule',
      );
    } finally {
      await h.close();
    }
  });
});
