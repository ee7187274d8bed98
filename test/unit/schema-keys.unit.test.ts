import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseVersionKey, typeKey, versionKey } from '../../src/core/schemas/schema-keys.js';

describe('schema document keys', () => {
  it('parses a version key back into its stream, type and version', () => {
    for (const type of ['o', 'order/placed', 'urn:x:y', '100% ok', 'é']) {
      assert.deepEqual(parseVersionKey(versionKey('orders.eu', type, 12)), { stream: 'orders.eu', type, version: 12 });
    }
  });

  it('answers null for keys of another shape', () => {
    for (const key of ['orders', typeKey('orders', 'o'), 'orders/o/latest', 'orders/%E0%A4%A/1'])
      assert.equal(parseVersionKey(key), null, key);
  });
});
