import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sseComment, sseEventName, sseFrame } from '../../src/http/live/sse-framing.js';

describe('SSE framing', () => {
  it('writes id, event and data fields, ended by a blank line', () => {
    assert.equal(
      sseFrame({ id: '7', event: 'order.placed', data: '{"a":1}' }),
      'id: 7\nevent: order.placed\ndata: {"a":1}\n\n',
    );
  });

  it('splits multi-line data into several data lines, whatever the line break', () => {
    assert.equal(sseFrame({ data: 'a\nb\r\nc\rd' }), 'data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('refuses CR, LF or NUL in id and event', () => {
    assert.throws(() => sseFrame({ id: '1\nevent: x', data: '' }), /CR, LF or NUL/);
    assert.throws(() => sseFrame({ event: 'a\rb', data: '' }), /CR, LF or NUL/);
    assert.throws(() => sseFrame({ id: '1\0', data: '' }), /CR, LF or NUL/);
  });

  it('turns line breaks of a stored type into spaces, and keeps comments on one line', () => {
    assert.equal(sseEventName('a\nb\r\0c'), 'a b  c');
    assert.equal(sseComment('ping\nevent: x'), ': ping event: x\n\n');
  });
});
