import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RivuletError } from '../../src/kernel/errors.js';
import { ProduceRates } from '../../src/core/streams/produce-rates.js';

function steppingClock(startIso: string) {
  let now = Date.parse(startIso);
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

describe('produce rates', () => {
  it('counts per minute and answers the last hour oldest first, the current minute last', () => {
    const clock = steppingClock('2026-03-01T10:00:30Z');
    const rates = new ProduceRates(clock);
    rates.record('orders', 3);
    rates.record('orders', 2);
    clock.advance(60_000);
    rates.record('orders', 7);
    const s = rates.series('orders', 3600, 60);
    assert.equal(s.counts.length, 60);
    assert.deepEqual(s.counts.slice(-2), [5, 7]);
    assert.equal(
      s.counts.slice(0, -2).reduce((a, b) => a + b, 0),
      0,
    );
    // 60 steps ending with the current minute (10:01) start at 09:02
    assert.equal(s.start, '2026-03-01T09:02:00.000Z');
    assert.deepEqual(s.perSecond.slice(-1), [7 / 60]);
  });

  it('sums minutes into longer steps and forgets minutes older than an hour', () => {
    const clock = steppingClock('2026-03-01T10:00:00Z');
    const rates = new ProduceRates(clock);
    for (let m = 0; m < 10; m++) {
      rates.record('s', m + 1);
      clock.advance(60_000);
    }
    // now 10:10; minutes 10:00..10:09 hold 1..10. Two 5-minute steps ending with 10:10: 10:01–10:05, 10:06–10:10
    assert.deepEqual(rates.series('s', 600, 300).counts, [2 + 3 + 4 + 5 + 6, 7 + 8 + 9 + 10]);
    clock.advance(55 * 60_000);
    // 11:05: the window starts at 10:06, so the minutes 10:00..10:05 are gone
    const s = rates.series('s', 3600, 60);
    assert.equal(
      s.counts.reduce((a, b) => a + b, 0),
      7 + 8 + 9 + 10,
    );
    // a minute slot reused by a new minute starts from zero, not from the old count
    rates.record('s', 1);
    assert.equal(rates.series('s', 60, 60).counts[0], 1);
  });

  it('keeps at most maxStreams rings, dropping the least recently written', () => {
    const clock = steppingClock('2026-03-01T10:00:00Z');
    const rates = new ProduceRates(clock, 2);
    rates.record('a', 1);
    rates.record('b', 1);
    rates.record('a', 1);
    rates.record('c', 1);
    assert.equal(rates.series('a', 60, 60).counts[0], 2);
    assert.equal(rates.series('b', 60, 60).counts[0], 0);
    assert.equal(rates.series('c', 60, 60).counts[0], 1);
  });

  it('refuses windows and steps that are not whole minutes, too long, or not dividing', () => {
    const rates = new ProduceRates(steppingClock('2026-03-01T10:00:00Z'));
    for (const [window, step] of [
      [90, 60],
      [7200, 60],
      [3600, 0],
      [3600, 420],
      [600, 90],
      [0, 60],
    ] as const) {
      assert.throws(
        () => rates.series('s', window, step),
        (err: unknown) => err instanceof RivuletError && err.code === 'VALIDATION_FAILED',
        `${window}/${step}`,
      );
    }
  });
});
