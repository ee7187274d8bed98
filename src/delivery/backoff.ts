/**
 * When a failed delivery is tried again, and whether it is tried at all.
 *
 * Delays grow exponentially from `initialDelayMs` by `multiplier`, capped at `maxDelayMs`,
 * with jitter so that many sinks failing together do not retry in lock-step ("Exponential
 * Backoff and Jitter", AWS Architecture Blog). A sink gives up after `maxAttempts` attempts or
 * once the first attempt is `maxAgeMs` old, whichever comes first, and dead-letters the event.
 *
 * Outcomes: 2xx is success; network failures, 408, 429 and 5xx are retried (the receiver
 * may well accept the same request later, and 429/503 may say when with Retry-After); other
 * 4xx are permanent (the same request will be refused again). 3xx is permanent as well:
 * redirects are not followed, because the target URL was checked against the URL guard and a
 * redirect could send the event (and its credentials) to an address that was never checked,
 * and because 301/302 would turn a POST into a body-less GET.
 */
import { RivuletError, isRivuletError } from '../kernel/errors.js';

export type Jitter = 'full' | 'equal' | 'none';
export type Outcome = 'success' | 'retry' | 'permanent';

export interface RetryPolicy {
  /** attempts in all, the first one included; at least 1 */
  maxAttempts: number;
  /** give up once this long has passed since the first attempt */
  maxAgeMs?: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** full: uniform in [0, d]; equal: uniform in [d/2, d]; none: d */
  jitter: Jitter;
}

/**
 * 15 attempts over about two hours at most (1 s, 2 s, 4 s … capped at 30 min), never more
 * than a day. Equal jitter keeps at least half of each delay, so a struggling receiver always
 * gets a pause.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 15,
  maxAgeMs: 24 * 60 * 60 * 1000,
  initialDelayMs: 1000,
  maxDelayMs: 30 * 60 * 1000,
  multiplier: 2,
  jitter: 'equal',
});

/**
 * A policy from configuration, checked: BAD_REQUEST naming the field otherwise. Missing
 * fields take their DEFAULT_RETRY_POLICY values.
 */
export function checkRetryPolicy(input: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...input };
  const wrong = (field: keyof RetryPolicy, rule: string): RivuletError =>
    new RivuletError('BAD_REQUEST', `retry policy ${field} ${rule}`, { details: { pointer: `/retry/${field}` } });
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1)
    throw wrong('maxAttempts', 'must be a whole number ≥ 1');
  if (policy.maxAgeMs !== undefined && !(Number.isFinite(policy.maxAgeMs) && policy.maxAgeMs > 0))
    throw wrong('maxAgeMs', 'must be a number of milliseconds > 0');
  if (!(Number.isFinite(policy.initialDelayMs) && policy.initialDelayMs >= 0))
    throw wrong('initialDelayMs', 'must be a number of milliseconds ≥ 0');
  if (!(Number.isFinite(policy.maxDelayMs) && policy.maxDelayMs >= policy.initialDelayMs))
    throw wrong('maxDelayMs', 'must be a number of milliseconds ≥ initialDelayMs');
  if (!(Number.isFinite(policy.multiplier) && policy.multiplier >= 1))
    throw wrong('multiplier', 'must be a number ≥ 1');
  if (!['full', 'equal', 'none'].includes(policy.jitter)) throw wrong('jitter', 'must be "full", "equal" or "none"');
  return policy;
}

/** Longest Retry-After honoured; a receiver asking for more is tried again after this. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * Delay before the next attempt, after attempt number `attempt` (1-based) failed.
 * `random` returns values in [0, 1); tests pass a seeded one.
 */
export function nextDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // A large exponent overflows to Infinity, which min() caps like any other value.
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  const cap = Number.isFinite(ceiling) ? Math.max(0, ceiling) : policy.maxDelayMs;
  const r = Math.min(Math.max(random(), 0), 1);
  switch (policy.jitter) {
    case 'full':
      return Math.round(cap * r);
    case 'equal':
      return Math.round(cap / 2 + (cap / 2) * r);
    case 'none':
      return Math.round(cap);
  }
}

export type RetryDecision =
  { retry: true; delayMs: number } | { retry: false; reason: 'success' | 'permanent' | 'max-attempts' | 'max-age' };

export interface RetryContext {
  outcome: Outcome;
  /** 1-based number of the attempt that just ended */
  attempt: number;
  /** when the first attempt started, ms since the epoch */
  firstAttemptAt: number;
  now: number;
  /** from the response's Retry-After, if any (see parseRetryAfter) */
  retryAfterMs?: number;
  random?: () => number;
}

/** Puts the pieces together: whether to try again, and after how long. */
export function decideRetry(policy: RetryPolicy, context: RetryContext): RetryDecision {
  if (context.outcome !== 'retry') return { retry: false, reason: context.outcome };
  if (context.attempt >= policy.maxAttempts) return { retry: false, reason: 'max-attempts' };
  const delayMs = context.retryAfterMs ?? nextDelayMs(context.attempt, policy, context.random);
  if (policy.maxAgeMs !== undefined && context.now + delayMs - context.firstAttemptAt > policy.maxAgeMs) {
    return { retry: false, reason: 'max-age' };
  }
  return { retry: true, delayMs };
}

// ---------------------------------------------------------------------------------------
// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date
// ---------------------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Milliseconds to wait, from a Retry-After value: `120` or `Fri, 31 Dec 1999 23:59:59 GMT`
 * (the obsolete RFC 850 and asctime forms too, read as UTC as RFC 9110 requires). A date in
 * the past gives 0; anything unreadable gives undefined; the result is at most `maxMs`.
 */
export function parseRetryAfter(
  value: string | undefined,
  now: Date,
  maxMs: number = MAX_RETRY_AFTER_MS,
): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, maxMs);
  const at = parseHttpDate(text, now);
  if (at === undefined) return undefined;
  return Math.min(Math.max(0, at - now.getTime()), maxMs);
}

interface DateParts {
  year: number;
  month: string;
  day: string;
  time: [string, string, string];
}

function parseHttpDate(text: string, now: Date): number | undefined {
  const parts = dateParts(text, now);
  if (parts === undefined) return undefined;
  const month = MONTHS.indexOf(parts.month);
  const day = Number(parts.day.trim());
  const [hour, minute, second] = parts.time.map(Number) as [number, number, number];
  if (month === -1 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  // A leap second (60) is read as the end of that minute.
  return Date.UTC(parts.year, month, day, hour, minute, Math.min(second, 59));
}

function dateParts(text: string, now: Date): DateParts | undefined {
  const imf = IMF_FIXDATE.exec(text);
  if (imf !== null)
    return {
      year: Number(imf[3]),
      month: imf[2] ?? '',
      day: imf[1] ?? '',
      time: [imf[4] ?? '', imf[5] ?? '', imf[6] ?? ''],
    };
  const rfc850 = RFC850_DATE.exec(text);
  if (rfc850 !== null) {
    return {
      year: fullYear(Number(rfc850[3]), now),
      month: rfc850[2] ?? '',
      day: rfc850[1] ?? '',
      time: [rfc850[4] ?? '', rfc850[5] ?? '', rfc850[6] ?? ''],
    };
  }
  const asctime = ASCTIME_DATE.exec(text);
  if (asctime !== null)
    return {
      year: Number(asctime[6]),
      month: asctime[1] ?? '',
      day: asctime[2] ?? '',
      time: [asctime[3] ?? '', asctime[4] ?? '', asctime[5] ?? ''],
    };
  return undefined;
}

/** RFC 9110: a two-digit year that looks more than 50 years ahead is in the past century. */
function fullYear(twoDigits: number, now: Date): number {
  const current = now.getUTCFullYear();
  let year = Math.floor(current / 100) * 100 + twoDigits;
  if (year > current + 50) year -= 100;
  return year;
}

// ---------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------

/** What an HTTP status means for the delivery. */
export function classifyResponse(status: number): Outcome {
  if (status >= 200 && status <= 299) return 'success';
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) return 'retry';
  return 'permanent';
}

/**
 * Transport failures where the receiver may not have got, or finished, the request: the same
 * request may well succeed later. Certificate problems are included on purpose: an expired
 * or misconfigured certificate is usually fixed by the receiver within the retry window.
 */
const RETRYABLE_CODES = new Set([
  // sockets and routes
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
  // undici
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_ABORTED',
  // TLS
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);
const RETRYABLE_NAMES = new Set([
  'TimeoutError',
  'AbortError',
  'ConnectTimeoutError',
  'HeadersTimeoutError',
  'BodyTimeoutError',
  'SocketError',
]);
const MAX_CAUSE_DEPTH = 8;

/**
 * What an error thrown while sending means. Follows `cause` (fetch wraps the real error in a
 * TypeError). Rivulet's own errors — a URL refused by the guard, a mapping that failed — and
 * anything unrecognised are permanent: retrying cannot change them.
 */
export function classifyError(err: unknown): Outcome {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
    if (isRivuletError(current)) return 'permanent';
    if (isRetryableTransportError(current as { code?: unknown; name?: unknown; message?: unknown })) return 'retry';
    current = (current as { cause?: unknown }).cause;
  }
  return 'permanent';
}

function isRetryableTransportError(err: { code?: unknown; name?: unknown; message?: unknown }): boolean {
  if (typeof err.code === 'string' && RETRYABLE_CODES.has(err.code)) return true;
  if (typeof err.name === 'string' && RETRYABLE_NAMES.has(err.name)) return true;
  return typeof err.message === 'string' && /socket hang up|other side closed/i.test(err.message);
}
