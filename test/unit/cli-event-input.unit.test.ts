/** The CLI's streaming reader of NDJSON and JSON arrays, fed in chunks cut anywhere. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from '../../src/cli/client/cli-error.js';
import { eventsOfText } from '../../src/cli/client/event-input.js';
import { parseDuration, parseSize } from '../../src/cli/client/quantities.js';

async function read(text: string, chunkSize: number): Promise<unknown[]> {
  async function* chunks() {
    for (let i = 0; i < text.length; i += chunkSize) yield text.slice(i, i + chunkSize);
  }
  const out: unknown[] = [];
  for await (const e of eventsOfText(chunks())) out.push(JSON.parse(e.text));
  return out;
}

const events = [
  { type: 'a', data: { s: 'brace } and bracket ] in a string', q: 'escaped \\" quote {' } },
  { type: 'b', data: [1, [2, { x: null }]] },
  { specversion: '1.0', id: 'x', source: '/s', type: 'c', data: 'é – ü' },
];

describe('CLI event input', () => {
  for (const size of [1, 2, 3, 7, 64, 10_000]) {
    it(`reads NDJSON, a pretty JSON array and concatenated objects in ${size}-character chunks`, async () => {
      assert.deepEqual(await read(events.map((e) => JSON.stringify(e)).join('\n') + '\n', size), events);
      assert.deepEqual(await read(`\uFEFF${JSON.stringify(events, null, 2)}`, size), events);
      assert.deepEqual(await read(events.map((e) => JSON.stringify(e, null, 1)).join(''), size), events);
    });
  }

  it('refuses what is not objects, and input cut short, as usage errors naming the place', async () => {
    await assert.rejects(
      read('{"type":"a"}\n"text"\n', 5),
      (err: unknown) => err instanceof CliError && err.exitCode === 2 && /line 2/.test(err.message),
    );
    await assert.rejects(read('[{"type":"a"}, 3]', 4), /expected a JSON object in the array/);
    await assert.rejects(read('{"type":"a"', 4), /input ended inside event 1/);
    await assert.rejects(read('[{"type":"a"}', 4), /inside a JSON array/);
    await assert.rejects(read('{"type":"a",}', 4), /event 1 .* not valid JSON/);
  });

  it('reads durations and sizes', () => {
    assert.equal(parseDuration('7d'), 7 * 86_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseSize('1GB'), 1e9);
    assert.equal(parseSize('512MiB'), 512 * 1024 ** 2);
    assert.equal(parseSize('2048'), 2048);
    assert.throws(() => parseDuration('soon'));
    assert.throws(() => parseDuration('7d junk'));
    assert.throws(() => parseSize('1XB'));
  });
});
