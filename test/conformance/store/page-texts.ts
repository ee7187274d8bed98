/**
 * Checks for stores that answer pages as stored text (`capabilities.eventJson`): `readJson`,
 * `readData` and `readTexts` held to what rendering the events `read` answers gives, byte for
 * byte. Used by the store conformance suite and by the SQLite store's own read tests.
 */
import assert from 'node:assert/strict';
import type { NewEvent, StoredEvent } from '../../../src/kernel/envelope.js';
import { renderEvent } from '../../../src/http/routes/events-routes.js';
import type { ReadQuery, Store } from '../../../src/store/port.js';

export const T0 = Date.parse('2026-01-01T00:00:00Z');

/** values whose JSON text is easy to get wrong */
const awkward: unknown[] = [
  { b: 1, 2: 'two', a: [1, 2.5, -0, 1e21, 1e-7, 0.1 + 0.2], nested: { deep: [null, true, false, {}] } },
  'line\u2028separator \u2029 and "quotes" \\ and \u0000 control',
  'lone \ud800 surrogate and 🦀 crab',
  { ['__proto__']: { polluted: true }, ключ: 'значение' },
  null,
  2 ** 64,
  [],
  '',
];

/** `n` events of two types, one second apart from T0, with awkward data, meta, producers and schema versions */
export function eventsFor(n: number, idPrefix = 'e'): NewEvent[] {
  return Array.from(
    { length: n },
    (_, i): NewEvent =>
      ({
        id: `${idPrefix}-${i}`,
        type: i % 3 === 0 ? 'order.created' : 'order.paid',
        source: i % 2 === 0 ? '/shop' : '/shop/"quoted"',
        time: new Date(T0 + i * 1000).toISOString(),
        producer: i % 4 === 0 ? null : 'producer-1',
        data: JSON.parse(JSON.stringify(awkward[i % awkward.length] ?? null)),
        meta: i % 5 === 0 ? { trace: `t-${i}`, ü: [1] } : {},
        schemaVersion: i % 7 === 0 ? 3 : null,
      }) as NewEvent,
  );
}

export async function eventsOf(store: Store, stream: string, query: ReadQuery): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.events.read(stream, query)) out.push(e);
  return out;
}

export async function textOf(
  store: Store,
  stream: string,
  query: ReadQuery,
): Promise<{ text: string; count: number; lastSeq: number }> {
  const parts: string[] = [];
  let count = 0;
  let lastSeq = 0;
  for await (const slice of store.events.readJson!(stream, query)) {
    parts.push(Buffer.from(slice.bytes).toString('utf8'));
    count += slice.count;
    lastSeq = slice.lastSeq;
  }
  return { text: parts.join(','), count, lastSeq };
}

/** the page `readJson` answers: the rendered events, comma-separated */
export async function assertJsonText(store: Store, stream: string, query: ReadQuery): Promise<void> {
  const events = await eventsOf(store, stream, query);
  const got = await textOf(store, stream, query);
  const label = JSON.stringify(query);
  assert.equal(got.count, events.length, label);
  assert.equal(got.text, events.map((e) => JSON.stringify(renderEvent(e))).join(','), label);
  assert.equal(got.lastSeq, events.at(-1)?.seq ?? 0, label);
}

/** the events a page holds: at most `limit`, and none after the one that brings `size` to `maxBytes` */
function pageOf(
  matching: StoredEvent[],
  limit: number,
  maxBytes: number,
  size: (e: StoredEvent) => number,
): StoredEvent[] {
  const taken: StoredEvent[] = [];
  let bytes = 0;
  for (const e of matching) {
    if (taken.length === limit || (taken.length > 0 && bytes >= maxBytes)) break;
    taken.push(e);
    bytes += size(e);
  }
  return taken;
}

/**
 * each event's data as the store slices its text out, against the data of the parsed events:
 * the page stops at the query's limit, or after the event that brings the bytes (one more for
 * each separator) to `maxBytes`, and says whether matching events follow
 */
export async function assertDataText(
  store: Store,
  stream: string,
  query: ReadQuery,
  maxBytes = 64 * 1024 * 1024,
): Promise<void> {
  const matching = await eventsOf(store, stream, { ...query, limit: 1_000_000 });
  const taken = pageOf(matching, query.limit, maxBytes, (e) => Buffer.byteLength(JSON.stringify(e.data)) + 1);
  const page = await store.events.readData!(stream, query, maxBytes);
  const label = JSON.stringify({ query, maxBytes });
  assert.equal(Buffer.from(page.bytes).toString('utf8'), taken.map((e) => JSON.stringify(e.data)).join(','), label);
  assert.equal(page.count, taken.length, label);
  assert.equal(page.lastSeq, taken.at(-1)?.seq ?? query.afterSeq ?? 0, label);
  assert.equal(page.more, matching.length > taken.length, label);
}

/**
 * the events' texts as one page for a live subscriber's backlog: each the rendered event, ends
 * where each stops, seqs and types, cut at the limit or after the event that brings the text to
 * `maxBytes`, and whether matching events follow
 */
export async function assertTexts(
  store: Store,
  stream: string,
  query: ReadQuery,
  maxBytes = 64 * 1024 * 1024,
): Promise<void> {
  const matching = await eventsOf(store, stream, { ...query, limit: 1_000_000 });
  const taken = pageOf(matching, query.limit, maxBytes, (e) => Buffer.byteLength(JSON.stringify(renderEvent(e))));
  const texts = taken.map((e) => JSON.stringify(renderEvent(e)));
  const label = JSON.stringify({ query, maxBytes });
  for (const types of [false, true]) {
    const page = await store.events.readTexts!(stream, query, { maxBytes, types });
    assert.equal(Buffer.from(page.bytes).toString('utf8'), texts.join(''), label);
    const ends: number[] = [];
    for (const t of texts) ends.push((ends.at(-1) ?? 0) + Buffer.byteLength(t));
    assert.deepEqual([...page.ends], ends, label);
    assert.deepEqual(
      [...page.seqs],
      taken.map((e) => e.seq),
      label,
    );
    assert.deepEqual(page.types, types ? taken.map((e) => e.type) : null, label);
    assert.equal(page.lastSeq, taken.at(-1)?.seq ?? query.afterSeq ?? 0, label);
    assert.equal(page.more, matching.length > taken.length, label);
  }
}
