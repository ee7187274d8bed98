import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RivuletError } from '../../src/kernel/errors.js';
import { decodeUtf8, nestingExceeds, parseJsonBody, parseJsonText } from '../../src/http/plugins/json-body.js';

const code = (c: string) => (e: unknown) => e instanceof RivuletError && e.code === c;

describe('JSON body parser', () => {
  it('parses valid UTF-8 JSON, multi-byte characters included', () => {
    assert.deepEqual(parseJsonBody(Buffer.from('{"a":"ø😀","b":[1,2]}'), 10), { a: 'ø😀', b: [1, 2] });
    assert.equal(decodeUtf8(Buffer.from('héllo')), 'héllo');
  });

  it('refuses invalid UTF-8 rather than replacing it', () => {
    assert.throws(
      () => parseJsonBody(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 10),
      code('INVALID_UTF8'),
    );
    assert.throws(() => decodeUtf8(Buffer.from([0xc3])), code('INVALID_UTF8'));
  });

  it('refuses an empty or blank body and malformed JSON', () => {
    assert.throws(() => parseJsonText('', 10), code('INVALID_JSON'));
    assert.throws(() => parseJsonText('  \n', 10), code('INVALID_JSON'));
    assert.throws(
      () => parseJsonText('{"a":', 10),
      (e: unknown) => code('INVALID_JSON')(e) && /not valid JSON/.test((e as Error).message),
    );
    assert.throws(() => parseJsonText("{'a':1}", 10), code('INVALID_JSON'));
  });

  it('measures nesting without counting brackets inside strings', () => {
    assert.equal(nestingExceeds('[[[1]]]', 3), false);
    assert.equal(nestingExceeds('[[[[1]]]]', 3), true);
    assert.equal(nestingExceeds('{"a":"[[[[[[[[{{{{"}', 1), false);
    assert.equal(nestingExceeds('{"a":"\\"[[[[[["}', 1), false, 'an escaped quote does not end the string');
    assert.equal(nestingExceeds('[{"a":[]},{"b":[]}]', 3), false, 'siblings do not add up');
  });

  it('refuses a body nested deeper than the limit, before parsing it', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assert.throws(
      () => parseJsonText(deep, 64),
      (e: unknown) => code('NESTING_TOO_DEEP')(e) && (e as RivuletError).details?.limit === 64,
    );
    assert.deepEqual(parseJsonText('{"a":{"b":{"c":1}}}', 3), { a: { b: { c: 1 } } });
    assert.throws(() => parseJsonText('{"a":{"b":{"c":{}}}}', 3), code('NESTING_TOO_DEEP'));
  });

  it('refuses escaped lone surrogates in values and keys, keeps pairs and escaped backslashes', () => {
    const refused = (text: string) =>
      assert.throws(
        () => parseJsonText(text, 32),
        (err: unknown) => err instanceof RivuletError && err.code === 'INVALID_JSON' && /surrogate/.test(err.message),
      );
    refused('{"type":"\\ud800"}');
    refused('["ok", {"a": ["\\udfff"]}]');
    refused('{"\\uDBFFx": 1}');
    refused('"\\udc00\\ud800"');
    assert.deepEqual(parseJsonText('{"smile":"\\ud83d\\ude00"}', 32), { smile: '\u{1F600}' });
    assert.deepEqual(parseJsonText('{"path":"\\\\ud800"}', 32), { path: '\\ud800' });
  });

  it('refuses __proto__ and constructor.prototype keys', () => {
    assert.throws(() => parseJsonText('{"__proto__":{"admin":true}}', 10), code('FORBIDDEN_KEY'));
    assert.throws(() => parseJsonText('[{"x":{"__proto__":{}}}]', 10), code('FORBIDDEN_KEY'));
    assert.throws(() => parseJsonText('{"constructor":{"prototype":{"admin":true}}}', 10), code('FORBIDDEN_KEY'));
    assert.deepEqual(parseJsonText('{"constructor":"ok","proto":1}', 10), { constructor: 'ok', proto: 1 });
    // spelled with escapes, the keys are still refused
    assert.throws(() => parseJsonText('{"\\u005f_proto__":{"admin":true}}', 10), code('FORBIDDEN_KEY'));
    assert.throws(() => parseJsonText('{"\\u0063onstructor":{"prototype":{}}}', 10), code('FORBIDDEN_KEY'));
  });
});
