/**
 * The event loop's recent delay: the p99 of `monitorEventLoopDelay` over the last window,
 * or how late the window's own timer fired, whichever is larger (the timer sees a long block
 * at once; the histogram may record it a window later).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class EventLoopDelay {
  private histogram: IntervalHistogram | null = null;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  /** milliseconds, as of the last window */
  current = 0;

  constructor(private readonly windowMs: number) {}

  start(): void {
    if (this.timer) return;
    this.histogram = monitorEventLoopDelay({ resolution: Math.max(1, Math.min(10, Math.floor(this.windowMs / 5))) });
    this.histogram.enable();
    this.last = performance.now();
    this.timer = setInterval(() => this.sample(), this.windowMs);
    this.timer.unref();
  }

  private sample(): void {
    const now = performance.now();
    const late = Math.max(0, now - this.last - this.windowMs);
    this.last = now;
    const p99 = this.histogram && this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
    this.histogram?.reset();
    this.current = Math.max(late, p99);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.histogram?.disable();
    this.histogram = null;
  }
}
