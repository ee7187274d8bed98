import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPolicy, assertSinkId, checkDeadLetterStream, DEFAULT_POLICY } from '../../src/core/sinks/sink-policy.js';
import { statusOf } from '../../src/core/sinks/sink-view.js';
import { EMPTY_STATS } from '../../src/core/sinks/sink-model.js';
import { TokenBucket } from '../../src/delivery/engine/token-bucket.js';
import { deliveryIdOf } from '../../src/delivery/engine/source-loop.js';

describe('sink policy', () => {
  it('takes a dead-letter stream named as one (internal), and a name stored before that rule as it is', () => {
    assert.equal(checkDeadLetterStream('orders.parked.dlq', ['orders']), 'orders.parked.dlq');
    assert.equal(checkDeadLetterStream('okdata.set.failed.1', ['orders']), 'okdata.set.failed.1');
    assert.throws(() => checkDeadLetterStream('parked', ['orders']), /must end in "\.dlq"/);
    assert.equal(checkDeadLetterStream('parked', ['orders'], 'parked'), 'parked');
    assert.throws(() => checkDeadLetterStream('other', ['orders'], 'parked'), /must end in "\.dlq"/);
  });

  it('fills defaults and names the failing field', () => {
    assert.deepEqual(checkPolicy(undefined), DEFAULT_POLICY);
    const p = checkPolicy({ concurrency: 3, retry: { maxAttempts: 2 }, batch: { maxEvents: 10 } });
    assert.equal(p.concurrency, 3);
    assert.equal(p.retry.maxAttempts, 2);
    assert.equal(p.retry.initialDelayMs, DEFAULT_POLICY.retry.initialDelayMs);
    assert.equal(p.batch.maxBytes, DEFAULT_POLICY.batch.maxBytes);
    assert.throws(
      () => checkPolicy({ concurrency: 0 }),
      (e: { details: { pointer: string } }) => e.details.pointer === '/policy/concurrency',
    );
    assert.throws(
      () => checkPolicy({ retry: { maxDelayMs: 1, initialDelayMs: 5 } }),
      (e: { details: { pointer: string } }) => e.details.pointer === '/policy/retry/maxDelayMs',
    );
    assert.throws(
      () => checkPolicy({ rateLimit: { perSecond: -1 } }),
      (e: { details: { pointer: string } }) => e.details.pointer === '/policy/rateLimit/perSecond',
    );
    assert.throws(() => checkPolicy({ ordering: 'random' as never }));
  });

  it('refuses sink ids that cannot name streams and consumers', () => {
    assertSinkId('orders-hook_1');
    for (const bad of ['', 'a.b', 'a/b', '-x', 'x'.repeat(101)]) assert.throws(() => assertSinkId(bad));
  });

  it('derives status from state, owner lease and the latest outcome', () => {
    const failing = { ...EMPTY_STATS, lastErrorAt: '2026-01-01T00:00:02Z', lastSuccessAt: '2026-01-01T00:00:01Z' };
    assert.equal(statusOf({ state: 'paused' }, failing, 'p1'), 'paused');
    assert.equal(statusOf({ state: 'running' }, failing, null), 'stopped');
    assert.equal(statusOf({ state: 'running' }, failing, 'p1'), 'failing');
    assert.equal(
      statusOf({ state: 'running' }, { ...failing, lastSuccessAt: '2026-01-01T00:00:03Z' }, 'p1'),
      'running',
    );
  });

  it('gives one delivery id per (sink, stream, seq)', () => {
    assert.equal(deliveryIdOf('s', { stream: 'a', seq: 1 }), deliveryIdOf('s', { stream: 'a', seq: 1 }));
    assert.notEqual(deliveryIdOf('s', { stream: 'a', seq: 1 }), deliveryIdOf('s', { stream: 'a', seq: 2 }));
    assert.notEqual(deliveryIdOf('s', { stream: 'a', seq: 1 }), deliveryIdOf('t', { stream: 'a', seq: 1 }));
  });
});

describe('token bucket', () => {
  it('lets a burst through, then paces at the rate', async () => {
    let now = 0;
    const bucket = new TokenBucket(10, 5, () => now);
    const signal = new AbortController().signal;
    for (let i = 0; i < 5; i++) await bucket.take(1, signal);
    const start = performance.now();
    const taking = bucket.take(1, signal);
    now = 100; // 100 ms of the injected clock gives one token
    await taking;
    assert.ok(performance.now() - start < 1000);
  });
});
