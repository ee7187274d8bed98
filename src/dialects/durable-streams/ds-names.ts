/**
 * Durable Streams paths ↔ Rivulet stream names. A path under the mount is a stream URL; its
 * segments joined with `.` are the stream's name (`/ds/orders/eu` ↔ `orders.eu`). Segments
 * hold letters, digits, `_`, `-` and `~` (no `.`), so the mapping is one-to-one and every
 * stream whose name has no empty segment is reachable. Names starting with `_` are the
 * server's own streams and are refused.
 */
const SEGMENT = /^[A-Za-z0-9_~-]+$/;

/** the stream a path names, or an explanation of why it names none */
export function streamOfPath(path: string): { name: string } | { problem: string } {
  if (path.length === 0) return { problem: 'the path names no stream: use /ds/<name>[/<more>…]' };
  const segments = path.split('/');
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) {
      return {
        problem: `path segment "${segment.slice(0, 60)}" cannot name a stream: use letters, digits, "_", "-" or "~", and no empty segments`,
      };
    }
  }
  const name = segments.join('.');
  if (name.startsWith('_')) return { problem: 'streams whose names start with "_" belong to the server' };
  if (name.length > 200) return { problem: 'the path is too long: a stream name has at most 200 characters' };
  return { name };
}

/** the path (below the mount) of a stream */
export function pathOfStream(name: string): string {
  return name.split('.').join('/');
}
