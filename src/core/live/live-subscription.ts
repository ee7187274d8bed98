/**
 * One live subscription: the backlog from its start position, then the tail, handed to a
 * sink in seq order. The position is the last seq handed over (or passed by the type
 * filter), and every read asks the store for what comes after it, so the seam between
 * backlog and tail has neither gap nor duplicate whatever the notifications say.
 *
 * The backlog is read at the client's pace: before each page the sink may say its client has
 * not taken the last one yet, and the next read waits. Where the store can (`eventJson`) and
 * the sink takes them, backlog pages come as the events' stored text, which the sink frames
 * without parsing or rendering an event: a subscriber joining with a long backlog then costs
 * the event loop a copy per event, not a render.
 */
import { RivuletError, isRivuletError } from '../../kernel/errors.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import type { EventLog, EventTextPage } from '../../store/port.js';
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
  /**
   * Optional: takes backlog pages as the events' text (see EventTextPage), from the event at
   * `from` on, in place of `event` for each; false means the subscription stops.
   */
  texts?: {
    /** the page carries each event's type */
    types: boolean;
    /** bytes of text per page, at most (one event always fits) */
    maxBytes: number;
    deliver(page: EventTextPage, from: number): boolean;
  };
  /** Optional: true while the client has yet to take what was handed over; the backlog waits */
  backlogFull?(): boolean;
  /** resolves once the client has taken what was handed over (or is gone); asked when `backlogFull` */
  drained?(): Promise<void>;
  /** the subscription stopped on an error (the stream was deleted, the store failed) */
  failed(error: RivuletError): void;
}

/** events per store read while catching up */
const PAGE = 256;
/** events per store read while catching up, read as text: the event loop only copies them */
const TEXT_PAGE = 1000;

export class LiveSubscription {
  private sink: LiveSink | null = null;
  private pumping = false;
  private again = false;
  private stopped = false;
  /** the first pass reads the store: the cache may not yet know of appends made while starting */
  private fresh = true;
  /** the rest of a backlog page cut short until the client took what it was handed */
  private rest: StoredEvent[] = [];

  constructor(
    private readonly log: EventLog,
    readonly stream: string,
    /** the last seq delivered or skipped; delivery continues after it */
    private position: number,
    private readonly types: ReadonlySet<string> | null,
    private readonly pendingReset: LiveReset | null,
    private readonly cache: () => TailCache | undefined,
    private readonly onStop: (sub: LiveSubscription) => void,
    /** the store answers `readTexts` (it declares `eventJson`) */
    private readonly textReads = false,
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
            this.rest = [];
            this.deliverAll(cached);
            break;
          }
          if (this.sink!.backlogFull?.()) {
            await this.sink!.drained!();
            // the tail may have caught up meanwhile: look at the cache again
            continue;
          }
          const texts = this.textReads ? this.sink!.texts : undefined;
          if (texts) {
            const page = await this.readTextPage(texts.types, texts.maxBytes);
            if (!this.active) return;
            if (page.seqs.length === 0) break;
            if (!this.deliverTexts(page, texts)) return;
            if (!page.more) break;
            continue;
          }
          // what a page cut short for the client's sake left, else the next page
          const leftover = this.rest.length > 0;
          const page = leftover ? this.rest : await this.readPage();
          this.rest = [];
          if (!this.active) return;
          if (page.length === 0) break;
          const taken = this.deliverBacklog(page);
          if (taken < 0) return;
          if (taken < page.length) {
            this.rest = page.slice(taken);
            continue;
          }
          // a short page read from the store is the end of the backlog (after a leftover, ask)
          if (!leftover && page.length < PAGE) break;
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
    if (page[0]) await this.checkGap(page[0].seq);
    return page;
  }

  private async readTextPage(withTypes: boolean, maxBytes: number): Promise<EventTextPage> {
    const types = this.types ? [...this.types] : undefined;
    const page = await this.log.readTexts!(
      this.stream,
      { afterSeq: this.position, types, limit: TEXT_PAGE },
      { maxBytes, types: withTypes },
    );
    if (page.seqs.length > 0) await this.checkGap(page.seqs[0]!);
    return page;
  }

  /**
   * A page that starts past the position: retention may have dropped what came between. A jump
   * in seqs is normal under a type filter, so only then ask where retention begins.
   */
  private async checkGap(firstSeq: number): Promise<void> {
    if (firstSeq <= this.position + 1) return;
    const stats = await this.log.stats(this.stream);
    if (stats.firstSeq > this.position + 1) {
      const reset = { requestedAfter: this.position, firstSeq: stats.firstSeq };
      this.position = stats.firstSeq - 1;
      if (this.active && !this.sink!.reset(reset)) this.stop();
    }
  }

  /** answers false when the sink refused the page and the subscription stopped */
  private deliverTexts(page: EventTextPage, texts: NonNullable<LiveSink['texts']>): boolean {
    if (!this.active) return false;
    // a reset may have moved the position into the page
    let from = 0;
    while (from < page.seqs.length && page.seqs[from]! <= this.position) from++;
    if (from === page.seqs.length) return true;
    this.position = page.seqs[page.seqs.length - 1]!;
    if (!texts.deliver(page, from)) {
      this.stop();
      return false;
    }
    return true;
  }

  /**
   * hands over a backlog page until the client has enough to take: answers how many of its
   * events were taken, or -1 when the sink refused one and the subscription stopped
   */
  private deliverBacklog(events: StoredEvent[]): number {
    const sink = this.sink!;
    try {
      for (let i = 0; i < events.length; i++) {
        if (i > 0 && sink.backlogFull?.()) return i;
        if (!this.deliverOne(events[i]!)) return -1;
      }
      return events.length;
    } finally {
      sink.flush?.();
    }
  }

  /** answers false when the sink refused the event and the subscription stopped */
  private deliverOne(e: StoredEvent): boolean {
    if (!this.active) return false;
    if (e.seq <= this.position) return true;
    this.position = e.seq;
    if (this.types && !this.types.has(e.type)) return true;
    if (this.sink!.event(e)) return true;
    this.stop();
    return false;
  }

  /** answers false when the sink refused an event and the subscription stopped */
  private deliverAll(events: StoredEvent[]): boolean {
    const sink = this.sink!;
    try {
      for (const e of events) if (!this.deliverOne(e)) return false;
      return true;
    } finally {
      sink.flush?.();
    }
  }
}
