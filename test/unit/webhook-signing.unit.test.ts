import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateWebhookSecret, parseWebhookSecret, signWebhook, verifyWebhook } from '../../src/delivery/signing.js';
import { isRivuletError } from '../../src/kernel/errors.js';

// The published example of the Standard Webhooks reference libraries.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const at = (seconds: number): Date => new Date(seconds * 1000);

function refused(fn: () => void, reason: RegExp): void {
  assert.throws(
    fn,
    (err: unknown) => isRivuletError(err) && err.code === 'UNAUTHENTICATED' && reason.test(err.message),
  );
}

describe('signWebhook', () => {
  it('matches the specification example', () => {
    const headers = signWebhook({ id: SPEC.id, timestamp: SPEC.timestamp, body: SPEC.body, secrets: [SPEC.secret] });
    assert.deepEqual(headers, {
      'webhook-id': SPEC.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': SPEC.signature,
    });
  });

  it('gives the same signature for a Date, a Buffer body and a secret without prefix', () => {
    const headers = signWebhook({
      id: SPEC.id,
      timestamp: at(SPEC.timestamp),
      body: Buffer.from(SPEC.body),
      secrets: [SPEC.secret.slice(6)],
    });
    assert.equal(headers['webhook-signature'], SPEC.signature);
  });

  it('signs with every secret, space-separated, for rotation', () => {
    const fresh = generateWebhookSecret();
    const headers = signWebhook({
      id: SPEC.id,
      timestamp: SPEC.timestamp,
      body: SPEC.body,
      secrets: [SPEC.secret, fresh],
    });
    const parts = headers['webhook-signature'].split(' ');
    assert.equal(parts.length, 2);
    assert.equal(parts[0], SPEC.signature);
    assert.match(parts[1] ?? '', /^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('refuses malformed secrets and an empty list', () => {
    assert.throws(() => signWebhook({ id: 'm', timestamp: 1, body: '', secrets: [] }), { code: 'BAD_REQUEST' });
    assert.throws(() => parseWebhookSecret('whsec_not base64!'), { code: 'BAD_REQUEST' });
    assert.throws(() => parseWebhookSecret('whsec_c2hvcnQ='), /24–64 bytes/);
  });
});

describe('generateWebhookSecret', () => {
  it('gives distinct whsec_ secrets of 32 bytes', () => {
    const a = generateWebhookSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(parseWebhookSecret(a).length, 32);
    assert.notEqual(a, generateWebhookSecret());
  });
});

describe('verifyWebhook', () => {
  const headers = {
    'webhook-id': SPEC.id,
    'webhook-timestamp': String(SPEC.timestamp),
    'webhook-signature': SPEC.signature,
  };
  const now = at(SPEC.timestamp + 10);

  it('accepts the specification example', () => {
    verifyWebhook({ headers, body: SPEC.body, secrets: [SPEC.secret], now });
  });

  it('reads headers in any case, or from a fetch Headers object', () => {
    const upper = {
      'Webhook-Id': SPEC.id,
      'WEBHOOK-TIMESTAMP': String(SPEC.timestamp),
      'Webhook-Signature': SPEC.signature,
    };
    verifyWebhook({ headers: upper, body: SPEC.body, secrets: [SPEC.secret], now });
    verifyWebhook({ headers: new Headers(headers), body: SPEC.body, secrets: [SPEC.secret], now });
  });

  it('supports rotation on both sides', () => {
    const oldSecret = SPEC.secret;
    const newSecret = generateWebhookSecret();
    const both = signWebhook({
      id: SPEC.id,
      timestamp: SPEC.timestamp,
      body: SPEC.body,
      secrets: [oldSecret, newSecret],
    });
    verifyWebhook({ headers: both, body: SPEC.body, secrets: [oldSecret], now });
    verifyWebhook({ headers: both, body: SPEC.body, secrets: [newSecret], now });
    const onlyNew = signWebhook({ id: SPEC.id, timestamp: SPEC.timestamp, body: SPEC.body, secrets: [newSecret] });
    verifyWebhook({ headers: onlyNew, body: SPEC.body, secrets: [oldSecret, newSecret], now });
    refused(
      () => verifyWebhook({ headers: onlyNew, body: SPEC.body, secrets: [oldSecret], now }),
      /no matching webhook signature/,
    );
  });

  it('skips other signature versions and unreadable entries', () => {
    const mixed = { ...headers, 'webhook-signature': `v1a,abc v2,${SPEC.signature.slice(3)} v1,@@@ ${SPEC.signature}` };
    verifyWebhook({ headers: mixed, body: SPEC.body, secrets: [SPEC.secret], now });
  });

  it('refuses a tampered body, id, timestamp or signature', () => {
    const secrets = [SPEC.secret];
    refused(() => verifyWebhook({ headers, body: '{"test": 2432232315}', secrets, now }), /no matching/);
    refused(
      () => verifyWebhook({ headers: { ...headers, 'webhook-id': 'msg_other' }, body: SPEC.body, secrets, now }),
      /no matching/,
    );
    refused(
      () =>
        verifyWebhook({
          headers: { ...headers, 'webhook-timestamp': String(SPEC.timestamp + 1) },
          body: SPEC.body,
          secrets,
          now,
        }),
      /no matching/,
    );
    refused(
      () =>
        verifyWebhook({
          headers: { ...headers, 'webhook-signature': 'v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' },
          body: SPEC.body,
          secrets,
          now,
        }),
      /no matching/,
    );
    // Same bytes as the valid signature once decoded (only unused padding bits differ): still refused.
    refused(
      () =>
        verifyWebhook({
          headers: { ...headers, 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=' },
          body: SPEC.body,
          secrets,
          now,
        }),
      /no matching/,
    );
    refused(
      () =>
        verifyWebhook({
          headers: { ...headers, 'webhook-signature': SPEC.signature.slice(0, 10) },
          body: SPEC.body,
          secrets,
          now,
        }),
      /no matching/,
    );
  });

  it('refuses timestamps outside the tolerance, both ways', () => {
    const secrets = [SPEC.secret];
    verifyWebhook({ headers, body: SPEC.body, secrets, now: at(SPEC.timestamp + 300) });
    verifyWebhook({ headers, body: SPEC.body, secrets, now: at(SPEC.timestamp - 300) });
    refused(() => verifyWebhook({ headers, body: SPEC.body, secrets, now: at(SPEC.timestamp + 301) }), /too old/);
    refused(() => verifyWebhook({ headers, body: SPEC.body, secrets, now: at(SPEC.timestamp - 301) }), /too new/);
    verifyWebhook({ headers, body: SPEC.body, secrets, now: at(SPEC.timestamp + 3000), toleranceSeconds: 3600 });
  });

  it('refuses missing headers and a non-numeric timestamp', () => {
    refused(
      () => verifyWebhook({ headers: { 'webhook-id': SPEC.id }, body: SPEC.body, secrets: [SPEC.secret], now }),
      /missing/,
    );
    refused(
      () =>
        verifyWebhook({
          headers: { ...headers, 'webhook-timestamp': '1614265330.5' },
          body: SPEC.body,
          secrets: [SPEC.secret],
          now,
        }),
      /unix seconds/,
    );
  });
});
