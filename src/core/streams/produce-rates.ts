/**
 * Produce rates: how many events each stream took per minute over the last hour, for the
 * console's sparklines. Fed by `ProduceService.onProduced`, kept in memory, per process:
 * a restart starts from nothing, and where several processes share a store each one counts
 * only the events produced through it. Reading the store's time index instead would count
 * by the producer's `time`, which says when something happened, not when it arrived.
 *
 * Memory is bounded: one ring of 60 one-minute buckets per stream, for at most `maxStreams`
 * streams (the least recently written ones are forgotten first).
 */
import type { Clock } from '../../kernel/clock.js';
import { RivuletError } from '../../kernel/errors.js';

export const RATE_BUCKET_SECONDS = 60;
export const RATE_BUCKETS = 60;
const BUCKET_MS = RATE_BUCKET_SECONDS * 1000;

interface Ring {
  /** counts[i] belongs to minute `minutes[i]` (epoch minutes); a stale minute reads as 0 */
  counts: Float64Array;
  minutes: Float64Array;
}

export interface RateSeries {
  stream: string;
  /** start of the first step (RFC 3339) */
  start: string;
  stepSeconds: number;
  /** events produced in each step, oldest first; the last step is the current, partial one */
  counts: number[];
  /** counts[i] / stepSeconds */
  perSecond: number[];
}

export class ProduceRates {
  private readonly rings = new Map<string, Ring>();
  /** the stream written last, already at the Map's end: writing it again needs no re-insert */
  private last: string | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly maxStreams = 10_000,
  ) {}

  /** a ProduceListener; `record(stream, n)` counts n events now */
  readonly record = (stream: string, count: number): void => {
    const minute = Math.floor(this.clock.now().getTime() / BUCKET_MS);
    let ring = this.rings.get(stream);
    if (!ring || stream !== this.last) {
      if (ring) {
        // re-insert: Map order is then least recently written first
        this.rings.delete(stream);
      } else {
        ring = { counts: new Float64Array(RATE_BUCKETS), minutes: new Float64Array(RATE_BUCKETS).fill(-1) };
        if (this.rings.size >= this.maxStreams) this.rings.delete(this.rings.keys().next().value!);
      }
      this.rings.set(stream, ring);
      this.last = stream;
    }
    const i = minute % RATE_BUCKETS;
    if (ring.minutes[i] !== minute) {
      ring.minutes[i] = minute;
      ring.counts[i] = 0;
    }
    ring.counts[i]! += count;
  };

  /**
   * The last `windowSeconds` in steps of `stepSeconds`, both whole minutes, the window at most
   * an hour and a whole number of steps. Streams nobody wrote to answer zeros.
   */
  series(stream: string, windowSeconds: number, stepSeconds: number): RateSeries {
    assertWindow(windowSeconds, stepSeconds);
    const perStep = stepSeconds / RATE_BUCKET_SECONDS;
    const steps = windowSeconds / stepSeconds;
    const nowMinute = Math.floor(this.clock.now().getTime() / BUCKET_MS);
    // the current minute ends the last step
    const firstMinute = nowMinute - steps * perStep + 1;
    const ring = this.rings.get(stream);
    const counts: number[] = [];
    for (let s = 0; s < steps; s++) {
      let sum = 0;
      for (let m = 0; m < perStep; m++) {
        const minute = firstMinute + s * perStep + m;
        const i = minute % RATE_BUCKETS;
        if (ring && ring.minutes[i] === minute) sum += ring.counts[i]!;
      }
      counts.push(sum);
    }
    return {
      stream,
      start: new Date(firstMinute * BUCKET_MS).toISOString(),
      stepSeconds,
      counts,
      perSecond: counts.map((c) => c / stepSeconds),
    };
  }
}

function assertWindow(windowSeconds: number, stepSeconds: number): void {
  const whole = (n: number) => Number.isSafeInteger(n) && n > 0 && n % RATE_BUCKET_SECONDS === 0;
  if (!whole(windowSeconds) || windowSeconds > RATE_BUCKETS * RATE_BUCKET_SECONDS) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `window must be a whole number of minutes in seconds, at most ${RATE_BUCKETS * RATE_BUCKET_SECONDS}`,
      { details: { in: 'querystring', pointer: '/window' } },
    );
  }
  if (!whole(stepSeconds) || windowSeconds % stepSeconds !== 0) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      'step must be a whole number of minutes in seconds that divides the window',
      { details: { in: 'querystring', pointer: '/step' } },
    );
  }
}
