import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appendAnswerText, mediaTypeOf } from '../../src/http/native-produce.js';
import type { AppendResult } from '../../src/kernel/envelope.js';

describe('native produce answer', () => {
  it('is the JSON of the answer object, for ids and stream names that need escaping too', () => {
    const results: AppendResult[] = [
      {
        stream: 'orders',
        events: [{ id: '019ab4c2-1234-7abc-8def-0123456789ab', seq: 1, typeSeq: 1, duplicate: false }],
        replayed: false,
      },
      {
        stream: 'odd"name\\',
        events: [
          { id: 'a"b\\c\n ünï 😀 \ud800', seq: 9007199254740991, typeSeq: 2, duplicate: true },
          { id: 'x', seq: 3, typeSeq: 3, duplicate: false },
        ],
        replayed: true,
      },
      { stream: 'empty', events: [], replayed: false },
    ];
    for (const result of results) {
      const expected = JSON.stringify({
        stream: result.stream,
        events: result.events.map((e) => ({ id: e.id, seq: e.seq, typeSeq: e.typeSeq, duplicate: e.duplicate })),
        replayed: result.replayed,
      });
      assert.equal(appendAnswerText(result), expected);
    }
  });

  it('reads the media type of a Content-Type header', () => {
    assert.equal(mediaTypeOf('application/json'), 'application/json');
    assert.equal(mediaTypeOf('Application/JSON; charset=utf-8'), 'application/json');
    assert.equal(mediaTypeOf(' application/cloudevents+json ;x=1'), 'application/cloudevents+json');
    assert.equal(mediaTypeOf(undefined), '');
  });
});
