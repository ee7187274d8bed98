/** A token bucket: `perSecond` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** milliseconds until `n` tokens are there (0: take them now; they are taken) */
  private tryTake(n: number): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    const want = Math.min(n, this.burst);
    if (this.tokens >= want) {
      this.tokens -= want;
      return 0;
    }
    return Math.ceil(((want - this.tokens) / this.perSecond) * 1000);
  }

  /** waits until `n` tokens (at most `burst`) can be taken; resolves early when `signal` aborts */
  async take(n: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.tryTake(n);
      if (wait === 0 || signal.aborted) return;
      await sleep(wait, signal);
    }
  }
}

/** resolves after `ms`, or as soon as `signal` aborts */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
