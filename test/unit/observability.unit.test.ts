/** Trace context parsing, request id sanitising and the per-key token bucket. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBuckets } from '../../src/http/plugins/rate-limit.js';
import { requestIdOf } from '../../src/observability/request-id.js';
import { traceContextOf, traceparentOf } from '../../src/observability/trace-context.js';

describe('traceparent', () => {
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parent = '00f067aa0ba902b7';

  it('continues a valid trace with a new span of its own', () => {
    const ctx = traceContextOf(`00-${trace}-${parent}-01`, 'vendor=x');
    assert.equal(ctx.traceId, trace);
    assert.equal(ctx.parentSpanId, parent);
    assert.match(ctx.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(ctx.spanId, parent);
    assert.equal(ctx.sampled, true);
    assert.equal(ctx.traceState, 'vendor=x');
    assert.equal(traceContextOf(`00-${trace}-${parent}-00`, undefined).sampled, false);
    assert.equal(traceparentOf(ctx), `00-${trace}-${ctx.spanId}-01`);
    // a later version may add fields; version 00 may not
    assert.equal(traceContextOf(`01-${trace}-${parent}-01-extra`, undefined).traceId, trace);
  });

  it('starts a new trace for anything malformed', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      `00-${trace}-${parent}`,
      `ff-${trace}-${parent}-01`,
      `00-${'0'.repeat(32)}-${parent}-01`,
      `00-${trace}-${'0'.repeat(16)}-01`,
      `00-${trace.toUpperCase()}-${parent}-01`,
      `00-${trace}-${parent}-01-extra`,
      `00-${trace}-${parent}-01`.padEnd(600, 'x'),
      ['a'],
    ]) {
      const ctx = traceContextOf(bad, undefined);
      assert.notEqual(ctx.traceId, trace, String(bad));
      assert.match(ctx.traceId, /^[0-9a-f]{32}$/);
      assert.equal(ctx.parentSpanId, undefined);
    }
  });
});

describe('request ids', () => {
  it('keeps plain ids up to 128 characters and replaces anything else', () => {
    assert.equal(requestIdOf('abc-123_x.y:z'), 'abc-123_x.y:z');
    assert.equal(requestIdOf('x'.repeat(128)), 'x'.repeat(128));
    for (const bad of ['x'.repeat(129), 'a b', 'a\nb', 'é', '', undefined, ['a', 'b'], '{"json":1}']) {
      assert.match(requestIdOf(bad), /^[0-9a-f-]{36}$/, JSON.stringify(bad));
    }
  });
});

describe('token buckets', () => {
  it('grants a burst, then one token per 1/rate seconds, per id', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 3, () => now);
    assert.deepEqual([buckets.take('a'), buckets.take('a'), buckets.take('a')], [0, 0, 0]);
    assert.equal(buckets.take('a'), 0.5, 'the next token is half a second away');
    assert.equal(buckets.take('b'), 0, 'another id has its own bucket');
    now += 500;
    assert.equal(buckets.take('a'), 0);
    assert.ok(buckets.take('a') > 0);
    now += 60_000;
    assert.deepEqual(
      [buckets.take('a'), buckets.take('a'), buckets.take('a')],
      [0, 0, 0],
      'refills only up to the burst',
    );
    assert.ok(buckets.take('a') > 0);
  });
});
