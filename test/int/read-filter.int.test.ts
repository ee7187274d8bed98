/**
 * `filter=` on GET /v1/streams/{name}/events: the sink filter's JSONata condition evaluated by
 * the server, pages that carry the filter in their cursor, a bounded scan that resumes, and a
 * 400 naming the parameter for a bad expression.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { searchEvents, type ScanState } from '../../src/core/events/search-events.js';
import { compileEventFilter } from '../../src/mapping/event-filter.js';
import { buildTestApp } from '../support/test-app.js';

interface Page {
  events: { seq: number; data: { n: number } }[];
  next: string | null;
}

describe('reading with filter=', () => {
  it('answers only matching events, pages with the filter in the cursor, and refuses a bad filter with a 400 naming it', async () => {
    const t = await buildTestApp();
    try {
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'orders' } }))
          .statusCode,
        201,
      );
      const events = Array.from({ length: 30 }, (_, i) => ({
        type: i % 2 ? 'order.paid' : 'order.placed',
        data: { n: i + 1, shop: i % 3 === 0 ? 'zurich' : 'bern' },
      }));
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams/orders/events', headers: t.admin, payload: events }))
          .statusCode,
        201,
      );

      const get = async (query: string) => {
        const res = await t.app.inject({ method: 'GET', url: `/v1/streams/orders/events?${query}`, headers: t.admin });
        return {
          status: res.statusCode,
          body: res.json() as Page & { code?: string; detail?: string; pointer?: string },
        };
      };
      const filter = encodeURIComponent('data.shop = "zurich" and data.n > 5');
      const first = await get(`filter=${filter}&limit=3`);
      assert.equal(first.status, 200);
      assert.deepEqual(
        first.body.events.map((e) => e.data.n),
        [7, 10, 13],
      );
      assert.ok(first.body.next);
      const second = await get(`cursor=${first.body.next}&limit=3`);
      assert.deepEqual(
        second.body.events.map((e) => e.data.n),
        [16, 19, 22],
      );
      const third = await get(`cursor=${second.body.next}&limit=3`);
      assert.deepEqual(
        third.body.events.map((e) => e.data.n),
        [25, 28],
      );
      assert.equal(third.body.next, null);

      // with the other read parameters
      const typed = await get(`filter=${encodeURIComponent('data.n < 10')}&type=order.paid&after=3`);
      assert.deepEqual(
        typed.body.events.map((e) => e.data.n),
        [4, 6, 8],
      );
      // nothing matches: an empty page, no next
      const none = await get(`filter=${encodeURIComponent('data.n > 1000')}`);
      assert.deepEqual(none.body, { events: [], next: null });

      const bad = await get(`filter=${encodeURIComponent('data.n >')}`);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'INVALID_EXPRESSION');
      assert.match(bad.body.detail ?? '', /query parameter "filter"/);
      // documented in the OpenAPI schema
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, { get?: { parameters?: { name: string; in: string; description?: string }[] } }>;
      };
      const param = spec.paths['/v1/streams/{name}/events']?.get?.parameters?.find((p) => p.name === 'filter');
      assert.equal(param?.in, 'query');
      assert.match(param?.description ?? '', /JSONata/);
      const empty = await get('filter=');
      assert.equal(empty.status, 400);
      assert.match(empty.body.detail ?? '', /"filter"/);
    } finally {
      await t.close();
    }
  });

  it('scans a bounded number of events per page and resumes after the last one scanned', async () => {
    const t = await buildTestApp();
    try {
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'logs' } }))
          .statusCode,
        201,
      );
      const events = Array.from({ length: 25 }, (_, i) => ({ type: 'log', data: { n: i + 1 } }));
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams/logs/events', headers: t.admin, payload: events }))
          .statusCode,
        201,
      );
      const filter = compileEventFilter({ condition: 'data.n = 22' });
      const read = (r: Parameters<typeof t.services.read.read>[1]) => t.services.read.read('logs', r);
      const scan: ScanState = { lastSeq: 0, more: false };
      const page = async (after: number) => {
        const out: number[] = [];
        for await (const e of searchEvents(read, { afterSeq: after, limit: 10 }, filter, scan, 10)) out.push(e.seq);
        return out;
      };
      assert.deepEqual(await page(0), []);
      assert.deepEqual(scan, { lastSeq: 10, more: true });
      assert.deepEqual(await page(10), []);
      assert.deepEqual(scan, { lastSeq: 20, more: true });
      assert.deepEqual(await page(20), [22]);
      assert.deepEqual(scan, { lastSeq: 25, more: false });
    } finally {
      await t.close();
    }
  });
});
