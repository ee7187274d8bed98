/**
 * Sink counters: kept per process in memory and added into the document `sink-stats/<id>`
 * periodically (read-modify-write with optimistic concurrency), so they survive restarts and
 * sum across processes. The latest error and success times win by time. The same counts go
 * to the console's per-minute rates and to the process metrics (`/metrics`).
 */
import { RivuletError } from '../../kernel/errors.js';
import { EMPTY_STATS, STATS_COLLECTION, type SinkStats } from '../../core/sinks/sink-model.js';
import type { SinkRates } from '../../core/sinks/sink-rates.js';
import { NO_SINK_METRICS, type SinkMetricsRecorder } from '../../observability/sink-metrics.js';
import type { DocumentStore } from '../../store/port.js';

type Counter = 'delivered' | 'failed' | 'retried' | 'deadLettered' | 'filtered' | 'bytes';

export class StatsRecorder {
  private readonly pending = new Map<string, SinkStats>();

  constructor(
    private readonly documents: DocumentStore,
    /** per-minute deliveries and failures for the console's charts (in memory, this process) */
    private readonly rates?: SinkRates,
    private readonly metrics: SinkMetricsRecorder = NO_SINK_METRICS,
  ) {}

  add(sinkId: string, counter: Counter, n = 1): void {
    const s = this.entry(sinkId);
    s[counter] += n;
    if (counter === 'delivered' || counter === 'failed') this.rates?.record(sinkId, counter, n);
    if (counter === 'retried') this.metrics.retried(sinkId);
    else if (counter === 'deadLettered') this.metrics.deadLettered(sinkId, n);
  }

  /** one event delivered by an attempt that took `latencyMs` */
  delivered(sinkId: string, bytes: number, status: number | null, latencyMs: number, at: Date): void {
    this.add(sinkId, 'delivered');
    this.add(sinkId, 'bytes', bytes);
    this.success(sinkId, status, at);
    this.metrics.delivered(sinkId, 1, latencyMs);
  }

  error(sinkId: string, error: string, status: number | null, at: Date): void {
    const s = this.entry(sinkId);
    s.lastError = error;
    s.lastStatus = status;
    s.lastErrorAt = at.toISOString();
    this.metrics.failed(sinkId, failureReason(error, status));
  }

  success(sinkId: string, status: number | null, at: Date): void {
    const s = this.entry(sinkId);
    s.lastSuccessAt = at.toISOString();
    if (status !== null) s.lastStatus = status;
  }

  /** drops what was not flushed for a deleted sink */
  forget(sinkId: string): void {
    this.pending.delete(sinkId);
  }

  async flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    for (const [sinkId, delta] of batch) {
      try {
        await this.merge(sinkId, delta);
      } catch {
        // the store is unavailable: keep the counts for the next flush
        const again = this.entry(sinkId);
        for (const k of ['delivered', 'failed', 'retried', 'deadLettered', 'filtered', 'bytes'] as const)
          again[k] += delta[k];
      }
    }
  }

  private async merge(sinkId: string, delta: SinkStats): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const doc = await this.documents.get<SinkStats>(STATS_COLLECTION, sinkId);
      const base = { ...EMPTY_STATS, ...(doc?.value ?? {}) };
      const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);
      const next: SinkStats = {
        delivered: base.delivered + delta.delivered,
        failed: base.failed + delta.failed,
        retried: base.retried + delta.retried,
        deadLettered: base.deadLettered + delta.deadLettered,
        filtered: base.filtered + delta.filtered,
        bytes: base.bytes + delta.bytes,
        lastError:
          delta.lastErrorAt !== null && delta.lastErrorAt === later(base.lastErrorAt, delta.lastErrorAt)
            ? delta.lastError
            : base.lastError,
        lastStatus: delta.lastStatus ?? base.lastStatus,
        lastErrorAt: later(base.lastErrorAt, delta.lastErrorAt),
        lastSuccessAt: later(base.lastSuccessAt, delta.lastSuccessAt),
      };
      try {
        await this.documents.put(STATS_COLLECTION, sinkId, next, { expectedVersion: doc?.version ?? 0 });
        return;
      } catch (err) {
        if (!(err instanceof RivuletError && err.code === 'CONFLICT')) throw err;
      }
    }
  }

  private entry(sinkId: string): SinkStats {
    let s = this.pending.get(sinkId);
    if (s === undefined) {
      s = { ...EMPTY_STATS };
      this.pending.set(sinkId, s);
    }
    return s;
  }
}

/** a short, bounded label for a failed attempt: the status, else the kind of error */
function failureReason(error: string, status: number | null): string {
  if (status !== null) return `status_${status}`;
  if (/timed? ?out|timeout|abort/i.test(error)) return 'timeout';
  if (/ECONNRESET|ECONNREFUSED|EPIPE|ENOTFOUND|EAI_AGAIN|socket|network/i.test(error)) return 'network';
  return 'other';
}
