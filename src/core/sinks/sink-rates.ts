/**
 * Sink rates: deliveries and failed attempts per minute of each sink over the last hour, for
 * the console's sink charts. Fed by the delivery engine's stats recorder, kept in memory, per
 * process, like the produce rates: a restart starts from nothing, and where several processes
 * share a store each counts only what it delivered (a sink is delivered by one process at a
 * time, so that is usually all of it). The totals in `sink-stats` are the durable figures.
 */
import type { Clock } from '../../kernel/clock.js';
import { ProduceRates } from '../streams/produce-rates.js';

export interface SinkRateSeries {
  sink: string;
  /** start of the first step (RFC 3339) */
  start: string;
  stepSeconds: number;
  /** events delivered in each step, oldest first; the last step is the current, partial one */
  delivered: number[];
  /** failed attempts in each step (retried or dead-lettered afterwards) */
  failed: number[];
}

export class SinkRates {
  // the produce-rate ring counts anything keyed by a name; one ring per counter
  private readonly delivered: ProduceRates;
  private readonly failed: ProduceRates;

  constructor(clock: Clock, maxSinks = 10_000) {
    this.delivered = new ProduceRates(clock, maxSinks);
    this.failed = new ProduceRates(clock, maxSinks);
  }

  record(sinkId: string, counter: 'delivered' | 'failed', n = 1): void {
    (counter === 'delivered' ? this.delivered : this.failed).record(sinkId, n);
  }

  /** the last `windowSeconds` in steps of `stepSeconds` (whole minutes; VALIDATION_FAILED otherwise) */
  series(sinkId: string, windowSeconds: number, stepSeconds: number): SinkRateSeries {
    const delivered = this.delivered.series(sinkId, windowSeconds, stepSeconds);
    const failed = this.failed.series(sinkId, windowSeconds, stepSeconds);
    return { sink: sinkId, start: delivered.start, stepSeconds, delivered: delivered.counts, failed: failed.counts };
  }
}
