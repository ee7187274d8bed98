/**
 * The recent events of one followed stream, read once from the store and shared by every
 * subscription at the tail, so a new event costs one store read however many follow it.
 * It holds a contiguous run of seqs; anything older is read from the store by the
 * subscription itself.
 */
import type { StoredEvent } from '../../kernel/envelope.js';
import type { EventLog } from '../../store/port.js';

export class TailCache {
  private events: StoredEvent[] = [];
  /** seq of the newest event read (or of the position the cache starts after) */
  private hi: number;

  constructor(
    private readonly log: EventLog,
    private readonly stream: string,
    startAfter: number,
    private readonly capacity: number,
  ) {
    this.hi = startAfter;
  }

  get lastSeq(): number {
    return this.hi;
  }

  /**
   * Reads what the store has after the newest cached event. `hint` (a seq the store said
   * exists) only lets the cache skip ahead when it fell far behind; content always comes
   * from the read. Answers whether anything new was read.
   */
  async fill(hint: number): Promise<boolean> {
    if (Number.isFinite(hint) && hint - this.capacity > this.hi) {
      this.events = [];
      this.hi = hint - this.capacity;
    }
    let added = false;
    for await (const e of this.log.read(this.stream, { afterSeq: this.hi, limit: this.capacity })) {
      // a retention cut ahead of the cache breaks contiguity: start the run again
      if (e.seq !== this.hi + 1) this.events = [];
      this.events.push(e);
      this.hi = e.seq;
      added = true;
    }
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    return added;
  }

  /**
   * The cached events after `seq`, or undefined when the cache does not reach back to
   * `seq + 1` (the caller then reads the store).
   */
  after(seq: number): StoredEvent[] | undefined {
    if (seq >= this.hi) return [];
    const first = this.events[0];
    if (!first || seq + 1 < first.seq) return undefined;
    return this.events.slice(seq + 1 - first.seq);
  }
}
