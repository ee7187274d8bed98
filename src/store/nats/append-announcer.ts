/**
 * Tells the other processes of a cluster that a stream has grown: a core-NATS message carrying
 * the stream's new last seq on `<prefix>.n.<stream>`. Their live subscribers, waiting reads and
 * sinks wake on it (this process's own wake locally when the append commits).
 *
 * An announcement sent alone is a socket write to NATS, which costs the main thread about what
 * answering the HTTP request did. So announcements wait up to `delayMs` for the next publish
 * of any chain, and leave in its socket write (the client writes once per turn of the
 * microtask queue); the same stream's announcements meanwhile fold into the highest seq. Under
 * steady load nearly every one rides with the next chain; on a quiet stream the timer sends it.
 * Other processes learn of an append at most `delayMs` later than they would otherwise.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsNames } from './nats-names.js';

export class AppendAnnouncer {
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly delayMs: number,
  ) {}

  announce(stream: string, lastSeq: number): void {
    const before = this.pending.get(stream);
    if (before === undefined || lastSeq > before) this.pending.set(stream, lastSeq);
    // a timer armed earlier still bounds the wait: at most one timer per delayMs, rather than a
    // timer set and cleared per chain under load
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.delayMs);
      this.timer.unref();
    }
  }

  /** sends what waits; called before every chain's publish so both share one socket write */
  flush(): void {
    if (this.pending.size === 0) return;
    for (const [stream, seq] of this.pending) {
      try {
        this.nc.publish(this.names.notifySubject(stream), String(seq));
      } catch {
        // the connection is closing: nothing more leaves on it
      }
    }
    this.pending.clear();
  }

  /** sends what waits and stops the timer (the store is closing) */
  stop(): void {
    this.flush();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
