/**
 * Secrets of an action target when it changes, end to end: the real app and engine, a rule
 * whose actions go to a real receiver that checks what arrives (auth, secret header, Standard
 * Webhooks signatures), and specs applied by the applier. Sent back as answered ("[redacted]")
 * a secret is kept and never stored, left out of a PATCH it is kept, a new value replaces it,
 * null removes it; a spec re-uploaded as its revision was answered keeps them too, and no
 * answer ever carries one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecApplier } from '../../src/core/specs/spec-applier.js';
import { generateWebhookSecret } from '../../src/delivery/signing.js';
import { signaturesOn, signedWith, startReceiver, type Received, type Receiver } from '../support/receiver.js';
import { startRules, until, type RulesHarness } from '../support/rules-harness.js';

const S1 = generateWebhookSecret();
const S2 = generateWebhookSecret();
const PASSWORD = 'pass-8f14e45fce';
const TOKEN = 'token-c9f0f895fb';
const SPEC_TOKEN = 'spec-token-45c48cce2e';
const KEY_1 = 'api-key-1-d3d9446802';
const KEY_2 = 'api-key-2-6512bd43d9';
const SECRETS = [
  S1,
  S2,
  PASSWORD,
  TOKEN,
  SPEC_TOKEN,
  KEY_1,
  KEY_2,
  Buffer.from(`u:${PASSWORD}`).toString('base64'),
].flatMap((s) => [s, s.replace(/^whsec_/, '')]);
const ACTIONS_SINK = 'rule-r-actions';
const ADMIN = { owner: '', admin: true };

type Json = Record<string, unknown>;

/** every answer the tests got, to look for secrets in */
const answers: string[] = [];

async function call(
  h: RulesHarness,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: unknown,
  headers = h.t.admin,
): Promise<{ status: number; json: Json }> {
  const res = await h.t.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as Json }),
  });
  answers.push(res.body);
  return { status: res.statusCode, json: res.body === '' ? {} : res.json() };
}

async function patchTarget(h: RulesHarness, patch: Json): Promise<Json> {
  const res = await call(h, 'PATCH', '/v1/action-targets/lamp', patch);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

/**
 * Applies `patch` while the rule's actions sink is paused (its runner gone), then fires one
 * action: it goes out with the changed target only.
 */
async function fireAfter(
  h: RulesHarness,
  rx: Receiver,
  step: number,
  patch: Json,
): Promise<{ target: Json; request: Received }> {
  const target = await patchTarget(h, patch);
  assert.equal((await call(h, 'POST', '/v1/streams/iflux/events', [{ type: 'tick', data: { step } }])).status, 201);
  await h.t.services.sinks.resume(ACTIONS_SINK);
  const request = await until(`the action of step ${step}`, () =>
    rx.requests.find((q) => (JSON.parse(q.body) as { properties: { step: number } }).properties.step === step),
  );
  await h.t.services.sinks.pause(ACTIONS_SINK);
  await until('the actions runner to stop', () => !h.engine.owned().includes(ACTIONS_SINK));
  return { target, request };
}

const stored = (h: RulesHarness, id = 'lamp') => h.t.services.actionTargets.get(id, ADMIN);

describe('action targets: secrets when one changes', () => {
  it('keeps "[redacted]" and left-out secrets, replaces new ones, removes nulls, refuses a placeholder with nothing stored', async () => {
    const h = await startRules();
    const rx = await startReceiver();
    try {
      const created = await call(h, 'POST', '/v1/action-targets', {
        id: 'lamp',
        name: 'lamp',
        url: `${rx.url}/one`,
        auth: { type: 'basic', user: 'u', password: PASSWORD },
        headers: { 'X-Api-Key': KEY_1, 'x-trace': 'on' },
        signing: { secrets: [S1] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal(
        (
          await call(h, 'POST', '/v1/rules', {
            id: 'r',
            conditions: [{ expression: 'data.step > 0' }],
            actions: [{ actionTargetId: 'lamp', actionTypeId: '/actionTypes/blink' }],
          })
        ).status,
        201,
      );
      await h.t.services.sinks.pause(ACTIONS_SINK);
      await until('the actions runner to stop', () => !h.engine.owned().includes(ACTIONS_SINK));

      // GET, edit, PATCH back whole with the placeholders: the stored secrets are used and stay stored
      const {
        id: _id,
        owner: _owner,
        createdAt: _c,
        updatedAt: _u,
        ...shown
      } = (await call(h, 'GET', '/v1/action-targets/lamp')).json;
      assert.deepEqual(shown['auth'], { type: 'basic', user: 'u', password: '[redacted]' });
      const edited = await fireAfter(h, rx, 1, {
        ...shown,
        name: 'lamp 2',
        url: `${rx.url}/two`,
        headers: { ...(shown['headers'] as Json), 'x-trace': 'again' },
      });
      assert.equal(edited.request.url, '/two');
      assert.equal(edited.request.headers.authorization, `Basic ${Buffer.from(`u:${PASSWORD}`).toString('base64')}`);
      assert.equal(edited.request.headers['x-api-key'], KEY_1, 'the stored value, not the placeholder');
      assert.equal(edited.request.headers['x-trace'], 'again');
      assert.ok(signedWith(edited.request, S1));
      assert.equal(signaturesOn(edited.request), 1);
      assert.deepEqual(edited.target['auth'], { type: 'basic', user: 'u', password: '[redacted]' });
      assert.doesNotMatch(JSON.stringify(await stored(h)), /\[redacted\]/, 'the placeholder is never stored');
      assert.deepEqual((await stored(h)).headers, { 'x-api-key': KEY_1, 'x-trace': 'again' });

      // left out of a PATCH: kept (headers given without the secret one, auth without its password)
      const partial = await fireAfter(h, rx, 2, {
        url: `${rx.url}/three`,
        headers: { 'x-trace': 'off' },
        auth: { type: 'basic', user: 'u' },
      });
      assert.equal(partial.request.headers['x-api-key'], KEY_1);
      assert.equal(partial.request.headers['x-trace'], 'off');
      assert.equal(partial.request.headers.authorization, `Basic ${Buffer.from(`u:${PASSWORD}`).toString('base64')}`);
      assert.ok(signedWith(partial.request, S1));
      assert.deepEqual((await stored(h)).auth, { type: 'basic', user: 'u', password: PASSWORD });

      // new values replace; a signing secret added beside the stored one (rotation by position)
      const replaced = await fireAfter(h, rx, 3, {
        auth: { type: 'bearer', token: TOKEN },
        headers: { 'x-api-key': KEY_2 },
        signing: { secrets: ['[redacted]', S2] },
      });
      assert.equal(replaced.request.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(replaced.request.headers['x-api-key'], KEY_2);
      assert.equal(signaturesOn(replaced.request), 2);
      assert.ok(signedWith(replaced.request, S1) && signedWith(replaced.request, S2));
      assert.deepEqual(replaced.target['signing'], { secrets: ['[redacted]', '[redacted]'] });

      // the placeholder where nothing is stored: 400 naming the field, nothing changed
      const refusals: [string, string, Json][] = [
        ['PATCH', '/auth/password', { auth: { type: 'basic', user: 'u', password: '[redacted]' } }], // the stored secret is a token
        ['PATCH', '/headers/authorization-token', { headers: { 'authorization-token': '[redacted]' } }],
        ['PATCH', '/signing/secrets/2', { signing: { secrets: ['[redacted]', '[redacted]', '[redacted]'] } }],
        [
          'POST',
          '/auth/token',
          { id: 'fresh', name: 'fresh', url: `${rx.url}/x`, auth: { type: 'bearer', token: '[redacted]' } },
        ],
        [
          'POST',
          '/headers/x-api-key',
          { id: 'fresh', name: 'fresh', url: `${rx.url}/x`, headers: { 'x-api-key': '[redacted]' } },
        ],
      ];
      for (const [method, pointer, body] of refusals) {
        const res = await call(
          h,
          method as 'PATCH' | 'POST',
          method === 'POST' ? '/v1/action-targets' : '/v1/action-targets/lamp',
          body,
        );
        assert.equal(res.status, 400, `${pointer}: ${JSON.stringify(res.json)}`);
        assert.equal(res.json['code'], 'VALIDATION_FAILED');
        assert.equal(res.json['pointer'], pointer);
        assert.match(String(res.json['detail']), /no secret is stored there/);
      }
      assert.equal((await call(h, 'GET', '/v1/action-targets/fresh')).status, 404);
      assert.deepEqual((await stored(h)).auth, { type: 'bearer', token: TOKEN });

      // null removes: the auth, the secret header, the old signing secret by its position
      const removed = await fireAfter(h, rx, 4, {
        auth: null,
        headers: { 'x-api-key': null, 'x-trace': 'on' },
        signing: { secrets: [null, '[redacted]'] },
      });
      assert.equal(removed.request.headers.authorization, undefined);
      assert.equal(removed.request.headers['x-api-key'], undefined);
      assert.equal(signaturesOn(removed.request), 1);
      assert.ok(signedWith(removed.request, S2) && !signedWith(removed.request, S1));
      const unsigned = await fireAfter(h, rx, 5, { signing: null });
      assert.equal(unsigned.request.headers['webhook-signature'], undefined);
      const { auth, headers, signing } = await stored(h);
      assert.deepEqual({ auth, headers, signing }, { auth: null, headers: { 'x-trace': 'on' }, signing: null });

      await call(h, 'GET', '/v1/action-targets');
      await call(h, 'GET', `/v1/sinks/${ACTIONS_SINK}`);
      for (const secret of SECRETS) assert.ok(!answers.some((a) => a.includes(secret)), 'no answer carries a secret');
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('specs: a revision uploaded again as answered keeps the secrets; what a spec leaves out is removed', async () => {
    const h = await startRules();
    const applier = new SpecApplier(h.t.services.specs);
    applier.start();
    try {
      const alice = await h.t.keyWith(['manage:*'], 'alice');
      const apply = async (body: Json): Promise<Json> => {
        const res = await call(h, 'POST', '/v1/specs', body, alice);
        assert.equal(res.status, 201, JSON.stringify(res.json));
        await applier.idle();
        const revision = (
          await call(h, 'GET', `/v1/specs/alice/lamps/revisions/${String(res.json['revision'])}`, undefined, alice)
        ).json;
        assert.equal(revision['revision'], res.json['revision']);
        assert.equal(revision['state'], 'SUCCEEDED', JSON.stringify(revision));
        return revision;
      };
      const plan = async (body: Json) => call(h, 'POST', '/v1/specs/plan', body, alice);
      const meta = { owner: 'alice', dataset: 'lamps' };
      const lamp = {
        id: 'spec-lamp',
        name: 'Lamp',
        url: 'http://127.0.0.1:9/lamp',
        auth: { type: 'bearer', token: SPEC_TOKEN },
        headers: { 'x-api-key': KEY_1 },
        signing: { secrets: [S1] },
      };
      const first = await apply({ meta, actionTargets: [lamp] });

      const answered = (first['spec'] as { actionTargets: Json[] }).actionTargets[0]!;
      assert.deepEqual(answered['auth'], { type: 'bearer', token: '[redacted]' });
      assert.deepEqual(answered['headers'], { 'x-api-key': '[redacted]' });
      const again = await plan({ meta, actionTargets: [answered] });
      assert.equal(again.status, 200, JSON.stringify(again.json));
      assert.deepEqual(again.json['changes'], [], 'the placeholders stand for the stored secrets: nothing to change');

      // answered and edited: updated, the secrets as stored before
      const plannedEdit = await plan({ meta, actionTargets: [{ ...answered, name: 'Lamp 2' }] });
      assert.deepEqual(
        (plannedEdit.json['changes'] as { changes: { path: string }[] }[])[0]!.changes.map((c) => c.path),
        ['/name'],
      );
      await apply({ meta, actionTargets: [{ ...answered, name: 'Lamp 2' }] });
      const kept = await stored(h, 'spec-lamp');
      assert.equal(kept.name, 'Lamp 2');
      assert.deepEqual(
        { auth: kept.auth, headers: kept.headers, signing: kept.signing },
        { auth: { type: 'bearer', token: SPEC_TOKEN }, headers: { 'x-api-key': KEY_1 }, signing: { secrets: [S1] } },
      );

      // the spec gives the whole target: a secret it leaves out is removed, a new one replaces
      await apply({
        meta,
        actionTargets: [
          { ...answered, name: 'Lamp 2', auth: { type: 'bearer', token: TOKEN }, headers: {}, signing: undefined },
        ],
      });
      const replaced = await stored(h, 'spec-lamp');
      assert.deepEqual(
        { auth: replaced.auth, headers: replaced.headers, signing: replaced.signing },
        { auth: { type: 'bearer', token: TOKEN }, headers: {}, signing: null },
      );

      // the placeholder with nothing stored (a new action target): refused, naming the field
      const fresh = await plan({ meta, actionTargets: [{ ...answered, id: 'other-lamp' }] });
      assert.equal(fresh.status, 400, JSON.stringify(fresh.json));
      assert.equal(fresh.json['code'], 'SPEC_INVALID');
      assert.equal(fresh.json['pointer'], '/actionTargets/0/auth/token');

      for (const secret of SECRETS) assert.ok(!answers.some((a) => a.includes(secret)), 'no answer carries a secret');
    } finally {
      await applier.close();
      await h.close();
    }
  });
});
