/**
 * Where a reader thread writes a page before it hands the page over: buffers kept between
 * pages and grown as pages need, so a page costs one copy of its bytes rather than a buffer
 * allocated, grown and collected each time. Used by both stores' reader threads.
 */

/** a kept buffer is at most this large: one grown for an unusual page is let go */
const KEEP_BYTES = 8 * 1024 * 1024;
const FIRST_BYTES = 64 * 1024;

export class PageBuffers {
  private readonly spares: Buffer[] = [];

  /** `keep`: buffers kept at once, one for each page a thread writes at the same time */
  constructor(private readonly keep: number) {}

  take(): Buffer {
    return this.spares.pop() ?? Buffer.allocUnsafe(FIRST_BYTES);
  }

  /**
   * The first `length` bytes of `out` copied into a buffer of their own (never a shared pool's:
   * it is transferred), with `before` and `after` unused bytes around them; `out` is kept for
   * the next page.
   */
  handOver(out: Buffer, length: number, before = 0, after = 0): Uint8Array {
    const page = new Uint8Array(before + length + after);
    page.set(out.subarray(0, length), before);
    if (out.length <= KEEP_BYTES && this.spares.length < this.keep) this.spares.push(out);
    return before === 0 && after === 0 ? page : new Uint8Array(page.buffer, before, length);
  }
}

/** a buffer of at least `atLeast` bytes holding what `out` held */
export function grow(out: Buffer, atLeast: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(atLeast, out.length * 2));
  out.copy(bigger);
  return bigger;
}
