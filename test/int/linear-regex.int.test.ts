/**
 * User-supplied regular expressions and expressions cannot hold the server: JSONPath
 * match()/search() in an aether dry run, JSON Schema patterns (native and through a spec),
 * sink filters and transforms, rule conditions. Each hostile request is answered, and
 * /healthz is answered after it. On the SQLite store: regex handling does not depend on it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startDeliveryApp, until } from '../support/delivery-app.js';
import { FAST_RETRY, startRules } from '../support/rules-harness.js';
import type { TestApp } from '../support/test-app.js';

/** 100,000 characters: a backtracking engine would not come back from `(a+)+b` on these. */
const LONG = 'a'.repeat(100_000);
const FAST_RETRY_ONCE = { ...FAST_RETRY, maxAttempts: 1 };
const FIB = '($f := function($n){$n<=1?1:$f($n-1)+$f($n-2)}; $f(40))';

async function healthy(t: TestApp): Promise<void> {
  const res = await t.app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200, res.body);
}

describe('linear-time regular expressions through the HTTP routes', () => {
  it('aether dry run: match() with (a+)+b on a long string is answered, a lookaround is refused naming the datamap key', async () => {
    const h = await startDeliveryApp('aether regex', { dialects: { aether: {} } });
    try {
      const secret = String((await h.t.keyWith(['produce:nothing-*'])).authorization).slice('Bearer '.length);
      const basic = { authorization: `Basic ${Buffer.from(`aether:${secret}`).toString('base64')}` };
      const res = await h.t.app.inject({
        method: 'POST',
        url: '/jobs/dry-run',
        headers: basic,
        payload: {
          datamap: { x: '$.msg[?match(@.s, "(a+)+b")]', y: '$.msg[?search(@.s, "a+b")].n' },
          msg: [
            { s: LONG, n: 1 },
            { s: `${LONG}b`, n: 2 },
          ],
        },
      });
      assert.equal(res.statusCode, 200, res.body.slice(0, 500));
      assert.equal(res.json().mapped.x.s.length, 100_001);
      assert.equal(res.json().mapped.y, 2);
      await healthy(h.t);

      const refused = await h.t.app.inject({
        method: 'POST',
        url: '/jobs/dry-run',
        headers: basic,
        payload: { datamap: { x: '$.msg[?match(@.s, "a(?=b)")]' }, msg: [] },
      });
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(refused.json().code, 'UNSUPPORTED_REGEX');
      assert.equal(refused.json().field, '/datamap/x');
      assert.match(refused.json().error, /lookaround/);
    } finally {
      await h.close();
    }
  });

  it('schemas: a pattern runs on RE2 at ingest; a backreference or lookaround is refused at registration, natively and in a spec', async () => {
    const h = await startDeliveryApp('schema regex');
    try {
      const { t } = h;
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'words' } }))
          .statusCode,
        201,
      );
      const manager = await t.keyWith(['manage:words'], 'admin');
      const schema = {
        type: 'object',
        properties: { s: { type: 'string', pattern: '^(a+)+$' } },
        patternProperties: { '^x-(a+)+$': { type: 'number' } },
      };
      const registered = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/words/schemas/w',
        headers: manager,
        payload: schema,
      });
      assert.equal(registered.statusCode, 201, registered.body);

      const producer = await t.keyWith(['produce:words'], 'admin');
      const hostile = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/words/events',
        headers: producer,
        payload: { type: 'w', data: { s: `${LONG}!` } },
      });
      assert.equal(hostile.statusCode, 422, hostile.body.slice(0, 500));
      assert.equal(hostile.json().code, 'SCHEMA_VIOLATION');
      await healthy(t);
      const keyed = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/words/events',
        headers: producer,
        payload: { type: 'w', data: { s: 'aaa', [`x-${'a'.repeat(5000)}`]: 'not a number' } },
      });
      assert.equal(keyed.statusCode, 422, keyed.body.slice(0, 500));
      const fine = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/words/events',
        headers: producer,
        payload: { type: 'w', data: { s: 'aaaa' } },
      });
      assert.equal(fine.statusCode, 201, fine.body);

      const lookaround = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/words/schemas/w2',
        headers: manager,
        payload: { properties: { s: { pattern: '^(?!admin)' } } },
      });
      assert.equal(lookaround.statusCode, 400, lookaround.body);
      assert.match(String(lookaround.headers['content-type']), /application\/problem\+json/);
      assert.equal(lookaround.json().code, 'UNSUPPORTED_REGEX');
      assert.equal(lookaround.json().pointer, '/properties/s/pattern');
      assert.equal(lookaround.json().reason, 'lookaround');
      const wrapped = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/words/schemas/w2',
        headers: manager,
        payload: { schema: { patternProperties: { '(a)\\1': {} } } },
      });
      assert.equal(wrapped.statusCode, 400, wrapped.body);
      assert.equal(wrapped.json().pointer, '/schema/patternProperties/(a)\\1');
      assert.equal(wrapped.json().reason, 'backreference');

      const spec = {
        meta: { owner: 'admin', dataset: 'words' },
        streams: [{ name: 'spelled' }],
        schemas: [{ stream: 'spelled', type: 'w', schema: { properties: { s: { pattern: '(?<=x)y' } } } }],
      };
      const planned = await t.app.inject({ method: 'POST', url: '/v1/specs/plan', headers: t.admin, payload: spec });
      assert.equal(planned.statusCode, 400, planned.body);
      assert.equal(planned.json().code, 'SPEC_INVALID');
      assert.equal(planned.json().pointer, '/schemas/0/schema/properties/s/pattern');
      assert.match(planned.json().detail, /lookaround/);
      // the specstore dialect answers its own upload format, naming the same field
      const uploaded = await t.app.inject({
        method: 'POST',
        url: '/source/upload',
        headers: { 'auth-token': t.adminKey, 'content-type': 'application/json' },
        payload: JSON.stringify(spec),
      });
      assert.equal(uploaded.statusCode, 200, uploaded.body);
      assert.equal(uploaded.json().success, false);
      assert.match(uploaded.json().errors.join(' '), /\/schemas\/0\/schema\/properties\/s\/pattern: .*lookaround/);
    } finally {
      await h.close();
    }
  });

  it('sinks: a regex in a filter is refused naming the field; a hostile transform fails its delivery, not the server', async () => {
    const h = await startDeliveryApp('sink regex');
    try {
      const { t } = h;
      for (const name of ['in', 'out'])
        assert.equal(
          (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name } })).statusCode,
          201,
        );
      const refused = await t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: t.admin,
        payload: {
          id: 'bad',
          streams: ['in'],
          target: { kind: 'stream', stream: 'out' },
          filter: { condition: '$contains(data.s, /(a)\\1/)' },
        },
      });
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(refused.json().code, 'UNSUPPORTED_REGEX');
      assert.equal(refused.json().pointer, '/filter/condition');

      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: t.admin,
        payload: {
          id: 'hostile',
          streams: ['in'],
          start: { from: 'beginning' },
          target: { kind: 'stream', stream: 'out' },
          filter: { condition: '$contains(data.s, /(a+)+b/) or $contains(data.s, "z")' },
          transform: `data.s = "z" ? ${FIB} : {"s": $length(data.s)}`,
          policy: { retry: FAST_RETRY_ONCE },
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      const produce = (s: string) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/streams/in/events',
          headers: t.admin,
          payload: { type: 't', data: { s } },
        });
      assert.equal((await produce(`${'a'.repeat(9_000)}b`)).statusCode, 201);
      assert.equal((await produce('z')).statusCode, 201);
      assert.equal((await produce(`${'a'.repeat(9_000)}b`)).statusCode, 201);
      // the hostile event does not stop the ones after it
      const delivered = await until('both good events delivered', async () => {
        const events = (await t.app.inject({ method: 'GET', url: '/v1/streams/out/events', headers: t.admin })).json()
          .events as Array<{ data: { s: number } }>;
        return events.length === 2 ? events : undefined;
      });
      assert.deepEqual(
        delivered.map((e) => e.data.s),
        [9_001, 9_001],
      );
      const attempts = await until('the failed attempt logged', async () => {
        const res = await t.app.inject({ method: 'GET', url: '/v1/sinks/hostile/attempts', headers: t.admin });
        const body = res.body;
        return /time budget/.test(body) ? body : undefined;
      });
      assert.match(attempts, /timeoutMs|time budget of 100 ms/);
      await healthy(t);
    } finally {
      await h.close();
    }
  });

  it('rules: a regex condition runs in linear time; a lookaround is refused naming the condition; a hostile transform is a 4xx', async () => {
    const h = await startRules();
    try {
      await h.post('/v1/action-targets', { id: 'lamp', name: 'lamp', url: 'http://127.0.0.1:9/lamp' });
      const refused = await h.t.app.inject({
        method: 'POST',
        url: '/v1/rules',
        headers: h.t.admin,
        payload: {
          id: 'bad',
          name: 'bad',
          conditions: [{ expression: '$contains(data.s, /^(?=a)/)' }],
          actions: [{ actionTargetId: 'lamp', actionTypeId: 'blink' }],
        },
      });
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(refused.json().code, 'UNSUPPORTED_REGEX');
      assert.equal(refused.json().pointer, '/conditions/0/expression');

      await h.post('/v1/rules', {
        id: 'r',
        name: 'r',
        conditions: [{ expression: '$contains(data.s, /(a+)+b/)' }, { expression: 'data.s = "z"' }],
        actions: [
          {
            actionTargetId: 'lamp',
            actionTypeId: 'blink',
            transform: `data.s = "z" ? ${FIB} : {"n": $length(data.s)}`,
          },
        ],
      });
      const linear = await h.t.app.inject({
        method: 'POST',
        url: '/v1/rules/r/validate',
        headers: h.t.admin,
        payload: { type: 't', source: '/s', data: { s: `${'a'.repeat(9_000)}!` } },
      });
      assert.equal(linear.statusCode, 422, linear.body);
      assert.equal(linear.json().code, 'RULE_NOT_MATCHED');
      await healthy(h.t);

      const hostile = await h.t.app.inject({
        method: 'POST',
        url: '/v1/rules/r/validate',
        headers: h.t.admin,
        payload: { type: 't', source: '/s', data: { s: 'z' } },
      });
      assert.ok(hostile.statusCode >= 400 && hostile.statusCode < 500, hostile.body);
      assert.equal(hostile.json().code, 'INVALID_EXPRESSION');
      assert.equal(hostile.json().limit, 'timeoutMs');
      assert.equal(hostile.json().pointer, '/actions/0/transform');
      await healthy(h.t);
    } finally {
      await h.close();
    }
  });
});
