/**
 * Offsets and cursors. An offset names the position after a stream's event with seq N as
 * `NNNNNNNNNNNNNNNN_0000000000000000` (16 digits each side): lexicographic order is seq
 * order, and the shape is the one the protocol's conformance suite writes by hand for forks.
 * The second part is reserved (always zeros). `-1` is the start, `now` the tail.
 */
const ZEROS = '0000000000000000';
const OFFSET = /^(\d{1,16})_(\d{1,16})$/;

export function offsetOf(seq: number): string {
  return `${String(seq).padStart(16, '0')}_${ZEROS}`;
}

/**
 * The seq after which every event of an append lies: its highest. In a stream's concurrent
 * write mode (docs/store-nats.md) an event re-sent after a lost leader can land behind the
 * later events of its own append, so the last event's seq is not always the highest.
 */
export function endSeqOf(events: readonly { seq: number }[]): number {
  let end = 0;
  for (const e of events) if (e.seq > end) end = e.seq;
  return end;
}

export type OffsetParam = { at: 'start' } | { at: 'now' } | { at: 'after'; seq: number };

/** null when the text is not an offset this server could have issued */
export function parseOffset(text: string): OffsetParam | null {
  if (text === '-1') return { at: 'start' };
  if (text === 'now') return { at: 'now' };
  const m = OFFSET.exec(text);
  if (!m) return null;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) ? { at: 'after', seq } : null;
}

const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
const CURSOR_INTERVAL_MS = 20_000;

/**
 * The protocol's collapsing cursor: the 20-second interval number since 2024-10-09, moved
 * strictly past a client's cursor that is not behind it, by 1–3600 s of jitter.
 */
export function responseCursor(clientCursor: string | undefined, nowMs: number): string {
  const current = Math.floor((nowMs - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS);
  if (clientCursor === undefined || !/^\d{1,15}$/.test(clientCursor)) return String(current);
  const client = Number(clientCursor);
  if (client < current) return String(current);
  const jitterSeconds = 1 + Math.floor(Math.random() * 3600);
  return String(client + Math.max(1, Math.ceil(jitterSeconds / (CURSOR_INTERVAL_MS / 1000))));
}
