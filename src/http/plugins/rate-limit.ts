/**
 * Per-key rate limits: a token bucket per key id (refilled at `perSecond`, holding at most
 * `burst`), checked right after authentication and before any body is read. Anonymous callers
 * (where a route allows them) share buckets by client address. Over the limit: 429
 * RATE_LIMITED with `Retry-After`, in the format of the API the request came to.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RivuletError } from '../../kernel/errors.js';
import type { RivuletMetrics } from '../../observability/metrics.js';
import { METRICS_PATH } from './metrics.js';

export interface RateLimitOptions {
  /** requests per second per key; 0 turns rate limiting off */
  perSecond: number;
  /** requests a key may send at once after being idle; default max(1, perSecond) */
  burst?: number;
  metrics?: RivuletMetrics;
  /** milliseconds clock; tests may pass their own */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** buckets kept before idle (full) ones are dropped */
const MAX_BUCKETS = 100_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {}

  /** takes a token for `id`; answers 0 when granted, else the seconds until one is available */
  take(id: string): number {
    const now = this.now();
    let bucket = this.buckets.get(id);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.prune(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(id, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.perSecond;
  }

  private prune(now: number): void {
    for (const [id, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(id);
    }
    // all busy: forget the oldest rather than grow without bound
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

/** the bucket a key's requests share */
export const keyCaller = (keyId: string) => `key:${keyId}`;

function callerOf(req: FastifyRequest): string | null {
  const access = req.routeOptions.config?.access;
  // a scraper must see the server even while its key is busy elsewhere
  if (!access || access.scope === 'public' || req.routeOptions.url === METRICS_PATH) return null;
  return req.principal ? keyCaller(req.principal.key.id) : `ip:${req.ip}`;
}

/** The rate-limit decision, shared by the plugin and the produce lane so a key has one bucket. */
export class RateGate {
  private readonly buckets: TokenBuckets;
  private readonly burst: number;

  constructor(private readonly opts: RateLimitOptions) {
    this.burst = opts.burst ?? Math.max(1, opts.perSecond);
    this.buckets = new TokenBuckets(opts.perSecond, this.burst, opts.now ?? Date.now);
  }

  /** undefined when `caller` may go ahead (a token is taken), else the refusal */
  admit(caller: string): RivuletError | undefined {
    const wait = this.buckets.take(caller);
    if (wait === 0) return undefined;
    const retryAfter = Math.max(1, Math.ceil(wait));
    this.opts.metrics?.shed.inc({ reason: 'rate_limited' });
    return new RivuletError(
      'RATE_LIMITED',
      `this key may send ${this.opts.perSecond} requests per second (bursts of ${this.burst}); retry after ${retryAfter} s`,
      {
        retryAfter,
        details: { limit: this.opts.perSecond, burst: this.burst },
      },
    );
  }
}

/** a gate when limits are on (`perSecond` > 0); none otherwise */
export function rateGateOf(opts: RateLimitOptions | undefined): RateGate | undefined {
  return opts && opts.perSecond > 0 ? new RateGate(opts) : undefined;
}

async function rateLimitPlugin(app: FastifyInstance, opts: { gate: RateGate }): Promise<void> {
  const admit = (req: FastifyRequest): RivuletError | undefined => {
    const caller = callerOf(req);
    return caller === null ? undefined : opts.gate.admit(caller);
  };
  app.addHook('onRequest', (req, _reply, done) => done(admit(req)));
}

export const rateLimit = fp(rateLimitPlugin, { name: 'rivulet-rate-limit', fastify: '5.x' });
