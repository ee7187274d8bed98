/** The stored answer's fields are sliced out as the text JSON.stringify wrote for them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldText } from '../../src/store/sqlite/json-field.js';

const awkward: unknown[] = [
  { b: 1, 2: 'two', a: [1, 2.5, -0, 1e21, 1e-7], nested: { deep: [null, true, false, {}, '}]"'] } },
  'quote " backslash \\ brace } bracket ] comma , colon :',
  'line\u2028separator and \u0000 control and \ud800 lone surrogate and 🦀',
  null,
  true,
  false,
  0,
  -12.5e-9,
  [],
  {},
  '',
  [[[]]],
  { data: { data: 'data' } },
];

describe('fieldText', () => {
  it('slices each field of an object as JSON.stringify wrote it', () => {
    for (const value of awkward) {
      const object = { id: 'x"}', stream: 's', seq: 3, data: value, meta: { data: [1, '"'] }, schemaVersion: 2 };
      const text = JSON.stringify(object);
      assert.equal(fieldText(text, 'data'), JSON.stringify(value));
      assert.equal(fieldText(text, 'meta'), JSON.stringify(object.meta));
      assert.equal(fieldText(text, 'schemaVersion'), '2');
      assert.equal(fieldText(text, 'id'), JSON.stringify(object.id));
      assert.equal(fieldText(text, 'absent'), undefined);
    }
  });

  it('finds nothing in an empty object, and a field that is last', () => {
    assert.equal(fieldText('{}', 'data'), undefined);
    assert.equal(fieldText('{"data":[1,{"a":"]"}]}', 'data'), '[1,{"a":"]"}]');
  });
});
