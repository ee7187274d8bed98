/** Applies each stream's retention policy on an interval, and forgets old idempotency keys. */
import type { Logger } from 'pino';
import type { Store } from '../store/port.js';

export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running)
        this.running = this.sweep()
          .then(
            () => undefined,
            (err: unknown) => this.log.error({ err }, 'retention sweep failed'),
          )
          .finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  async sweep(nowMs = Date.now()): Promise<number> {
    let removed = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.store.streams.list({ after, limit: 200 });
      for (const stream of page) {
        const { maxAgeMs, maxEvents, maxBytes } = stream.retention;
        if (maxAgeMs == null && maxEvents == null && maxBytes == null) continue;
        try {
          removed += await this.store.events.enforceRetention(stream.name, stream.retention, nowMs);
        } catch (err) {
          this.log.error({ err, stream: stream.name }, 'retention sweep failed for a stream');
        }
      }
      if (page.length < 200) break;
      after = page[page.length - 1]!.name;
    }
    await this.store.events.purgeIdempotencyKeys(nowMs);
    if (removed > 0) this.log.info({ removed }, 'retention removed events');
    return removed;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
