/**
 * Attempt timeouts without a timer (and an AbortSignal.any) per attempt: attempts that start
 * within the same short slot share one AbortController, aborted `timeoutMs` after the slot
 * closes, or at once when the source loop is cut. An attempt so gets at least `timeoutMs` and
 * at most one slot more. A slot's timer is cleared as soon as its last attempt ended, so an
 * idle loop holds no timers.
 */
import { setMaxListeners } from 'node:events';

interface Slot {
  readonly controller: AbortController;
  readonly openedAt: number;
  users: number;
  timer: NodeJS.Timeout | null;
  onCut: (() => void) | null;
}

/** one attempt's share of a slot (a class, not closures: one is made per attempt) */
export class AttemptDeadline {
  private ended = false;

  constructor(
    private readonly owner: AttemptDeadlines,
    private readonly slot: Slot,
  ) {}

  get signal(): AbortSignal {
    return this.slot.controller.signal;
  }

  /** the attempt ended; later calls do nothing */
  done(): void {
    if (this.ended) return;
    this.ended = true;
    this.owner.leave(this.slot);
  }
}

/** at most this wide, so a timeout is never much longer than asked */
const MAX_SLOT_MS = 100;

export class AttemptDeadlines {
  private current: Slot | null = null;
  private readonly slotMs: number;

  constructor(
    private readonly timeoutMs: number,
    private readonly cut: AbortSignal,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.slotMs = Math.max(1, Math.min(MAX_SLOT_MS, Math.floor(timeoutMs / 20)));
  }

  /** a signal for an attempt starting now */
  begin(): AttemptDeadline {
    const now = this.now();
    let slot = this.current;
    if (slot === null || now - slot.openedAt >= this.slotMs || slot.controller.signal.aborted) {
      slot = this.open(now);
      this.current = slot;
    }
    slot.users++;
    return new AttemptDeadline(this, slot);
  }

  /** @internal an attempt of `slot` ended */
  leave(slot: Slot): void {
    if (--slot.users === 0) this.dispose(slot);
  }

  private open(now: number): Slot {
    const slot: Slot = { controller: new AbortController(), openedAt: now, users: 0, timer: null, onCut: null };
    // every attempt in the slot listens to the one signal: many listeners are expected here
    setMaxListeners(0, slot.controller.signal);
    if (this.cut.aborted) {
      slot.controller.abort(this.cut.reason);
      return slot;
    }
    slot.timer = setTimeout(() => {
      slot.timer = null;
      // the reason AbortSignal.timeout gives, so a timeout reads and classifies the same
      slot.controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, this.slotMs + this.timeoutMs);
    slot.timer.unref();
    slot.onCut = () => slot.controller.abort(this.cut.reason);
    this.cut.addEventListener('abort', slot.onCut, { once: true });
    return slot;
  }

  private dispose(slot: Slot): void {
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    if (slot.onCut !== null) this.cut.removeEventListener('abort', slot.onCut);
    slot.onCut = null;
    if (this.current === slot) this.current = null;
  }
}
