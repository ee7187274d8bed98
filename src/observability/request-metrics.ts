/**
 * The per-request HTTP metrics: `rivulet_http_requests_total` and
 * `rivulet_http_request_duration_seconds`, by method, route template and status.
 *
 * Why not prom-client's Counter and Histogram: every answered request records both, and their
 * `inc`/`observe` rebuild and hash a labels object and look the bucket up by its bound as a
 * string on every call, ~1.4 µs per request, a twentieth of what a whole produce request costs
 * the main thread (docs/benchmarks.md). Here a label set is resolved once to a slot of plain
 * numbers, and a request costs a Map lookup and a few additions. The two metrics are handed to
 * the registry as metric objects (`get()` answers the same values prom-client's would), so the
 * exposition, content types and registry merging stay prom-client's.
 */
import type { Metric, Registry } from 'prom-client';

type Labels = { method: string; route: string; status: string };

interface Slot {
  labels: Labels;
  count: number;
  sum: number;
  /** per bucket (non-cumulative), the last one for values above every bound */
  buckets: Float64Array;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

export class RequestMetrics {
  private readonly slots = new Map<string, Slot>();

  constructor(
    registry: Registry,
    private readonly names: { count: string; duration: string },
    private readonly help: { count: string; duration: string },
    private readonly bounds: readonly number[],
  ) {
    registry.registerMetric(this.metric(names.count, help.count, 'counter', () => this.countValues()));
    registry.registerMetric(this.metric(names.duration, help.duration, 'histogram', () => this.durationValues()));
  }

  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = {
        labels: { method, route, status: String(status) },
        count: 0,
        sum: 0,
        buckets: new Float64Array(this.bounds.length + 1),
      };
      this.slots.set(key, slot);
    }
    slot.count++;
    slot.sum += seconds;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    slot.buckets[i]!++;
  }

  private countValues(): MetricValue[] {
    return [...this.slots.values()].map((s) => ({ value: s.count, labels: { ...s.labels } }));
  }

  /** as prom-client lays a histogram out: cumulative buckets with `le`, then +Inf, sum and count */
  private durationValues(): MetricValue[] {
    const values: MetricValue[] = [];
    const bucket = `${this.names.duration}_bucket`;
    for (const s of this.slots.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        values.push({ value: cumulative, labels: { le, ...s.labels }, metricName: bucket });
      });
      values.push({ value: s.count, labels: { le: '+Inf', ...s.labels }, metricName: bucket });
      values.push({ value: s.sum, labels: { ...s.labels }, metricName: `${this.names.duration}_sum` });
      values.push({ value: s.count, labels: { ...s.labels }, metricName: `${this.names.duration}_count` });
    }
    return values;
  }

  private metric(name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]): Metric {
    const slots = this.slots;
    // the shape the registry reads (name, get, reset, aggregator for cluster merging)
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum' as const,
      get: async () => ({ name, help, type, aggregator: 'sum' as const, values: values() }),
      reset: () => slots.clear(),
    };
    return metric as unknown as Metric;
  }
}
