import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamKind } from '../../src/core/specs/kinds/stream-kind.js';
import { assertWriteMode, keepWriteMode, writeModeOf } from '../../src/kernel/write-mode.js';
import type { StreamRecord } from '../../src/store/port.js';

const record = (options: StreamRecord['options']): StreamRecord => ({
  name: 'hot',
  owner: 'o',
  description: '',
  retention: {},
  exclusiveProducer: false,
  lockedBy: null,
  options,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
});

describe('a stream’s write mode', () => {
  it('is chained unless the options say concurrent', () => {
    assert.equal(writeModeOf({}), 'chained');
    assert.equal(writeModeOf({ writeMode: 'concurrent' }), 'concurrent');
    assert.equal(writeModeOf({ writeMode: 'chained' }), 'chained');
  });

  it('refuses an unknown mode and a change of mode, naming the field', () => {
    assert.throws(() => assertWriteMode({ writeMode: 'fast' }), {
      code: 'VALIDATION_FAILED',
      details: { pointer: '/options/writeMode' },
    });
    assert.throws(() => assertWriteMode({ writeMode: 1 }), { code: 'VALIDATION_FAILED' });
    assert.throws(() => assertWriteMode({ writeMode: 'chained' }, { writeMode: 'concurrent' }), {
      code: 'VALIDATION_FAILED',
    });
    assert.throws(() => assertWriteMode({ writeMode: 'concurrent' }, {}), { code: 'VALIDATION_FAILED' });
    assertWriteMode({ writeMode: 'concurrent' }, { writeMode: 'concurrent' });
    assertWriteMode({ writeMode: 'chained' }, {});
    assertWriteMode({ other: 1 }, { writeMode: 'concurrent' });
  });

  it('is kept by options that leave it out', () => {
    assert.deepEqual(keepWriteMode({ a: 1 }, { writeMode: 'concurrent' }), { a: 1, writeMode: 'concurrent' });
    assert.deepEqual(keepWriteMode({ a: 1 }, {}), { a: 1 });
    assert.deepEqual(keepWriteMode({ writeMode: 'chained' }, { writeMode: 'concurrent' }), { writeMode: 'chained' });
  });

  it('a spec that leaves it out finds the stream unchanged, not to be updated on every apply', () => {
    const desired = { name: 'hot', description: '', retention: {}, exclusiveProducer: false, options: {} };
    assert.equal(streamKind.diff(desired, record({ writeMode: 'concurrent' })).action, 'unchanged');
    assert.equal(
      streamKind.diff({ ...desired, options: { writeMode: 'concurrent' } }, record({ writeMode: 'concurrent' })).action,
      'unchanged',
    );
    assert.equal(
      streamKind.diff({ ...desired, options: { team: 'a' } }, record({ writeMode: 'concurrent' })).action,
      'update',
    );
  });
});
