import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RivuletError } from '../../src/kernel/errors.js';
import { SinkRates } from '../../src/core/sinks/sink-rates.js';

function steppingClock(startIso: string) {
  let now = Date.parse(startIso);
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

describe('sink rates', () => {
  it('counts deliveries and failures per minute, apart and per sink', () => {
    const clock = steppingClock('2026-03-01T10:00:10Z');
    const rates = new SinkRates(clock);
    rates.record('hook', 'delivered', 4);
    rates.record('hook', 'failed');
    rates.record('other', 'delivered', 9);
    clock.advance(60_000);
    rates.record('hook', 'delivered');
    rates.record('hook', 'failed', 2);
    const s = rates.series('hook', 3600, 60);
    assert.equal(s.sink, 'hook');
    assert.equal(s.stepSeconds, 60);
    assert.equal(s.start, '2026-03-01T09:02:00.000Z');
    assert.equal(s.delivered.length, 60);
    assert.deepEqual(s.delivered.slice(-2), [4, 1]);
    assert.deepEqual(s.failed.slice(-2), [1, 2]);
    assert.equal(
      s.delivered.reduce((a, b) => a + b, 0),
      5,
      "another sink's deliveries are not counted",
    );
    assert.deepEqual(rates.series('quiet', 600, 300), {
      sink: 'quiet',
      start: '2026-03-01T09:52:00.000Z',
      stepSeconds: 300,
      delivered: [0, 0],
      failed: [0, 0],
    });
  });

  it('forgets the least recently written sink past the cap and refuses odd windows', () => {
    const clock = steppingClock('2026-03-01T10:00:00Z');
    const rates = new SinkRates(clock, 2);
    rates.record('a', 'delivered');
    rates.record('b', 'delivered');
    rates.record('c', 'delivered');
    assert.deepEqual(rates.series('a', 60, 60).delivered, [0]);
    assert.deepEqual(rates.series('c', 60, 60).delivered, [1]);
    assert.throws(
      () => rates.series('a', 90, 60),
      (err: unknown) => err instanceof RivuletError && err.code === 'VALIDATION_FAILED',
    );
    assert.throws(
      () => rates.series('a', 3600, 420),
      (err: unknown) => err instanceof RivuletError && err.code === 'VALIDATION_FAILED',
    );
  });
});
