/** Checks a sink's input and fills the defaults: ids, sources, policy, dead-letter stream. */
import { RivuletError } from '../../kernel/errors.js';
import { assertStreamName } from '../streams/stream-name.js';
import { assertDeadLetterName } from '../streams/internal-streams.js';
import type { DeliveryPolicy, PolicyInput, RetrySettings, SinkFilter } from './sink-model.js';

/** Sink ids are path segments and part of stream and consumer names: no dots. */
const SINK_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$/;
export const MAX_SOURCES = 20;

export const DEFAULT_RETRY: Readonly<RetrySettings> = Object.freeze({
  maxAttempts: 15,
  maxAgeMs: 24 * 3600_000,
  initialDelayMs: 1000,
  maxDelayMs: 30 * 60_000,
  multiplier: 2,
  jitter: 'equal',
});

export const DEFAULT_POLICY: Readonly<DeliveryPolicy> = Object.freeze({
  batch: { maxEvents: 500, maxBytes: 5 * 1024 * 1024, maxAgeMs: 1000 },
  concurrency: 8,
  ordering: 'parallel',
  rateLimit: null,
  timeoutMs: 10_000,
  retry: DEFAULT_RETRY,
});

const invalid = (message: string, pointer: string) =>
  new RivuletError('VALIDATION_FAILED', message, { details: { pointer } });

export function assertSinkId(id: string): void {
  if (typeof id !== 'string' || !SINK_ID.test(id)) {
    throw invalid(
      `"${String(id).slice(0, 120)}" is not a valid sink id: use 1–100 letters, digits, "_" or "-", starting with a letter, digit or "_"`,
      '/id',
    );
  }
}

export function checkSources(streams: unknown): string[] {
  if (!Array.isArray(streams) || streams.length === 0 || streams.length > MAX_SOURCES) {
    throw invalid(`streams must list 1–${MAX_SOURCES} source streams`, '/streams');
  }
  const unique = [...new Set(streams as string[])];
  unique.forEach((s) => {
    if (typeof s !== 'string') throw invalid('streams must be stream names', '/streams');
    assertStreamName(s);
  });
  return unique;
}

/** `stored`: the sink's dead-letter stream so far, which an older version may have named otherwise and which stays allowed */
export function checkDeadLetterStream(name: unknown, sources: string[], stored: string | null = null): string | null {
  if (name === undefined || name === null) return null;
  if (typeof name !== 'string') throw invalid('deadLetterStream must be a stream name', '/deadLetterStream');
  assertStreamName(name);
  if (name !== stored) assertDeadLetterName(name);
  if (sources.includes(name)) throw invalid('a sink cannot dead-letter into a stream it reads', '/deadLetterStream');
  return name;
}

export function checkFilter(filter: unknown): SinkFilter | null {
  if (filter === undefined || filter === null) return null;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw invalid('filter must be an object', '/filter');
  return filter as SinkFilter;
}

function int(value: unknown, pointer: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max)
    throw invalid(`${pointer} must be a whole number ${min}–${max}`, pointer);
  return value as number;
}

/** The policy with its defaults, each field checked (VALIDATION_FAILED naming it). */
export function checkPolicy(input: PolicyInput | undefined, base: DeliveryPolicy = DEFAULT_POLICY): DeliveryPolicy {
  const p = input ?? {};
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalid('policy must be an object', '/policy');
  const batchIn = { ...base.batch, ...(p.batch ?? {}) };
  const batch = {
    maxEvents: int(batchIn.maxEvents, '/policy/batch/maxEvents', 1, 10_000),
    maxBytes: int(batchIn.maxBytes, '/policy/batch/maxBytes', 1024, 128 * 1024 * 1024),
    maxAgeMs: int(batchIn.maxAgeMs, '/policy/batch/maxAgeMs', 0, 15 * 60_000),
  };
  const ordering = p.ordering ?? base.ordering;
  if (ordering !== 'ordered' && ordering !== 'parallel')
    throw invalid('ordering must be "ordered" or "parallel"', '/policy/ordering');
  const rateIn = p.rateLimit === undefined ? base.rateLimit : p.rateLimit;
  const rateLimit =
    rateIn === null
      ? null
      : (() => {
          const perSecond = rateIn.perSecond;
          if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0 || perSecond > 1_000_000)
            throw invalid('rateLimit.perSecond must be a number > 0', '/policy/rateLimit/perSecond');
          const burst = int(rateIn.burst ?? Math.max(1, Math.ceil(perSecond)), '/policy/rateLimit/burst', 1, 1_000_000);
          return { perSecond, burst };
        })();
  return {
    batch,
    concurrency: int(p.concurrency ?? base.concurrency, '/policy/concurrency', 1, 256),
    ordering,
    rateLimit,
    timeoutMs: int(p.timeoutMs ?? base.timeoutMs, '/policy/timeoutMs', 10, 10 * 60_000),
    retry: checkRetry({ ...base.retry, ...(p.retry ?? {}) }),
  };
}

function checkRetry(r: RetrySettings): RetrySettings {
  const maxAttempts = int(r.maxAttempts, '/policy/retry/maxAttempts', 1, 1000);
  const initialDelayMs = int(r.initialDelayMs, '/policy/retry/initialDelayMs', 0, 12 * 3600_000);
  const maxDelayMs = int(r.maxDelayMs, '/policy/retry/maxDelayMs', initialDelayMs, 12 * 3600_000);
  if (typeof r.multiplier !== 'number' || !Number.isFinite(r.multiplier) || r.multiplier < 1 || r.multiplier > 100)
    throw invalid('retry.multiplier must be a number 1–100', '/policy/retry/multiplier');
  if (!['full', 'equal', 'none'].includes(r.jitter))
    throw invalid('retry.jitter must be "full", "equal" or "none"', '/policy/retry/jitter');
  const maxAgeMs =
    r.maxAgeMs === undefined || r.maxAgeMs === null
      ? undefined
      : int(r.maxAgeMs, '/policy/retry/maxAgeMs', 1, 30 * 24 * 3600_000);
  return {
    maxAttempts,
    initialDelayMs,
    maxDelayMs,
    multiplier: r.multiplier,
    jitter: r.jitter,
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
  };
}
