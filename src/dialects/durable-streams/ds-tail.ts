/**
 * Waiters of live reads: a long-poll or SSE connection waits here until its stream has events
 * past its position, the stream changes (closed, deleted), or time runs out. One store watch
 * serves them all; on a store that reports other processes' appends, so does this.
 *
 * A reader arms a watch before it reads the stream's state and events, and waits on that
 * watch afterwards. Reads take time (they may run on another thread), and an append or a close
 * that lands meanwhile must still end the wait: the watch remembers what it was told while
 * nobody was waiting on it.
 */
import type { EventLog } from '../../core/ports.js';

export class TailWatch {
  /** the highest seq an append was reported at since the watch was armed */
  private seenSeq = -1;
  /** the stream was closed or deleted since `stateRead` */
  private poked = false;
  private pending: { afterSeq: number; wake: () => void } | null = null;
  private ended = false;

  constructor(private readonly onCancel: (w: TailWatch) => void) {}

  /**
   * Call right before reading the stream's state: a change reported before this is in what
   * the caller reads, one reported after ends the next wait at once.
   */
  stateRead(): void {
    this.poked = false;
  }

  /**
   * Resolves once an event after `afterSeq` was reported (since the watch was armed), the
   * stream was poked since `stateRead`, or `timeoutMs` passed; answers true on timeout.
   */
  wait(afterSeq: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.ended || this.poked || this.seenSeq > afterSeq || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (timedOut: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending = null;
        resolve(timedOut);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(true), timeoutMs);
      signal?.addEventListener('abort', onAbort);
      this.pending = { afterSeq, wake: () => done(false) };
    });
  }

  /** stops watching; a wait in progress ends */
  cancel(): void {
    this.ended = true;
    this.pending?.wake();
    this.onCancel(this);
  }

  appended(lastSeq: number): void {
    if (lastSeq > this.seenSeq) this.seenSeq = lastSeq;
    if (this.pending && lastSeq > this.pending.afterSeq) this.pending.wake();
  }

  poke(): void {
    this.poked = true;
    this.pending?.wake();
  }

  end(): void {
    this.ended = true;
    this.pending?.wake();
  }
}

export class DsTail {
  private readonly watches = new Map<string, Set<TailWatch>>();
  private unwatch: (() => void) | null = null;
  private closed = false;

  constructor(private readonly log: EventLog) {}

  /** starts watching a stream; the caller reads, then waits on the watch, and cancels it when done */
  arm(stream: string): TailWatch {
    this.unwatch ??= this.log.watch((name, lastSeq) => this.notify(name, lastSeq));
    let set = this.watches.get(stream);
    if (!set) this.watches.set(stream, (set = new Set()));
    const watch = new TailWatch((w) => {
      const s = this.watches.get(stream);
      s?.delete(w);
      if (s && s.size === 0) this.watches.delete(stream);
    });
    set.add(watch);
    if (this.closed) watch.end();
    return watch;
  }

  /** tells every watch of the stream that it changed (closed or deleted) */
  poke(stream: string): void {
    for (const w of [...(this.watches.get(stream) ?? [])]) w.poke();
  }

  private notify(stream: string, lastSeq: number): void {
    for (const w of [...(this.watches.get(stream) ?? [])]) w.appended(lastSeq);
  }

  close(): void {
    this.closed = true;
    this.unwatch?.();
    this.unwatch = null;
    for (const set of this.watches.values()) for (const w of [...set]) w.end();
  }
}
