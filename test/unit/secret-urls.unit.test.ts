/** URLs' own secrets: what answers show, and what a URL sent back with the placeholder keeps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RivuletError } from '../../src/kernel/errors.js';
import { redactedUrl, redactedUrlsIn, restoredUrl } from '../../src/kernel/secret-urls.js';
import { errWithoutUrlSecrets } from '../../src/observability/log-redaction.js';

describe('secrets in URLs', () => {
  it('redacts the userinfo password and secret-named query values, and nothing else', () => {
    const table: [string, string][] = [
      ['http://user:hunter2@host/x?api_key=tok', 'http://user:[redacted]@host/x?api_key=[redacted]'],
      ['https://host:8443/a/{id}?token={$.t}&page=2#frag', 'https://host:8443/a/{id}?token=[redacted]&page=2#frag'],
      ['http://user@host/x', 'http://user@host/x'],
      ['http://user:@host/x', 'http://user:@host/x'],
      [
        'http://host/x?Authorization=a&sig=b&password=&X-Api-Key=c',
        'http://host/x?Authorization=[redacted]&sig=b&password=&X-Api-Key=[redacted]',
      ],
      ['http://host/x?api%5Fkey=v&flag', 'http://host/x?api%5Fkey=[redacted]&flag'],
      ['http://host/path/with@sign?q=1', 'http://host/path/with@sign?q=1'],
      ['http://a:b@c@host/x', 'http://a:[redacted]@host/x'],
      ['not a url', 'not a url'],
    ];
    for (const [url, shown] of table) assert.equal(redactedUrl(url), shown, url);
    assert.equal(
      redactedUrlsIn('connect ECONNREFUSED for http://u:p@h/x?token=t, then gave up'),
      'connect ECONNREFUSED for http://u:[redacted]@h/x?token=[redacted], then gave up',
    );
  });

  it('keeps stored secrets where the placeholder stands, by name and position, and refuses one with nothing behind it', () => {
    const stored = 'http://user:hunter2@host/x?token=one&token=two&n=1';
    assert.equal(restoredUrl(redactedUrl(stored), stored, '/url'), stored);
    assert.equal(
      restoredUrl('http://user:[redacted]@other/y?token=%5Bredacted%5D&n=2', stored, '/url'),
      'http://user:hunter2@other/y?token=one&n=2',
    );
    assert.equal(
      restoredUrl('http://user:new@host/x?token=three', stored, '/url'),
      'http://user:new@host/x?token=three',
    );
    for (const given of [
      'http://user:[redacted]@host/x',
      'http://host/x?api_key=[redacted]',
      'http://host/x?token=a&token=b&token=[redacted]',
    ]) {
      assert.throws(
        () => restoredUrl(given, 'http://host/x?token=a&token=b', '/target/url'),
        (e: unknown) =>
          e instanceof RivuletError && e.code === 'VALIDATION_FAILED' && e.details?.pointer === '/target/url',
        given,
      );
    }
    assert.throws(() => restoredUrl('http://host/x?token=[redacted]', null, '/url'), RivuletError);
  });

  it("the logger's error serializer leaves no URL secret in an error, its message or its properties", () => {
    let err: Error | undefined;
    try {
      new URL('http://user:hunter2@[bad/x?api_key=tok');
    } catch (e) {
      err = e as Error;
    }
    assert.ok(err && JSON.stringify({ ...err }).includes('hunter2'), 'the URL error carries its input');
    const wrapped = new Error('delivery to http://user:hunter2@host/x?api_key=tok failed', { cause: err });
    const logged = JSON.stringify(errWithoutUrlSecrets(wrapped));
    assert.ok(!logged.includes('hunter2') && !logged.includes('=tok'), logged);
    assert.ok(logged.includes('http://user:[redacted]@host/x?api_key=[redacted]'), logged);
  });
});
