/** The stored answer's fields are sliced out as the text JSON.stringify wrote for them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventJson } from '../../src/kernel/event-json.js';
import type { StoredEvent } from '../../src/kernel/envelope.js';
import { eventDataText, fieldText } from '../../src/store/json-field.js';

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

describe('eventDataText', () => {
  it("slices an event answer's data, whatever the strings before it hold", () => {
    const tricky = [',"data":1', '\\",\\"data\\":{', 'plain', '"data":', '\\'];
    for (const value of awkward)
      for (const text of tricky) {
        const event: StoredEvent = {
          id: text,
          stream: text,
          seq: 7,
          typeSeq: 2,
          type: text,
          source: text,
          time: '2026-01-01T00:00:00.000Z',
          received: '2026-01-01T00:00:00.000Z',
          producer: text,
          data: value as StoredEvent['data'],
          meta: { data: [1, ',"data":2'] },
          schemaVersion: 3,
        };
        const answer = eventJson(event);
        assert.equal(eventDataText(answer), JSON.stringify(value));
        assert.equal(eventDataText(answer), fieldText(answer, 'data'));
      }
  });
});
