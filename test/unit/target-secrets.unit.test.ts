/**
 * Secret fields of a target given when a sink changes, resolved against the stored target:
 * left out → kept (PATCH) or removed (whole targets), "[redacted]" → kept (refused with nothing
 * to keep), null → removed, a value → replaces. For the http, s3 and opensearch targets, and
 * through the sink checks the core calls.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRivuletError } from '../../src/kernel/errors.js';
import type { JsonObject } from '../../src/kernel/envelope.js';
import type { OmittedSecrets, SinkTarget } from '../../src/core/sinks/sink-model.js';
import { createSinkChecks } from '../../src/delivery/sink-checks.js';
import { generateWebhookSecret } from '../../src/delivery/signing.js';
import { httpTarget, type HttpTargetConfig } from '../../src/delivery/targets/http-target.js';
import { opensearchTarget, type OpenSearchTargetConfig } from '../../src/delivery/targets/opensearch-target.js';
import { defaultTargets } from '../../src/delivery/targets/registry.js';
import { s3Target, type S3TargetConfig } from '../../src/delivery/targets/s3-target.js';
import { REDACTED } from '../../src/kernel/secret-names.js';
import { createUrlGuard } from '../../src/delivery/url-guard.js';

const S1 = generateWebhookSecret();
const S2 = generateWebhookSecret();
const S3 = generateWebhookSecret();

function refusedAt(fn: () => unknown, pointer: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isRivuletError(err), String(err));
    assert.equal(err.code, 'VALIDATION_FAILED');
    assert.equal(err.details?.pointer, pointer);
    assert.match(err.message, /\[redacted\]/);
    return true;
  });
}

describe('http target secrets on a change', () => {
  const stored = httpTarget.check({
    kind: 'http',
    url: 'https://a.example/hook',
    token: 'tok-1',
    basic_auth: { user: 'u', pw: 'pw-1' },
    headers: { 'X-Api-Key': 'key-1', 'x-trace': 't' },
    signing: { secrets: [S1] },
  });
  const http = (
    given: unknown,
    omitted: OmittedSecrets = 'keep',
    from: HttpTargetConfig | null = stored,
  ): HttpTargetConfig => httpTarget.check(httpTarget.resolveSecrets(given, from, omitted));

  it('keeps every secret left out of a PATCH; other settings take the given (or default) values', () => {
    const next = http({ kind: 'http', url: 'https://b.example/hook', method: 'PUT' });
    assert.equal(next.url, 'https://b.example/hook');
    assert.equal(next.method, 'PUT');
    assert.equal(next.token, 'tok-1');
    assert.deepEqual(next.basic_auth, { user: 'u', pw: 'pw-1' });
    assert.deepEqual(next.signing, { secrets: [S1] });
    // the secret header stays; the ordinary one was not given again
    assert.deepEqual(next.headers, { 'X-Api-Key': 'key-1' });
  });

  it('takes the placeholder as "unchanged", and never stores it', () => {
    const shown = httpTarget.redact(stored);
    const next = http({ ...shown, url: 'https://b.example/hook' });
    assert.deepEqual({ ...next, url: stored.url }, stored);
    assert.doesNotMatch(JSON.stringify(next), /\[redacted\]/);
    // a header's name matches whatever its case
    assert.deepEqual(http({ ...shown, headers: { 'x-api-key': REDACTED } }).headers, { 'x-api-key': 'key-1' });
    // whole objects replaced by the placeholder, as specs are answered
    const byName = http(
      { kind: 'http', url: stored.url, basic_auth: REDACTED, signing: { secrets: REDACTED } },
      'remove',
    );
    assert.deepEqual([byName.basic_auth, byName.signing], [stored.basic_auth, stored.signing]);
    // basic_auth's `password` spelling too
    assert.deepEqual(
      http({ kind: 'http', url: stored.url, basic_auth: { user: 'v', password: REDACTED } }).basic_auth,
      { user: 'v', pw: 'pw-1' },
    );
  });

  it('replaces with a new value and removes with null', () => {
    const next = http({
      kind: 'http',
      url: stored.url,
      token: 'tok-2',
      basic_auth: null,
      headers: { 'X-Api-Key': null, 'x-trace': 'u' },
      signing: null,
    });
    assert.equal(next.token, 'tok-2');
    assert.equal(next.basic_auth, null);
    assert.equal(next.signing, null);
    assert.deepEqual(next.headers, { 'x-trace': 'u' });
    assert.equal(http({ kind: 'http', url: stored.url, token: null }).token, null);
    assert.deepEqual(http({ kind: 'http', url: stored.url, headers: null }).headers, {});
  });

  it('lines signing secrets up by position: rotation adds, then retires', () => {
    const rotating = http({ kind: 'http', url: stored.url, signing: { secrets: [REDACTED, S2] } });
    assert.deepEqual(rotating.signing, { secrets: [S1, S2] });
    assert.deepEqual(
      http({ kind: 'http', url: stored.url, signing: { secrets: [null, REDACTED] } }, 'keep', rotating).signing,
      { secrets: [S2] },
    );
    assert.deepEqual(
      http({ kind: 'http', url: stored.url, signing: { secrets: [S3, REDACTED] } }, 'keep', rotating).signing,
      { secrets: [S3, S2] },
    );
    assert.deepEqual(http({ kind: 'http', url: stored.url, signing: {} }).signing, { secrets: [S1] });
    refusedAt(
      () => http({ kind: 'http', url: stored.url, signing: { secrets: [S2, REDACTED] } }),
      '/target/signing/secrets/1',
    );
  });

  it('refuses the placeholder where nothing is stored, and removes what a whole target leaves out', () => {
    refusedAt(() => http({ kind: 'http', url: stored.url, token: REDACTED }, 'remove', null), '/target/token');
    refusedAt(
      () => http({ kind: 'http', url: stored.url, headers: { Authorization: REDACTED } }),
      '/target/headers/Authorization',
    );
    refusedAt(
      () =>
        http(
          { kind: 'http', url: stored.url, basic_auth: { user: 'u', pw: REDACTED } },
          'keep',
          httpTarget.check({ url: stored.url }),
        ),
      '/target/basic_auth/pw',
    );
    // a header whose name does not look secret is not shown redacted, so the text is its value
    assert.deepEqual(http({ kind: 'http', url: stored.url, headers: { 'x-trace': REDACTED } }, 'remove').headers, {
      'x-trace': REDACTED,
    });
    const whole = http({ kind: 'http', url: stored.url, token: REDACTED }, 'remove');
    assert.equal(whole.token, 'tok-1');
    assert.equal(whole.basic_auth, null);
    assert.equal(whole.signing, null);
    assert.deepEqual(whole.headers, {});
  });
});

describe('s3 and opensearch credentials on a change', () => {
  const s3Stored = s3Target.check({
    bucket: 'b-1',
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AK', secretAccessKey: 'SK-1', sessionToken: 'ST-1' },
  });
  const s3 = (
    given: unknown,
    omitted: OmittedSecrets = 'keep',
    from: S3TargetConfig | null = s3Stored,
  ): S3TargetConfig => s3Target.check(s3Target.resolveSecrets!(given, from, omitted));

  it('s3: keeps left-out and placeholder secrets, replaces and removes', () => {
    assert.deepEqual(s3({ bucket: 'b-2', region: 'eu-west-1' }).credentials, s3Stored.credentials);
    assert.deepEqual(s3({ ...s3Target.redact(s3Stored), bucket: 'b-2' }).credentials, s3Stored.credentials);
    assert.deepEqual(
      s3({
        bucket: 'b-1',
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AK2', secretAccessKey: 'SK-2', sessionToken: null },
      }).credentials,
      { accessKeyId: 'AK2', secretAccessKey: 'SK-2' },
    );
    assert.equal(s3({ bucket: 'b-1', region: 'eu-west-1', credentials: null }).credentials, undefined);
    assert.equal(s3({ bucket: 'b-1', region: 'eu-west-1' }, 'remove').credentials, undefined);
    refusedAt(
      () =>
        s3(
          { bucket: 'b-1', region: 'eu-west-1', credentials: { accessKeyId: 'AK', secretAccessKey: REDACTED } },
          'remove',
          null,
        ),
      '/target/credentials/secretAccessKey',
    );
    assert.deepEqual(
      s3({ bucket: 'b-1', region: 'eu-west-1', credentials: REDACTED }, 'remove').credentials,
      s3Stored.credentials,
    );
    refusedAt(
      () => s3({ bucket: 'b-1', region: 'eu-west-1', credentials: REDACTED }, 'remove', null),
      '/target/credentials',
    );
    // null where the field is required: the check refuses it as missing
    assert.throws(
      () => s3({ bucket: 'b-1', region: 'eu-west-1', credentials: { accessKeyId: 'AK', secretAccessKey: null } }),
      /secretAccessKey is required/,
    );
  });

  const osStored = opensearchTarget.check({
    node: 'https://93.184.215.14:9200',
    index: 'x',
    auth: { username: 'u', password: 'os-pw' },
  });
  const os = (given: unknown, from: OpenSearchTargetConfig | null = osStored): OpenSearchTargetConfig =>
    opensearchTarget.check(opensearchTarget.resolveSecrets!(given, from, 'keep'));

  it('opensearch: keeps a password or key only for the same way of authenticating', () => {
    assert.deepEqual(os({ node: 'https://93.184.215.15:9200', index: 'y' }).auth, { username: 'u', password: 'os-pw' });
    assert.deepEqual(os({ ...opensearchTarget.redact(osStored), index: 'y' }).auth, {
      username: 'u',
      password: 'os-pw',
    });
    assert.deepEqual(os({ node: osStored.node, index: 'x', auth: { username: 'v' } }).auth, {
      username: 'v',
      password: 'os-pw',
    });
    assert.deepEqual(os({ node: osStored.node, index: 'x', auth: { apiKey: 'k-1' } }).auth, { apiKey: 'k-1' });
    refusedAt(() => os({ node: osStored.node, index: 'x', auth: { apiKey: REDACTED } }), '/target/auth/apiKey');
    const keyed = os({ node: osStored.node, index: 'x', auth: { apiKey: 'k-1' } });
    assert.deepEqual(os({ node: osStored.node, index: 'x', auth: { apiKey: REDACTED } }, keyed).auth, {
      apiKey: 'k-1',
    });
    assert.equal(os({ node: osStored.node, index: 'x', auth: null }).auth, undefined);
  });
});

describe('sink checks', () => {
  const checks = createSinkChecks(defaultTargets(), { urlGuard: createUrlGuard() });
  const stored = {
    ...httpTarget.check({ url: 'https://93.184.215.14/hook', token: 'tok-1' }),
    kind: 'http',
  } as SinkTarget;

  it('resolve secrets only when asked, and only against a stored target of the same kind', async () => {
    const given = { kind: 'http', url: 'https://93.184.215.14/other' };
    assert.equal((await checks.target('http', given, { stored, omitted: 'keep' }))['token'], 'tok-1');
    assert.equal((await checks.target('http', given, { stored, omitted: 'remove' }))['token'], null);
    assert.equal((await checks.target('http', given))['token'], null);
    const s3 = {
      kind: 's3',
      bucket: 'b-1',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AK', secretAccessKey: REDACTED },
    };
    await assert.rejects(
      checks.target('s3', s3, { stored, omitted: 'keep' }),
      (err: unknown) => isRivuletError(err) && err.details?.pointer === '/target/credentials/secretAccessKey',
    );
    // without `secrets` (a dry check), the given configuration is checked as it is
    const token = { kind: 'http', url: 'https://93.184.215.14/other', token: REDACTED } as JsonObject;
    assert.equal((await checks.target('http', token))['token'], REDACTED);
  });
});
