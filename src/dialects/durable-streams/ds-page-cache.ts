/**
 * Rendered catch-up pages, kept in memory: a full page (not the tail) is immutable, so many
 * readers catching up on one stream are answered from here instead of each reading and
 * rendering the same events from the store. Keyed by the stream's creation time too, so a
 * stream deleted and made again under the same name never answers the old one's data.
 * Bounded by bytes, least recently used first out.
 */
export interface CachedPage {
  body: Buffer;
  endSeq: number;
}

export class PageCache {
  private readonly pages = new Map<string, CachedPage>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  private static key(stream: string, createdAt: string, afterSeq: number): string {
    return `${stream}\n${createdAt}\n${afterSeq}`;
  }

  get(stream: string, createdAt: string, afterSeq: number): CachedPage | undefined {
    const key = PageCache.key(stream, createdAt, afterSeq);
    const page = this.pages.get(key);
    if (page) {
      // most recently used last
      this.pages.delete(key);
      this.pages.set(key, page);
    }
    return page;
  }

  set(stream: string, createdAt: string, afterSeq: number, page: CachedPage): void {
    if (page.body.length > this.maxBytes / 4) return;
    const key = PageCache.key(stream, createdAt, afterSeq);
    const old = this.pages.get(key);
    if (old) this.bytes -= old.body.length;
    this.pages.set(key, page);
    this.bytes += page.body.length;
    for (const [k, p] of this.pages) {
      if (this.bytes <= this.maxBytes) break;
      this.pages.delete(k);
      this.bytes -= p.body.length;
    }
  }

  /** drops a stream's pages (deleted in this process) */
  forget(stream: string): void {
    for (const [k, p] of this.pages) {
      if (k.startsWith(`${stream}\n`)) {
        this.pages.delete(k);
        this.bytes -= p.body.length;
      }
    }
  }
}
