import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, isSecretName, redactedHeaders } from '../../src/kernel/secret-names.js';
import { redactByName } from '../../src/core/specs/spec-secrets.js';

describe('secret names', () => {
  it('names the fields and headers that hold credentials, whatever their case', () => {
    for (const name of [
      'Authorization',
      'x-api-key',
      'token',
      'pw',
      'secretAccessKey',
      'Cookie',
      'webhook-signature',
      'x-credential',
      'password',
    ]) {
      assert.ok(isSecretName(name), name);
    }
    for (const name of ['content-type', 'x-request-id', 'url', 'method', 'accept', 'pwd-hint'])
      assert.ok(!isSecretName(name), name);
  });

  it('is the one rule for answers and for spec revisions, so what one hides the other hides too', () => {
    const headers = { 'x-credential': 'c', 'x-api-key': 'k', accept: 'application/json' };
    assert.deepEqual(redactedHeaders(headers), {
      'x-credential': REDACTED,
      'x-api-key': REDACTED,
      accept: 'application/json',
    });
    assert.deepEqual(redactByName({ headers }), { headers: redactedHeaders(headers) });
  });
});
