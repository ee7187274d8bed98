/**
 * Sends batches of events with a few requests in flight. Each batch carries its own
 * Idempotency-Key, kept across retries, so a batch retried after a timeout or a lost answer is
 * stored once. 429, 503 and network failures are retried with exponential backoff and jitter
 * (honouring Retry-After); any other refusal is final.
 */
import { randomUUID } from 'node:crypto';
import { CliError, EXIT } from './cli-error.js';
import { failureOf, UnreachableError, type ApiClient } from './http-client.js';
import { nextDelayMs, parseRetryAfter, type RetryPolicy } from '../../delivery/backoff.js';

export interface Batch {
  number: number;
  events: string[];
  bytes: number;
}

export interface SenderOptions {
  stream: string;
  inFlight: number;
  maxAttempts: number;
  producer?: string;
  /** `duplicates`: events the stream already held (their ids were sent before), so not stored again */
  onSent: (batch: Batch, duplicates: number) => void;
  onRetry?: (batch: Batch, attempt: number, reason: string) => void;
}

export class BatchSender {
  private readonly running = new Set<Promise<void>>();
  private readonly runId = randomUUID();
  /** the first final failure; no new batch is sent after it */
  failure: CliError | undefined;
  failedEvents = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly options: SenderOptions,
  ) {}

  /** Resolves once there is room for the batch (backpressure for the reader). */
  async send(batch: Batch): Promise<void> {
    if (this.failure) {
      this.failedEvents += batch.events.length;
      return;
    }
    while (this.running.size >= this.options.inFlight) await Promise.race(this.running);
    const task = this.deliver(batch).then(
      (duplicates) => this.options.onSent(batch, duplicates),
      (err: unknown) => {
        this.failedEvents += batch.events.length;
        this.failure ??= err instanceof CliError ? err : new CliError(EXIT.SERVER, (err as Error).message);
      },
    );
    const tracked = task.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
  }

  private async deliver(batch: Batch): Promise<number> {
    const path = `/v1/streams/${encodeURIComponent(this.options.stream)}/events`;
    const headers: Record<string, string> = { 'idempotency-key': `${this.runId}-${batch.number}` };
    if (this.options.producer) headers['x-producer-id'] = this.options.producer;
    const body = `[${batch.events.join(',')}]`;
    for (let attempt = 1; ; attempt++) {
      let retryAfterMs: number | undefined;
      let reason: string;
      try {
        const res = await this.client.request<{ events?: { duplicate?: boolean }[] }>('POST', path, {
          body,
          headers,
          allowFailure: true,
        });
        if (res.status < 300) return res.body?.events?.filter((e) => e.duplicate === true).length ?? 0;
        const retryable = res.status === 429 || res.status === 503;
        if (!retryable || attempt >= this.options.maxAttempts) throw failureOf(res.status, res.body, 'POST', path);
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after') ?? undefined, new Date(), 60_000);
        reason = `status ${res.status}`;
      } catch (err) {
        if (!(err instanceof UnreachableError) || attempt >= this.options.maxAttempts) throw err;
        reason = err.message;
      }
      this.options.onRetry?.(batch, attempt, reason);
      await sleep(retryAfterMs ?? nextDelayMs(attempt, RETRY));
    }
  }
}

/** the sinks' backoff (docs/architecture.md says why it is not a library): 250 ms doubling to 10 s, equal jitter */
const RETRY: RetryPolicy = {
  maxAttempts: Number.MAX_SAFE_INTEGER,
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 'equal',
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
