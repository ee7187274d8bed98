import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RivuletError } from '../../src/kernel/errors.js';
import { decodeCursor, encodeCursor } from '../../src/core/events/read-events.js';
import { assertStreamName, isStreamName } from '../../src/core/streams/stream-name.js';

describe('read cursors', () => {
  it('round-trips the query with the last seq seen', () => {
    const cursor = encodeCursor({ fromTimeMs: 10, toTimeMs: 20, types: ['a', 'b'], limit: 5 }, 42);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/, 'URL-safe');
    assert.deepEqual(decodeCursor(cursor), { afterSeq: 42, fromTimeMs: 10, toTimeMs: 20, types: ['a', 'b'] });
    assert.deepEqual(decodeCursor(encodeCursor({ limit: 1 }, 0)), {
      afterSeq: 0,
      fromTimeMs: undefined,
      toTimeMs: undefined,
      types: undefined,
    });
  });

  it('refuses cursors it did not issue', () => {
    const bad = [
      '',
      'not-base64-json',
      Buffer.from('{"a":-1}').toString('base64url'),
      Buffer.from('{"a":1.5}').toString('base64url'),
      Buffer.from('{"a":1,"y":[1]}').toString('base64url'),
      Buffer.from('[]').toString('base64url'),
    ];
    for (const c of bad) {
      assert.throws(
        () => decodeCursor(c),
        (e: unknown) =>
          e instanceof RivuletError && e.code === 'INVALID_CURSOR' && e.details?.pointer === '/query/cursor',
        c,
      );
    }
  });
});

describe('stream names', () => {
  it('accepts names made for paths', () => {
    for (const ok of ['orders', 'a', '_x', '0', 'orders.eu', 'okdata.my-dataset.raw.1', 'a~b', 'x'.repeat(200)]) {
      assert.equal(isStreamName(ok), true, ok);
      assertStreamName(ok);
    }
  });

  it('refuses the rest with INVALID_STREAM_NAME', () => {
    for (const bad of ['', '.hidden', '-x', 'a/b', 'a b', 'a..b', 'trailing.', 'x'.repeat(201), 'é', 'a%2F']) {
      assert.equal(isStreamName(bad), false, bad);
      assert.throws(
        () => assertStreamName(bad),
        (e: unknown) => e instanceof RivuletError && e.code === 'INVALID_STREAM_NAME' && e.details?.pointer === '/name',
        bad,
      );
    }
  });
});
