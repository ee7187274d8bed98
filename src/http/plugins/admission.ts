/**
 * Admission control: under overload a request is refused at once with 503 OVERLOADED and
 * `Retry-After`, rather than queued without bound. Two signals:
 * - produce requests in flight (parsing, checks, waiting for their commit) beyond
 *   `maxInflightProduce`: the store is not keeping up with the writers;
 * - event-loop delay beyond `maxEventLoopDelayMs`: the process cannot serve what it took.
 * Public routes (health, docs) and /metrics are never refused, so the server stays observable.
 * Runs before authentication: shedding must cost less than serving. The hooks that apply it
 * are steps of the request pipeline (request-pipeline.ts), which the produce lane shares.
 */
import type { FastifyRequest } from 'fastify';
import { RivuletError } from '../../kernel/errors.js';
import { EventLoopDelay } from '../../observability/event-loop-delay.js';
import type { RivuletMetrics } from '../../observability/metrics.js';
import { METRICS_PATH } from './metrics.js';

export interface AdmissionOptions {
  /** most produce requests in flight at once; 0 for no bound */
  maxInflightProduce: number;
  /** refuse requests while the event loop's p99 delay exceeds this many milliseconds; 0 turns it off */
  maxEventLoopDelayMs: number;
  /** window over which the delay is measured; default 500 ms */
  eventLoopWindowMs?: number;
  /** seconds sent as Retry-After; default 1 */
  retryAfterSeconds?: number;
  metrics?: RivuletMetrics;
}

/** routes admission never refuses: public ones (health, docs) and /metrics, so the server stays observable */
export function exemptFromAdmission(req: FastifyRequest): boolean {
  const access = req.routeOptions.config?.access;
  return !access || access.scope === 'public' || req.routeOptions.url === METRICS_PATH;
}

/** a write to a produce route: it holds a place in flight until answered */
export function isProduceRequest(req: FastifyRequest): boolean {
  return req.method !== 'GET' && req.method !== 'HEAD' && req.routeOptions.config?.access?.scope === 'produce';
}

/**
 * The admission decision, shared by the plugin and the produce lane (which answers common
 * produce requests outside fastify's pipeline) so both count the same writes in flight.
 */
export class AdmissionGate {
  private inflight = 0;
  private readonly retryAfter: number;
  private readonly delay: EventLoopDelay | null;

  constructor(private readonly opts: AdmissionOptions) {
    this.retryAfter = opts.retryAfterSeconds ?? 1;
    this.delay = opts.maxEventLoopDelayMs > 0 ? new EventLoopDelay(opts.eventLoopWindowMs ?? 500) : null;
    opts.metrics?.gauge('rivulet_produce_inflight', 'produce requests in flight', () => this.inflight);
    const delay = this.delay;
    if (delay)
      opts.metrics?.gauge(
        'rivulet_event_loop_delay_seconds',
        `p99 event-loop delay over the last ${opts.eventLoopWindowMs ?? 500} ms, as admission control sees it`,
        () => delay.current / 1000,
      );
  }

  /** measured from when the app is ready: building it (compiling schemas, loading plugins) blocks the loop by design */
  start(): void {
    this.delay?.start();
  }

  close(): void {
    this.delay?.close();
  }

  /** undefined when admitted; an admitted produce request holds a place until `release()` */
  admit(produce: boolean): RivuletError | undefined {
    const { opts, delay, retryAfter } = this;
    if (delay && delay.current > opts.maxEventLoopDelayMs) {
      opts.metrics?.shed.inc({ reason: 'event_loop_delay' });
      return new RivuletError(
        'OVERLOADED',
        `the server is overloaded (event-loop delay ${Math.round(delay.current)} ms); retry after ${retryAfter} s`,
        { retryAfter },
      );
    }
    if (!produce) return undefined;
    if (opts.maxInflightProduce > 0 && this.inflight >= opts.maxInflightProduce) {
      opts.metrics?.shed.inc({ reason: 'inflight_produce' });
      return new RivuletError(
        'OVERLOADED',
        `the server is overloaded (${this.inflight} writes in flight); retry after ${retryAfter} s`,
        { retryAfter },
      );
    }
    this.inflight++;
    return undefined;
  }

  release(): void {
    this.inflight--;
  }
}
