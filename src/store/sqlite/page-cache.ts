/**
 * SQLite's page cache, per connection. better-sqlite3 builds SQLite with 16 MB per connection
 * (SQLITE_DEFAULT_CACHE_SIZE=-16000), and the store opens five connections (the main thread's
 * two, the append worker's, two reader threads'): under reads spread over a stream they filled
 * to ~80 MiB of the server's memory (docs/benchmarks.md, reads). The operating system caches the
 * file anyway, so a page missing here costs a read from memory, not from disk; and a reader's
 * cache is emptied whenever another connection commits, which under writes is every few
 * milliseconds. Writes touch the right-hand edges of the tables and indexes, a few pages.
 */
const MiB = 1024 * 1024;

/** each connection that only reads: the reader threads' and the main thread's read connection */
export const DEFAULT_READ_CACHE_BYTES = 2 * MiB;
/** each connection that writes: the append worker's and the main thread's */
export const DEFAULT_WRITE_CACHE_BYTES = 4 * MiB;

/** `cache_size` in KiB (a negative number is a size, not a count of pages) */
export function cacheSizePragma(bytes: number): string {
  return `cache_size = -${Math.max(1, Math.ceil(bytes / 1024))}`;
}
