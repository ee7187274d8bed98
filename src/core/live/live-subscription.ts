/**
 * One live subscription: the backlog from its start position, then the tail, handed to a
 * sink event by event in seq order. The position is the last seq handed over (or passed
 * by the type filter), and every read asks the store for what comes after it, so the
 * seam between backlog and tail has neither gap nor duplicate whatever the notifications say.
 */
import { RivuletError, isRivuletError } from '../../kernel/errors.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import type { EventLog } from '../../store/port.js';
import type { TailCache } from './tail-cache.js';

/** The events between the asked position and the oldest one retained are gone. */
export interface LiveReset {
  /** the position the subscription asked to continue after */
  requestedAfter: number;
  /** the oldest seq still retained; delivery continues from here */
  firstSeq: number;
}

export interface LiveSink {
  /** hands one event over; false means the client cannot take more and the subscription stops */
  event(event: StoredEvent): boolean;
  reset(reset: LiveReset): boolean;
  /** the end of a batch of events handed over together: a sink may write them out as one */
  flush?(): void;
  /** the subscription stopped on an error (the stream was deleted, the store failed) */
  failed(error: RivuletError): void;
}

/** events per store read while catching up */
const PAGE = 256;

export class LiveSubscription {
  private sink: LiveSink | null = null;
  private pumping = false;
  private again = false;
  private stopped = false;
  /** the first pass reads the store: the cache may not yet know of appends made while starting */
  private fresh = true;

  constructor(
    private readonly log: EventLog,
    readonly stream: string,
    /** the last seq delivered or skipped; delivery continues after it */
    private position: number,
    private readonly types: ReadonlySet<string> | null,
    private readonly pendingReset: LiveReset | null,
    private readonly cache: () => TailCache | undefined,
    private readonly onStop: (sub: LiveSubscription) => void,
  ) {}

  /** the seq a client resumes after */
  get lastSeq(): number {
    return this.position;
  }

  get active(): boolean {
    return this.sink !== null && !this.stopped;
  }

  start(sink: LiveSink): void {
    if (this.sink || this.stopped) return;
    this.sink = sink;
    if (this.pendingReset && !sink.reset(this.pendingReset)) {
      this.stop();
      return;
    }
    this.wake();
  }

  /** something may have been appended: read after the position */
  wake(): void {
    if (!this.active) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    // at the tail, the shared cache holds everything after the position: hand it over now,
    // without the promise a pump costs (this runs once per subscriber for every commit)
    const cached = this.fresh ? undefined : this.cache()?.after(this.position);
    if (cached !== undefined) {
      try {
        this.deliverAll(cached);
      } catch (err) {
        this.fail(err);
      }
      return;
    }
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop(this);
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        while (this.active) {
          const cached = this.fresh ? undefined : this.cache()?.after(this.position);
          this.fresh = false;
          if (cached !== undefined) {
            this.deliverAll(cached);
            break;
          }
          const page = await this.readPage();
          if (!this.active) return;
          if (page.length === 0) break;
          if (!this.deliverAll(page)) return;
          if (page.length < PAGE) break;
        }
      } while (this.again && this.active);
    } catch (err) {
      this.fail(err);
    }
  }

  /** ends the subscription on an error its reads (or the shared cache's) met */
  fail(err: unknown): void {
    if (this.stopped) return;
    const error = isRivuletError(err)
      ? err
      : new RivuletError('STORE_UNAVAILABLE', 'the live subscription could not read the stream', { cause: err });
    this.sink?.failed(error);
    this.stop();
  }

  private async readPage(): Promise<StoredEvent[]> {
    const page: StoredEvent[] = [];
    const types = this.types ? [...this.types] : undefined;
    for await (const e of this.log.read(this.stream, { afterSeq: this.position, types, limit: PAGE })) page.push(e);
    const first = page[0];
    // A jump in seqs is normal under a type filter, so only then ask where retention begins.
    if (first && first.seq > this.position + 1) {
      const stats = await this.log.stats(this.stream);
      if (stats.firstSeq > this.position + 1) {
        const reset = { requestedAfter: this.position, firstSeq: stats.firstSeq };
        this.position = stats.firstSeq - 1;
        if (this.active && !this.sink!.reset(reset)) this.stop();
      }
    }
    return page;
  }

  /** answers false when the sink refused an event and the subscription stopped */
  private deliverAll(events: StoredEvent[]): boolean {
    const sink = this.sink!;
    try {
      for (const e of events) {
        if (!this.active) return false;
        if (e.seq <= this.position) continue;
        this.position = e.seq;
        if (this.types && !this.types.has(e.type)) continue;
        if (!sink.event(e)) {
          this.stop();
          return false;
        }
      }
      return true;
    } finally {
      sink.flush?.();
    }
  }
}
