import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RivuletError } from '../../src/kernel/errors.js';
import {
  FIELD_LIMITS,
  invalidField,
  isPlainObject,
  parseRfc3339,
  textField,
  timeField,
} from '../../src/core/events/event-fields.js';

describe('event fields', () => {
  it('parses RFC 3339 timestamps, and nothing else', () => {
    assert.equal(parseRfc3339('2024-05-01T12:00:00Z'), Date.UTC(2024, 4, 1, 12));
    assert.equal(parseRfc3339('2024-05-01t12:00:00.5z'), Date.UTC(2024, 4, 1, 12, 0, 0, 500));
    assert.equal(parseRfc3339('2024-05-01 14:00:00+02:00'), Date.UTC(2024, 4, 1, 12));
    assert.equal(parseRfc3339('2024-05-01T12:00:00.123456789Z'), Date.UTC(2024, 4, 1, 12, 0, 0, 123));
    for (const bad of [
      '2024-05-01',
      '2024-05-01T12:00:00',
      '12:00',
      'now',
      '2024-05-01T12:00:00+0200',
      '2024-02-30T25:00:00Z',
    ]) {
      assert.equal(parseRfc3339(bad), undefined, bad);
    }
  });

  it('checks text fields: required, type, length, control characters', () => {
    const at = { index: 2, pointer: '/2/type' };
    assert.equal(textField('ok', 'type', at, true), 'ok');
    assert.equal(textField(undefined, 'id', at, false), undefined);
    assert.equal(textField('x'.repeat(FIELD_LIMITS.source), 'source', at, true)?.length, FIELD_LIMITS.source);
    for (const bad of [undefined, null, '', 3, {}, 'x'.repeat(FIELD_LIMITS.type + 1), 'tab\there', 'del\u007f']) {
      assert.throws(
        () => textField(bad, 'type', at, true),
        (e: unknown) =>
          e instanceof RivuletError &&
          e.code === 'INVALID_EVENT' &&
          e.details?.index === 2 &&
          e.details.pointer === '/2/type',
      );
    }
  });

  it('defaults a missing time and refuses a bad one', () => {
    assert.equal(
      timeField(undefined, { pointer: '/time' }, () => 'NOW'),
      'NOW',
    );
    assert.equal(
      timeField('2024-01-01T00:00:00Z', { pointer: '/time' }, () => 'NOW'),
      '2024-01-01T00:00:00Z',
    );
    assert.throws(() => timeField(1714564800000, { pointer: '/time' }, () => 'NOW'), /RFC 3339/);
  });

  it('builds INVALID_EVENT errors with index and pointer, and recognises plain objects', () => {
    const e = invalidField(3, '/3/data', 'bad');
    assert.equal(e.message, 'event 3: bad');
    assert.deepEqual(e.details, { index: 3, pointer: '/3/data' });
    assert.deepEqual(invalidField(undefined, '/x', 'bad').details, { pointer: '/x' });
    assert.equal(isPlainObject({}), true);
    assert.equal(isPlainObject([]), false);
    assert.equal(isPlainObject(null), false);
  });
});
