/**
 * UUIDv7 (RFC 9562 §5.7) for events that arrive without an id: a 48-bit Unix-milliseconds
 * timestamp, then a 30-bit counter (rand_a and the top of rand_b, method 1 of §6.2) seeded at
 * random each millisecond so ids made in one process sort in the order they were made, then
 * 44 random bits. Random bytes are cut from a pool refilled 8 KiB at a time: a batch of 100
 * events asked the CSPRNG ~7 times per request and formatted every byte separately before.
 */
import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** the 12 bits after the version nibble, as three hex digits */
const HEX3: string[] = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));
const COUNTER_MAX = 2 ** 30 - 1;

let pool: Buffer | null = null;
let at = 0;
let lastMs = -1;
let counter = 0;
/** `prefixMs` as the id's first two groups, 'xxxxxxxx-xxxx-': ids of one millisecond share it */
let prefix = '';
let prefixMs = -1;

function take(bytes: number): number {
  if (!pool || at + bytes > pool.length) {
    pool ??= Buffer.alloc(8192);
    randomFillSync(pool);
    at = 0;
  }
  const from = at;
  at += bytes;
  return from;
}

/** a new UUIDv7, greater than every one this process made before (`nowMs` is for tests) */
export function uuidv7(nowMs: number = Date.now()): string {
  if (nowMs > lastMs) {
    lastMs = nowMs;
    // the top bit stays clear, so a millisecond has room for 2^29 more ids
    const o = take(4);
    counter = (pool!.readUInt32BE(o) >>> 3) & (COUNTER_MAX >>> 1);
  } else if (counter < COUNTER_MAX) {
    // the same millisecond, or the clock stepped back: count on from the last id
    counter++;
  } else {
    lastMs++;
    counter = 0;
  }
  if (prefixMs !== lastMs) {
    const ms = lastMs.toString(16).padStart(12, '0');
    prefix = `${ms.slice(0, 8)}-${ms.slice(8)}-`;
    prefixMs = lastMs;
  }
  const r = take(6);
  const p = pool!;
  const c = counter;
  // table look-ups only: Number#toString(16) and padding cost more than the rest of the id
  return (
    prefix +
    '7' +
    HEX3[c >>> 18]! +
    '-' +
    HEX[0x80 | ((c >>> 12) & 0x3f)]! +
    HEX[(c >>> 4) & 0xff]! +
    '-' +
    HEX[((c & 0x0f) << 4) | (p[r]! & 0x0f)]! +
    HEX[p[r + 1]!]! +
    HEX[p[r + 2]!]! +
    HEX[p[r + 3]!]! +
    HEX[p[r + 4]!]! +
    HEX[p[r + 5]!]!
  );
}
