import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_RETRY_POLICY,
  MAX_RETRY_AFTER_MS,
  checkRetryPolicy,
  classifyError,
  classifyResponse,
  decideRetry,
  nextDelayMs,
  parseRetryAfter,
} from '../../src/delivery/backoff.js';
import type { RetryPolicy } from '../../src/delivery/backoff.js';
import { RivuletError } from '../../src/kernel/errors.js';

/** mulberry32: a small seeded generator, so the schedules below are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const policy: RetryPolicy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 2, jitter: 'none' };

describe('nextDelayMs', () => {
  it('grows exponentially up to the cap without jitter', () => {
    const schedule = Array.from({ length: 10 }, (_, i) => nextDelayMs(i + 1, policy));
    assert.deepEqual(schedule, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
    assert.equal(nextDelayMs(5000, policy), 10_000);
  });

  it('keeps full jitter in [0, d] and equal jitter in [d/2, d]', () => {
    for (const jitter of ['full', 'equal'] as const) {
      const random = seeded(42);
      for (let attempt = 1; attempt <= 12; attempt++) {
        const ceiling = Math.min(10_000, 100 * 2 ** (attempt - 1));
        const delay = nextDelayMs(attempt, { ...policy, jitter }, random);
        assert.ok(delay <= ceiling, `${jitter} #${attempt}: ${delay} > ${ceiling}`);
        assert.ok(delay >= (jitter === 'equal' ? ceiling / 2 : 0), `${jitter} #${attempt}: ${delay} too small`);
      }
    }
  });

  it('is reproducible with a seeded random and spreads values out', () => {
    const run = (): number[] => {
      const random = seeded(7);
      return Array.from({ length: 20 }, () => nextDelayMs(8, { ...policy, jitter: 'full' }, random));
    };
    assert.deepEqual(run(), run());
    assert.ok(new Set(run()).size > 15);
  });

  it('stays within bounds for any attempt and random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.constantFrom('full', 'equal', 'none'),
        (attempt, r, jitter) => {
          const delay = nextDelayMs(
            attempt,
            { ...DEFAULT_RETRY_POLICY, jitter: jitter as RetryPolicy['jitter'] },
            () => r,
          );
          return Number.isInteger(delay) && delay >= 0 && delay <= DEFAULT_RETRY_POLICY.maxDelayMs;
        },
      ),
    );
  });
});

describe('checkRetryPolicy', () => {
  it('fills missing fields from the default', () => {
    assert.deepEqual(checkRetryPolicy(), DEFAULT_RETRY_POLICY);
    assert.deepEqual(checkRetryPolicy({ maxAttempts: 3 }), { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 });
  });

  it('names the field that is wrong', () => {
    const cases: Array<[Partial<RetryPolicy>, string]> = [
      [{ maxAttempts: 0 }, 'maxAttempts'],
      [{ maxAttempts: 1.5 }, 'maxAttempts'],
      [{ maxAgeMs: -1 }, 'maxAgeMs'],
      [{ initialDelayMs: Number.NaN }, 'initialDelayMs'],
      [{ initialDelayMs: 5000, maxDelayMs: 1000 }, 'maxDelayMs'],
      [{ multiplier: 0.5 }, 'multiplier'],
      [{ jitter: 'random' as RetryPolicy['jitter'] }, 'jitter'],
    ];
    for (const [input, field] of cases) {
      assert.throws(
        () => checkRetryPolicy(input),
        (err: unknown) =>
          err instanceof RivuletError && err.code === 'BAD_REQUEST' && err.details?.['pointer'] === `/retry/${field}`,
        field,
      );
    }
  });
});

describe('decideRetry', () => {
  const base = { attempt: 1, firstAttemptAt: 0, now: 1000, random: () => 0.5 };
  it('stops on success, permanent failures, max attempts and max age', () => {
    assert.deepEqual(decideRetry(policy, { ...base, outcome: 'success' }), { retry: false, reason: 'success' });
    assert.deepEqual(decideRetry(policy, { ...base, outcome: 'permanent' }), { retry: false, reason: 'permanent' });
    assert.deepEqual(decideRetry(policy, { ...base, outcome: 'retry', attempt: 10 }), {
      retry: false,
      reason: 'max-attempts',
    });
    assert.deepEqual(decideRetry({ ...policy, maxAgeMs: 1050 }, { ...base, outcome: 'retry' }), {
      retry: false,
      reason: 'max-age',
    });
  });

  it('retries after the backoff delay, or after Retry-After when the receiver gave one', () => {
    assert.deepEqual(decideRetry(policy, { ...base, outcome: 'retry', attempt: 3 }), { retry: true, delayMs: 400 });
    assert.deepEqual(decideRetry(policy, { ...base, outcome: 'retry', retryAfterMs: 30_000 }), {
      retry: true,
      delayMs: 30_000,
    });
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
  });

  it('reads HTTP-dates in all three forms, as UTC', () => {
    assert.equal(parseRetryAfter('Wed, 01 May 2024 12:01:30 GMT', now), 90_000);
    assert.equal(parseRetryAfter('Wednesday, 01-May-24 12:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Wed May  1 12:00:05 2024', now), 5_000);
  });

  it('gives 0 for a date in the past and caps long waits', () => {
    assert.equal(parseRetryAfter('Tue, 30 Apr 2024 12:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('999999999', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('Thu, 01 May 2025 12:00:00 GMT', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('600', now, 60_000), 60_000);
  });

  it('ignores what it cannot read', () => {
    for (const value of [
      undefined,
      '',
      '-5',
      '1.5',
      'soon',
      'Wed, 01 Foo 2024 12:01:30 GMT',
      '2024-05-01T12:01:30Z',
      'Wed, 01 May 2024 25:01:30 GMT',
    ]) {
      assert.equal(parseRetryAfter(value, now), undefined, String(value));
    }
  });
});

describe('classifyResponse', () => {
  const table: Array<[number, string]> = [
    [200, 'success'],
    [201, 'success'],
    [202, 'success'],
    [204, 'success'],
    [299, 'success'],
    [301, 'permanent'],
    [302, 'permanent'],
    [304, 'permanent'],
    [307, 'permanent'],
    [308, 'permanent'],
    [400, 'permanent'],
    [401, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [409, 'permanent'],
    [410, 'permanent'],
    [413, 'permanent'],
    [422, 'permanent'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [599, 'retry'],
    [100, 'permanent'],
    [600, 'permanent'],
  ];
  for (const [status, outcome] of table)
    it(`${status} → ${outcome}`, () => assert.equal(classifyResponse(status), outcome));
});

describe('classifyError', () => {
  const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });
  it('retries network failures and timeouts', () => {
    for (const code of [
      'ECONNRESET',
      'ECONNREFUSED',
      'ETIMEDOUT',
      'EAI_AGAIN',
      'ENOTFOUND',
      'EHOSTUNREACH',
      'UND_ERR_CONNECT_TIMEOUT',
      'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_BODY_TIMEOUT',
      'UND_ERR_SOCKET',
    ]) {
      assert.equal(classifyError(withCode(code)), 'retry', code);
    }
    assert.equal(classifyError(new Error('socket hang up')), 'retry');
    assert.equal(classifyError(new DOMException('The operation timed out.', 'TimeoutError')), 'retry');
  });

  it('looks through wrapping errors (fetch failed → cause)', () => {
    assert.equal(classifyError(new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') })), 'retry');
  });

  it('treats its own errors and unknown errors as permanent', () => {
    assert.equal(classifyError(new RivuletError('TARGET_URL_FORBIDDEN')), 'permanent');
    assert.equal(
      classifyError(new TypeError('fetch failed', { cause: new RivuletError('TARGET_URL_FORBIDDEN') })),
      'permanent',
    );
    assert.equal(classifyError(withCode('UND_ERR_INVALID_ARG')), 'permanent');
    assert.equal(classifyError(new Error('boom')), 'permanent');
    assert.equal(classifyError('a string'), 'permanent');
    assert.equal(classifyError(null), 'permanent');
  });
});
