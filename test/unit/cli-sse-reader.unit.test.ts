/**
 * The CLI's Server-Sent Events reader against the server's own framing, cut into chunks at
 * every possible byte, and the start positions `--from`/`--to` accept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { readSse, type SseMessage } from '../../src/cli/client/sse-reader.js';
import { parseStartPosition } from '../../src/cli/client/start-position.js';
import { sseComment, sseFrame } from '../../src/http/live/sse-framing.js';

function bodyOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function messagesOf(chunks: string[]): Promise<{ messages: SseMessage[]; comments: number }> {
  const messages: SseMessage[] = [];
  let comments = 0;
  for await (const chunk of readSse(bodyOf(chunks))) {
    messages.push(...chunk.messages);
    comments += chunk.comments;
  }
  return { messages, comments };
}

const text = [
  'retry: 1000\n',
  sseComment('connected'),
  sseFrame({ id: '41', event: 'order.placed', data: JSON.stringify({ seq: 41, note: 'two\nlines' }) }),
  sseFrame({ id: '42', event: 'order.paid', data: 'first line\nsecond line\n' }),
  sseComment('ping'),
  sseFrame({ id: '43', data: '{"seq":43}' }),
  sseFrame({ event: 'rivulet:reset', data: '{"kind":"reset","requestedAfter":0,"firstSeq":7}' }),
].join('');

const expected: SseMessage[] = [
  { id: '41', event: 'order.placed', data: JSON.stringify({ seq: 41, note: 'two\nlines' }) },
  { id: '42', event: 'order.paid', data: 'first line\nsecond line\n' },
  // unnamed, as the server sends events unless asked for named ones
  { id: '43', event: 'message', data: '{"seq":43}' },
  { event: 'rivulet:reset', data: '{"kind":"reset","requestedAfter":0,"firstSeq":7}' },
];

test('reads the server framing whole and cut at every position', async () => {
  assert.deepEqual(await messagesOf([text]), { messages: expected, comments: 2 });
  for (let cut = 1; cut < text.length; cut++) {
    assert.deepEqual((await messagesOf([text.slice(0, cut), text.slice(cut)])).messages, expected, `cut at ${cut}`);
  }
});

test('CRLF and CR line ends, a CRLF split across chunks, and a message without its blank line', async () => {
  const crlf = text.replace(/\n/g, '\r\n');
  for (let cut = 1; cut < crlf.length; cut++) {
    assert.deepEqual((await messagesOf([crlf.slice(0, cut), crlf.slice(cut)])).messages, expected, `cut at ${cut}`);
  }
  assert.deepEqual((await messagesOf([text.replace(/\n/g, '\r')])).messages, expected);
  // an unterminated message at the end of the body is dropped, as EventSource does
  assert.deepEqual((await messagesOf(['id: 1\ndata: x\n'])).messages, []);
});

test('start positions: beginning, end, seq, time; anything else is a usage error', () => {
  assert.deepEqual(parseStartPosition('beginning'), { from: 'beginning' });
  assert.deepEqual(parseStartPosition('end'), { from: 'end' });
  assert.deepEqual(parseStartPosition('42'), { from: 'seq', seq: 42 });
  assert.deepEqual(parseStartPosition('2024-05-01'), { from: 'time', time: '2024-05-01T00:00:00Z' });
  assert.deepEqual(parseStartPosition('2024-05-01T10:00:00.5+02:00'), {
    from: 'time',
    time: '2024-05-01T10:00:00.5+02:00',
  });
  for (const bad of ['0', 'soon', '2024-05-01T10:00', '2024-13-45', '-3', '']) {
    assert.throws(() => parseStartPosition(bad), InvalidArgumentError, bad);
  }
});
