/**
 * `/metrics` in the Prometheus text format, and what feeds it: events produced per stream,
 * live subscriptions, and consumer lag read at scrape time (answered requests
 * are counted by the request pipeline, request-pipeline.ts). Needs the admin key unless the
 * server runs with `--metrics-public`.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { CoreServices } from '../../core/services.js';
import type { Store } from '../../store/port.js';
import type { RivuletMetrics } from '../../observability/metrics.js';

export interface MetricsPluginOptions {
  metrics: RivuletMetrics;
  services: Pick<CoreServices, 'consumers' | 'live' | 'produce'>;
  /** the catalog and consumers, listed for the consumer lag gauge */
  store: Pick<Store, 'streams' | 'consumers' | 'readerStats'>;
  /** serve /metrics without a key */
  public?: boolean;
  /** most consumers whose lag one scrape reads (each costs a store query) */
  maxLagConsumers?: number;
}

export const METRICS_PATH = '/metrics';

async function metricsPlugin(app: FastifyInstance, opts: MetricsPluginOptions): Promise<void> {
  const { metrics, services, store } = opts;
  const maxLag = opts.maxLagConsumers ?? 100;

  const unsubscribe = services.produce.onProduced((stream, result) => {
    metrics.produced(
      stream,
      result.events.reduce((n, e) => n + (e.duplicate ? 0 : 1), 0),
    );
  });
  app.addHook('onClose', async () => unsubscribe());

  // both lag gauges read the same rows: one walk per scrape
  let lagRead: { at: number; rows: Promise<LagRow[]> } | undefined;
  const lagRows = () => {
    if (!lagRead || Date.now() - lagRead.at > 1000)
      lagRead = { at: Date.now(), rows: lagOfConsumers(services, store, maxLag) };
    return lagRead.rows;
  };
  metrics.gauge(
    'rivulet_live_subscriptions',
    'open live subscriptions (SSE and WebSocket) of this process',
    () => services.live.size,
  );
  if (store.readerStats) {
    const readers = () => store.readerStats!();
    metrics.gauge('rivulet_store_reader_threads', 'reader threads of the store', () => readers()?.threads ?? 0);
    metrics.gauge('rivulet_store_read_jobs_queued', 'reads waiting for a reader thread', () => readers()?.queued ?? 0);
    metrics.gauge('rivulet_store_read_jobs_running', 'reads running on reader threads', () => readers()?.running ?? 0);
    metrics.total('rivulet_store_read_jobs_total', 'reads run on reader threads', () => readers()?.jobs ?? 0);
    metrics.total(
      'rivulet_store_read_wait_seconds_total',
      'time reads waited for a reader thread, in all',
      () => (readers()?.waitMs ?? 0) / 1000,
    );
  }
  metrics.labelledGauge(
    'rivulet_consumer_lag_events',
    `events after each consumer's committed position (at most ${maxLag} consumers per scrape)`,
    ['stream', 'consumer'],
    async (gauge) => {
      for (const { stream, consumer, pending } of await lagRows()) gauge.set({ stream, consumer }, pending);
    },
  );
  metrics.labelledGauge(
    'rivulet_consumer_oldest_unacked_seconds',
    'age of the oldest unacknowledged event of each consumer',
    ['stream', 'consumer'],
    async (gauge) => {
      for (const { stream, consumer, oldestSeconds } of await lagRows())
        if (oldestSeconds !== null) gauge.set({ stream, consumer }, oldestSeconds);
    },
  );

  app.get(
    METRICS_PATH,
    {
      config: { access: opts.public ? { scope: 'public' } : { scope: 'admin' } },
      schema: { hide: true },
    },
    async (_req, reply) => {
      const text = await metrics.text();
      return reply.type(metrics.contentType).send(text);
    },
  );
}

interface LagRow {
  stream: string;
  consumer: string;
  pending: number;
  oldestSeconds: number | null;
}

/** walks streams and their consumers until `max` consumers are read; one scrape's lag costs at most that many queries */
async function lagOfConsumers(
  services: Pick<CoreServices, 'consumers' | 'live' | 'produce'>,
  store: Pick<Store, 'streams' | 'consumers'>,
  max: number,
): Promise<LagRow[]> {
  const rows: LagRow[] = [];
  let after: string | undefined;
  while (rows.length < max) {
    const streams = await store.streams.list({ after, limit: 100 });
    if (streams.length === 0) break;
    for (const stream of streams) {
      if (rows.length >= max) break;
      const consumers = await store.consumers.list(stream.name, { limit: max - rows.length });
      for (const consumer of consumers) {
        const lag = await services.consumers.lag(stream.name, consumer.name);
        rows.push({
          stream: stream.name,
          consumer: consumer.name,
          pending: lag.pending,
          oldestSeconds: lag.oldestUnackedAgeMs === null ? null : lag.oldestUnackedAgeMs / 1000,
        });
      }
    }
    after = streams[streams.length - 1]!.name;
  }
  return rows;
}

export const metricsRoutes = fp(metricsPlugin, { name: 'rivulet-metrics', fastify: '5.x' });
