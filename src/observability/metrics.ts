/**
 * Rivulet's Prometheus metrics. Each app gets its own registry (tests build many apps in one
 * process, and the global default registry would mix them); process metrics (memory, CPU,
 * GC, event-loop delay) are collected once per process and appended on scrape, because
 * prom-client's collectors start monitors that are never stopped.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RequestMetrics } from './request-metrics.js';
import type { SinkMetricsRecorder } from './sink-metrics.js';

/** distinct label values kept per metric before further ones are counted under `_other` */
export const MAX_LABEL_VALUES = 1000;
const OTHER = '_other';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** one commit of the store (a group commit holding `requests` appends) */
export interface StoreCommitInfo {
  durationMs: number;
  requests: number;
  events?: number;
}

let processRegistry: Registry | undefined;

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'rivulet_' });
  }
  return processRegistry;
}

/** keeps a label's cardinality bounded: the first MAX_LABEL_VALUES values, then `_other` */
class BoundedLabel {
  private readonly seen = new Set<string>();
  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= MAX_LABEL_VALUES) return OTHER;
    this.seen.add(value);
    return value;
  }
}

export interface MetricsOptions {
  /** include process metrics (memory, CPU, GC, event loop); default true */
  process?: boolean;
}

export class RivuletMetrics {
  readonly registry = new Registry();
  private readonly requests: RequestMetrics;
  readonly eventsProduced: Counter<'stream'>;
  readonly storeCommitSeconds: Histogram;
  readonly storeCommitRequests: Histogram;
  readonly storeCommitEvents: Histogram;
  readonly shed: Counter<'reason'>;
  /** produce requests the produce lane answered (the rest of `rivulet_http_requests_total` took fastify's pipeline) */
  readonly produceLane: Counter;
  readonly sinks: SinkMetricsRecorder;
  private readonly streams = new BoundedLabel();
  private readonly sinkNames = new BoundedLabel();
  private readonly includeProcess: boolean;
  /** events produced per stream label since the last scrape; prom-client's `inc` costs more than a produce's other bookkeeping */
  private readonly producedPending = new Map<string, number>();

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.includeProcess = options.process ?? true;
    this.requests = new RequestMetrics(
      this.registry,
      { count: 'rivulet_http_requests_total', duration: 'rivulet_http_request_duration_seconds' },
      {
        count: 'HTTP requests answered, by route template, method and status',
        duration: 'time from request to the end of its answer',
      },
      LATENCY_BUCKETS,
    );
    const pending = this.producedPending;
    this.eventsProduced = new Counter({
      name: 'rivulet_events_produced_total',
      help: 'events committed, by stream (idempotent replays not counted)',
      labelNames: ['stream'],
      registers,
      // runs on every scrape, before the values are read
      collect() {
        for (const [stream, events] of pending) this.inc({ stream }, events);
        pending.clear();
      },
    });
    this.storeCommitSeconds = new Histogram({
      name: 'rivulet_store_commit_seconds',
      help: 'time one store commit (transaction and fsync) took',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.storeCommitRequests = new Histogram({
      name: 'rivulet_store_commit_batch_requests',
      help: 'append requests sharing one commit (group commit)',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.storeCommitEvents = new Histogram({
      name: 'rivulet_store_commit_batch_events',
      help: 'events written by one commit',
      buckets: [1, 10, 100, 1000, 10_000, 100_000],
      registers,
    });
    this.shed = new Counter({
      name: 'rivulet_requests_shed_total',
      help: 'requests refused to protect the server: overloaded (in-flight or event-loop delay) or rate limited',
      labelNames: ['reason'],
      registers,
    });
    this.produceLane = new Counter({
      name: 'rivulet_produce_lane_requests_total',
      help: 'produce requests answered by the produce lane rather than the general HTTP pipeline (also counted in rivulet_http_requests_total)',
      registers,
    });
    const delivered = new Counter({
      name: 'rivulet_sink_events_delivered_total',
      help: 'events delivered by each sink',
      labelNames: ['sink'],
      registers,
    });
    const attempts = new Histogram({
      name: 'rivulet_sink_delivery_seconds',
      help: 'time of successful delivery attempts, by sink',
      labelNames: ['sink'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const failures = new Counter({
      name: 'rivulet_sink_failures_total',
      help: 'failed delivery attempts, by sink and reason',
      labelNames: ['sink', 'reason'],
      registers,
    });
    const retries = new Counter({
      name: 'rivulet_sink_retries_total',
      help: 'delivery attempts scheduled again, by sink',
      labelNames: ['sink'],
      registers,
    });
    const dead = new Counter({
      name: 'rivulet_sink_dead_lettered_total',
      help: 'events written to the dead-letter stream, by sink',
      labelNames: ['sink'],
      registers,
    });
    const reasons = new BoundedLabel();
    this.sinks = {
      delivered: (sink, events, durationMs) => {
        const label = this.sinkNames.of(sink);
        delivered.inc({ sink: label }, events);
        attempts.observe({ sink: label }, durationMs / 1000);
      },
      failed: (sink, reason) =>
        failures.inc({ sink: this.sinkNames.of(sink), reason: reasons.of(reason.slice(0, 40)) }),
      retried: (sink) => retries.inc({ sink: this.sinkNames.of(sink) }),
      deadLettered: (sink, events) => dead.inc({ sink: this.sinkNames.of(sink) }, events),
    };
  }

  /** counts one answered request; `route` is the route template, so the label sets stay few */
  request(method: string, route: string, status: number, seconds: number): void {
    this.requests.record(method, route, status, seconds);
  }

  /** counts committed events; called from ProduceService.onProduced */
  produced(stream: string, events: number): void {
    const label = this.streams.of(stream);
    this.producedPending.set(label, (this.producedPending.get(label) ?? 0) + events);
  }

  /** records one store commit; wired to the store's commit observer where it has one */
  commit(info: StoreCommitInfo): void {
    this.storeCommitSeconds.observe(info.durationMs / 1000);
    this.storeCommitRequests.observe(info.requests);
    if (info.events !== undefined) this.storeCommitEvents.observe(info.events);
  }

  /** a gauge whose value is read at scrape time */
  gauge(name: string, help: string, read: () => number | Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read());
      },
    });
  }

  /** a counter read at scrape time from a running total kept elsewhere (it only grows) */
  total(name: string, help: string, read: () => number): void {
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const now = read();
        if (now > seen) this.inc(now - seen);
        seen = Math.max(seen, now);
      },
    });
  }

  /** a labelled gauge filled at scrape time; `fill` sets the values (reset before each scrape) */
  labelledGauge<L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    fill: (gauge: Gauge<L>) => Promise<void>,
  ): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await fill(this);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** the exposition text: this app's metrics, then the process's */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    return this.includeProcess ? own + (await processMetrics().metrics()) : own;
  }
}
