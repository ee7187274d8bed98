import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as wait } from 'node:timers/promises';
import { AttemptDeadlines } from '../../src/delivery/engine/attempt-deadlines.js';

describe('attempt deadlines', () => {
  it('shares one signal among attempts that start within a slot, and opens a new slot after it', () => {
    let now = 0;
    const deadlines = new AttemptDeadlines(10_000, new AbortController().signal, () => now);
    const a = deadlines.begin();
    now = 50;
    const b = deadlines.begin();
    assert.equal(a.signal, b.signal);
    now = 100; // the slot is 100 ms wide for a 10 s timeout
    const c = deadlines.begin();
    assert.notEqual(c.signal, a.signal);
    for (const d of [a, b, c]) d.done();
  });

  it('times an attempt out no sooner than the timeout, with the reason AbortSignal.timeout gives', async () => {
    const deadlines = new AttemptDeadlines(60, new AbortController().signal);
    const started = performance.now();
    const d = deadlines.begin();
    // the deadline's timer does not hold the process open (as AbortSignal.timeout's does not): a ref'd one does here
    await Promise.race([
      new Promise((resolve) => d.signal.addEventListener('abort', resolve, { once: true })),
      wait(2000),
    ]);
    const took = performance.now() - started;
    assert.ok(took >= 59, `aborted after ${took} ms`);
    assert.equal((d.signal.reason as DOMException).name, 'TimeoutError');
    d.done();
  });

  it('clears the timer once every attempt of a slot ended', async () => {
    const deadlines = new AttemptDeadlines(20, new AbortController().signal);
    const a = deadlines.begin();
    const b = deadlines.begin();
    a.done();
    a.done(); // a second call is ignored, so it cannot end b's share early
    await wait(5);
    assert.equal(b.signal.aborted, false);
    b.done();
    await wait(60);
    assert.equal(b.signal.aborted, false, 'a slot with no attempts left must not fire');
  });

  it('aborts every running attempt when the loop is cut, and later ones at once', () => {
    let now = 0;
    const cut = new AbortController();
    const deadlines = new AttemptDeadlines(10_000, cut.signal, () => now);
    const a = deadlines.begin();
    now = 500;
    const b = deadlines.begin();
    assert.notEqual(a.signal, b.signal);
    cut.abort(new Error('shutting down'));
    assert.equal(a.signal.aborted, true);
    assert.equal(b.signal.aborted, true);
    assert.equal((b.signal.reason as Error).message, 'shutting down');
    const c = deadlines.begin();
    assert.equal(c.signal.aborted, true);
    for (const d of [a, b, c]) d.done();
  });
});
