/**
 * Waiters of live reads: a long-poll or SSE connection waits here until its stream has events
 * past its position, the stream changes (closed, deleted), or time runs out. One store watch
 * serves them all; on a store that reports other processes' appends, so does this.
 */
import type { EventLog } from '../../core/ports.js';

interface Waiter {
  afterSeq: number;
  wake: () => void;
}

export class DsTail {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private unwatch: (() => void) | null = null;

  constructor(private readonly log: EventLog) {}

  /** resolves once the stream has an event after `afterSeq`, is poked, or `timeoutMs` passed; answers true on timeout */
  wait(stream: string, afterSeq: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    this.unwatch ??= this.log.watch((name, lastSeq) => this.notify(name, lastSeq));
    return new Promise((resolve) => {
      let set = this.waiters.get(stream);
      if (!set) this.waiters.set(stream, (set = new Set()));
      const done = (timedOut: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const s = this.waiters.get(stream);
        s?.delete(waiter);
        if (s && s.size === 0) this.waiters.delete(stream);
        resolve(timedOut);
      };
      const onAbort = () => done(false);
      const waiter: Waiter = { afterSeq, wake: () => done(false) };
      const timer = setTimeout(() => done(true), timeoutMs);
      signal?.addEventListener('abort', onAbort);
      set.add(waiter);
    });
  }

  /** wakes every waiter of the stream (it was closed or deleted) */
  poke(stream: string): void {
    for (const w of [...(this.waiters.get(stream) ?? [])]) w.wake();
  }

  private notify(stream: string, lastSeq: number): void {
    for (const w of [...(this.waiters.get(stream) ?? [])]) if (lastSeq > w.afterSeq) w.wake();
  }

  close(): void {
    this.unwatch?.();
    this.unwatch = null;
    for (const set of this.waiters.values()) for (const w of [...set]) w.wake();
  }
}
