/**
 * The produce lane answers exactly as fastify's produce route does. The same requests go, over
 * real sockets, to an app with the lane and to one without it (each on its own SQLite store);
 * statuses, bodies (generated ids and request ids masked), the headers that carry meaning, the
 * request log lines and the tracing hook's spans must match, and the lane's counter shows
 * which requests it took.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { laneCount, send, withSides, type Sent, type Side } from '../support/produce-sides.js';

const json = { 'content-type': 'application/json' };
const event = (extra: Record<string, unknown> = {}) => JSON.stringify({ type: 'reading', data: { v: 1 }, ...extra });
const nested = (depth: number) => `{"type":"deep","data":${'['.repeat(depth)}${']'.repeat(depth)}}`;

/** name, path, headers (beyond the admin key unless `key` says otherwise), body, and whether the lane should take it */
interface Case {
  name: string;
  path?: string;
  headers?: Record<string, string>;
  key?: 'admin' | 'scoped' | 'none';
  body: string | Buffer;
  lane: boolean;
}

const CASES: Case[] = [
  { name: 'one plain event', headers: json, body: event(), lane: true },
  { name: 'a batch', headers: json, body: `[${event()},${event({ type: 'other' })},${event()}]`, lane: true },
  {
    name: 'a charset parameter',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: event(),
    lane: true,
  },
  {
    name: 'a CloudEvent',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', id: 'ce-1', source: '/s', type: 't', data: 1 }),
    lane: true,
  },
  {
    name: 'a CloudEvents batch that is not an array',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify({ specversion: '1.0', id: 'x', source: '/s', type: 't' }),
    lane: true,
  },
  { name: 'a producer-supplied id', headers: json, body: event({ id: 'fixed-1' }), lane: true },
  { name: 'the same id again', headers: json, body: event({ id: 'fixed-1' }), lane: true },
  { name: 'an idempotency key', headers: { ...json, 'idempotency-key': 'k-1' }, body: event(), lane: true },
  {
    name: 'the key again with the same body',
    headers: { ...json, 'idempotency-key': 'k-1' },
    body: event(),
    lane: true,
  },
  {
    name: 'the key again with another body',
    headers: { ...json, 'idempotency-key': 'k-1' },
    body: event({ type: 'changed' }),
    lane: true,
  },
  { name: 'an empty idempotency key', headers: { ...json, 'idempotency-key': '' }, body: event(), lane: true },
  { name: 'a caller request id', headers: { ...json, 'x-request-id': 'caller-chosen-1' }, body: event(), lane: true },
  { name: 'invalid JSON', headers: json, body: '{"type":', lane: true },
  { name: 'nesting too deep', headers: json, body: nested(12), lane: true },
  {
    name: 'invalid UTF-8',
    headers: json,
    body: Buffer.concat([Buffer.from('{"type":"a","data":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    lane: true,
  },
  { name: 'a __proto__ key', headers: json, body: '{"type":"a","__proto__":{"x":1}}', lane: true },
  { name: 'a lone surrogate', headers: json, body: '{"type":"a","data":"\\ud800"}', lane: true },
  { name: 'no type', headers: json, body: JSON.stringify({ data: 1 }), lane: true },
  { name: 'a bad time', headers: json, body: event({ time: 'yesterday' }), lane: true },
  { name: 'an empty batch', headers: json, body: '[]', lane: true },
  {
    name: 'a batch beyond the limit',
    headers: json,
    body: `[${Array.from({ length: 6 }, () => event()).join(',')}]`,
    lane: true,
  },
  { name: 'a JSON string', headers: json, body: '"text"', lane: true },
  { name: 'an unknown stream', path: '/v1/streams/nowhere/events', headers: json, body: event(), lane: true },
  { name: 'a producer too long', headers: { ...json, 'x-producer-id': 'p'.repeat(300) }, body: event(), lane: true },
  {
    name: 'an exclusive stream, first producer',
    path: '/v1/streams/solo/events',
    headers: { ...json, 'x-producer-id': 'a' },
    body: event(),
    lane: true,
  },
  {
    name: 'an exclusive stream, second producer',
    path: '/v1/streams/solo/events',
    headers: { ...json, 'x-producer-id': 'b' },
    body: event(),
    lane: true,
  },
  // left to fastify: the answers must still be the same
  { name: 'a key without the scope', key: 'scoped', headers: json, body: event(), lane: false },
  { name: 'no key', key: 'none', headers: json, body: event(), lane: false },
  {
    name: 'binary mode',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'b-1',
      'ce-source': '/s',
      'ce-type': 't',
    },
    body: '{"v":1}',
    lane: false,
  },
  { name: 'another media type', headers: { 'content-type': 'text/plain' }, body: event(), lane: false },
  { name: 'an empty body', headers: json, body: '', lane: false },
  { name: 'a query string', path: '/v1/streams/plain/events?x=1', headers: json, body: event(), lane: false },
  { name: 'an escaped stream name', path: '/v1/streams/pl%61in/events', headers: json, body: event(), lane: false },
];

describe('the produce lane', () => {
  it('answers every request as the route does, takes only the requests it should, and writes the same events', async () => {
    await withSides({}, async (laned, plain) => {
      for (const c of CASES) {
        const answers: Sent[] = [];
        const taken: number[] = [];
        for (const side of [laned, plain]) {
          const key = c.key === 'none' ? {} : c.key === 'scoped' ? side.scoped : side.t.admin;
          const before = await laneCount(side);
          answers.push(await send(side, c.path ?? '/v1/streams/plain/events', { ...key, ...c.headers }, c.body));
          taken.push((await laneCount(side)) - before);
        }
        const [viaLane, viaRoute] = answers as [Sent, Sent];
        assert.deepEqual(viaLane, viaRoute, `${c.name}: the lane answered otherwise`);
        assert.equal(viaLane.spans.length, 1, `${c.name}: one span`);
        assert.deepEqual(
          taken,
          [c.lane ? 1 : 0, 0],
          `${c.name}: ${c.lane ? 'the lane should take it' : 'fastify should answer it'}`,
        );
      }

      const read = async (side: Side) => {
        const res = await side.pool.request({
          method: 'GET',
          path: '/v1/streams/plain/events?limit=100',
          headers: side.t.admin,
        });
        const page = (await res.body.json()) as {
          events: { seq: number; type: string; data: unknown; source: string; meta?: unknown }[];
        };
        return page.events.map(({ seq, type, data, source, meta }) => ({ seq, type, data, source, meta }));
      };
      const written = await read(laned);
      assert.ok(written.length >= 8, `events written: ${written.length}`);
      assert.deepEqual(written, await read(plain));

      const res = await laned.pool.request({
        method: 'POST',
        path: '/v1/streams/plain/events',
        headers: { ...laned.t.admin, ...json, 'x-request-id': 'trace-me-7' },
        body: event(),
      });
      await res.body.text();
      assert.equal(res.statusCode, 201);
      assert.equal(res.headers['x-request-id'], 'trace-me-7');
    });
  });
});

describe('the produce lane under rate limits and a proxy', () => {
  it('refuses a key beyond its rate as fastify does, and logs the client a proxy names', async () => {
    // a stopped clock: building the second app takes long enough on a busy machine to refill a bucket
    await withSides(
      { protection: { rateLimit: { perSecond: 1, burst: 2, now: () => 0 } }, trustProxy: true },
      async (laned, plain) => {
        // openSide spent one token of the admin key: one produce goes through, the next is refused
        const headers = { ...json, 'x-forwarded-for': '203.0.113.9', 'x-forwarded-host': 'events.example' };
        const results: Sent[][] = [];
        for (const side of [laned, plain])
          results.push([
            await send(side, '/v1/streams/plain/events', { ...side.t.admin, ...headers }, event()),
            await send(side, '/v1/streams/plain/events', { ...side.t.admin, ...headers }, event()),
          ]);
        assert.deepEqual(results[0], results[1]);
        const [ok, refused] = results[0] as [Sent, Sent];
        assert.equal(ok.status, 201);
        assert.equal(refused.status, 429);
        assert.equal(refused.headers['retry-after'], '1');
        assert.match(ok.logs[0]!, /"remoteAddress":"203\.0\.113\.9"/);
        assert.match(ok.logs[0]!, /"host":"events\.example"/);
        assert.equal(await laneCount(laned), 2);
      },
    );
  });
});
