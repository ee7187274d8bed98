/**
 * Secrets of an http sink through PATCH /v1/sinks/{id}, end to end: the real app and engine,
 * a real receiver that checks the Standard Webhooks signature of every delivery. A secret left
 * out of the target or sent back as "[redacted]" is kept, a new one replaces it, null removes
 * it, signing secrets rotate by position, and no answer ever carries a secret.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateWebhookSecret } from '../../src/delivery/signing.js';
import { startDeliveryApp, until, type DeliveryApp } from '../support/delivery-app.js';
import { tempDir } from '../support/resources.js';
import { signaturesOn, signedWith, startReceiver, type Received, type Receiver } from '../support/receiver.js';

const S1 = generateWebhookSecret();
const S2 = generateWebhookSecret();
const S3 = generateWebhookSecret();
const KEY_1 = 'api-key-1-5f4dcc3b5a';
const KEY_2 = 'api-key-2-7c6a180b36';
const SECRETS = [S1, S2, S3, KEY_1, KEY_2].flatMap((s) => [s, s.replace(/^whsec_/, '')]);

type Json = Record<string, unknown>;

/** every answer the test got, to look for secrets in at the end */
const answers: string[] = [];

async function call(
  h: DeliveryApp,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: unknown,
): Promise<{ status: number; json: Json }> {
  const res = await h.t.app.inject({
    method,
    url,
    headers: h.t.admin,
    ...(payload === undefined ? {} : { payload: payload as Json }),
  });
  answers.push(res.body);
  return { status: res.statusCode, json: res.json() };
}

/**
 * Applies `patch` to the paused sink, then delivers one event with it: the sink is paused (and
 * its runner gone) while it changes, so the event goes out with the new settings only.
 */
async function deliverAfter(
  h: DeliveryApp,
  rx: Receiver,
  step: number,
  patch: Json,
): Promise<{ sink: Json; request: Received }> {
  const patched = await call(h, 'PATCH', '/v1/sinks/hook', patch);
  assert.equal(patched.status, 200, JSON.stringify(patched.json));
  const produced = await call(h, 'POST', '/v1/streams/orders/events', [{ type: 'order.placed', data: { step } }]);
  assert.equal(produced.status, 201);
  assert.equal((await call(h, 'POST', '/v1/sinks/hook/resume')).status, 200);
  const request = await until(`the delivery of step ${step}`, () =>
    rx.requests.find((q) => (JSON.parse(q.body) as { data: { step: number } }).data.step === step),
  );
  assert.equal((await call(h, 'POST', '/v1/sinks/hook/pause')).status, 200);
  await until('the runner to stop', () => !h.engine.owned().includes('hook'));
  return { sink: patched.json, request };
}

const targetOf = (sink: Json) => sink['target'] as Json & { headers: Json; signing: { secrets: string[] } | null };

describe('sinks: secrets when a sink changes', () => {
  it('keeps left-out and "[redacted]" secrets, replaces new ones, removes nulls, rotates signing secrets, never answers them', async () => {
    const h = await startDeliveryApp('sink secrets', { dataDir: tempDir('rivulet-sink-secrets') });
    const rx = await startReceiver();
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      const created = await call(h, 'POST', '/v1/sinks', {
        id: 'hook',
        streams: ['orders'],
        state: 'paused',
        start: { from: 'end' },
        target: {
          kind: 'http',
          url: `${rx.url}/one`,
          headers: { 'x-api-key': KEY_1, 'x-trace': 'on' },
          signing: { secrets: [S1] },
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));

      // only the URL: the new URL gets requests signed with the original secret, its secret header too
      const moved = await deliverAfter(h, rx, 1, { target: { kind: 'http', url: `${rx.url}/two` } });
      assert.equal(moved.request.url, '/two');
      assert.ok(signedWith(moved.request, S1), 'signed with the original secret');
      assert.equal(moved.request.headers['x-api-key'], KEY_1);
      assert.equal(
        moved.request.headers['x-trace'],
        undefined,
        'an ordinary header left out is gone: the target is replaced',
      );
      assert.deepEqual(targetOf(moved.sink).signing, { secrets: ['[redacted]'] });
      assert.deepEqual(targetOf(moved.sink).headers, { 'x-api-key': '[redacted]' });
      const shown = targetOf((await call(h, 'GET', '/v1/sinks/hook')).json);
      assert.equal(shown['url'], `${rx.url}/two`);
      assert.deepEqual(shown.signing, { secrets: ['[redacted]'] });

      // GET, modify, PATCH back with the placeholders: the secrets are unchanged
      const edited = await deliverAfter(h, rx, 2, {
        target: { ...shown, url: `${rx.url}/three`, headers: { ...shown.headers, 'x-trace': 'again' } },
      });
      assert.equal(edited.request.url, '/three');
      assert.ok(signedWith(edited.request, S1));
      assert.equal(signaturesOn(edited.request), 1);
      assert.equal(edited.request.headers['x-api-key'], KEY_1, 'the header is the stored value, not the placeholder');
      assert.equal(edited.request.headers['x-trace'], 'again');
      const stored = (await h.t.services.sinks.get('hook')).target;
      assert.doesNotMatch(JSON.stringify(stored), /\[redacted\]/, 'the placeholder is never stored');

      // new secrets replace the old ones
      const replaced = await deliverAfter(h, rx, 3, {
        target: { ...shown, signing: { secrets: [S2] }, headers: { 'x-api-key': KEY_2 } },
      });
      assert.ok(signedWith(replaced.request, S2));
      assert.ok(!signedWith(replaced.request, S1));
      assert.equal(replaced.request.headers['x-api-key'], KEY_2);

      // rotation: add a secret beside the stored one, then retire the old one by its position
      const rotating = await deliverAfter(h, rx, 4, {
        target: { kind: 'http', url: `${rx.url}/three`, signing: { secrets: ['[redacted]', S3] } },
      });
      assert.equal(signaturesOn(rotating.request), 2);
      assert.ok(signedWith(rotating.request, S2) && signedWith(rotating.request, S3));
      assert.deepEqual(targetOf(rotating.sink).signing, { secrets: ['[redacted]', '[redacted]'] });
      const rotated = await deliverAfter(h, rx, 5, {
        target: { kind: 'http', url: `${rx.url}/three`, signing: { secrets: [null, '[redacted]'] } },
      });
      assert.equal(signaturesOn(rotated.request), 1);
      assert.ok(signedWith(rotated.request, S3) && !signedWith(rotated.request, S2));
      assert.equal(rotated.request.headers['x-api-key'], KEY_2, 'still kept through every change');

      // null removes: no secret header, no signature (webhook-id alone)
      const removed = await deliverAfter(h, rx, 6, {
        target: { kind: 'http', url: `${rx.url}/three`, headers: { 'x-api-key': null }, signing: null },
      });
      assert.equal(removed.request.headers['x-api-key'], undefined);
      assert.equal(removed.request.headers['webhook-signature'], undefined);
      assert.ok(removed.request.headers['webhook-id']);

      // the placeholder where nothing is stored: refused, naming the field; nothing changed
      for (const target of [
        { kind: 'http', url: `${rx.url}/three`, token: '[redacted]' },
        { kind: 'http', url: `${rx.url}/three`, signing: { secrets: ['[redacted]'] } },
      ]) {
        const refused = await call(h, 'PATCH', '/v1/sinks/hook', { target });
        assert.equal(refused.status, 400);
        assert.equal(refused.json['code'], 'VALIDATION_FAILED');
        assert.match(String(refused.json['pointer']), /^\/target\/(token|signing\/secrets\/0)$/);
      }
      const fresh = await call(h, 'POST', '/v1/sinks', {
        id: 'fresh',
        streams: ['orders'],
        target: { kind: 'http', url: `${rx.url}/x`, headers: { authorization: '[redacted]' } },
      });
      assert.equal(fresh.status, 400, 'a new sink has nothing to keep');
      assert.equal(fresh.json['pointer'], '/target/headers/authorization');

      // a change that is not the target leaves every secret as it was
      assert.equal(
        (await call(h, 'PATCH', '/v1/sinks/hook', { target: { kind: 'http', url: `${rx.url}/three`, token: 'tok-1' } }))
          .status,
        200,
      );
      assert.equal((await call(h, 'PATCH', '/v1/sinks/hook', { policy: { timeoutMs: 5000 } })).status, 200);
      assert.equal((await h.t.services.sinks.get('hook')).target['token'], 'tok-1');

      await call(h, 'GET', '/v1/sinks');
      for (const secret of [...SECRETS, 'tok-1']) {
        assert.ok(!answers.some((a) => a.includes(secret)), 'no answer carries a secret');
      }
    } finally {
      await rx.close();
      await h.close();
    }
  });
});
