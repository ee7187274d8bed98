import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from '../support/test-app.js';

const temperature = (t: number, at = '2015-01-12T05:21:07Z') => ({
  timestamp: at,
  source: '/event-sources/JI8928JFK',
  type: '/eventTypes/temperatureEventSchema',
  properties: { temperature: t, location: 'room 1' },
});

describe('iFLUX dialect (seed 004) over HTTP', () => {
  it('accepts a list on /events and /events/ with 202 and no body, into the iflux stream', async () => {
    const t = await buildTestApp();
    try {
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const post = (path: string, body: unknown) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...t.admin },
          body: JSON.stringify(body),
        });
      const res = await post('/events/', [temperature(22.5), temperature(22.8, '2015-01-12T05:22:07Z')]);
      assert.equal(res.status, 202);
      assert.equal(await res.text(), '');
      assert.equal((await post('/events', temperature(23))).status, 202, 'a single object is accepted too');
      const read = await t.app.inject({ method: 'GET', url: '/v1/streams/iflux/events', headers: t.admin });
      const events = read.json().events as {
        type: string;
        source: string;
        time: string;
        data: { temperature: number };
      }[];
      assert.deepEqual(
        events.map((e) => [e.type, e.source, e.time, e.data.temperature]),
        [
          ['/eventTypes/temperatureEventSchema', '/event-sources/JI8928JFK', '2015-01-12T05:21:07Z', 22.5],
          ['/eventTypes/temperatureEventSchema', '/event-sources/JI8928JFK', '2015-01-12T05:22:07Z', 22.8],
          ['/eventTypes/temperatureEventSchema', '/event-sources/JI8928JFK', '2015-01-12T05:21:07Z', 23],
        ],
      );
    } finally {
      await t.close();
    }
  });

  it('refuses an invalid event naming its index and field, and writes none of the batch', async () => {
    const t = await buildTestApp();
    try {
      const post = (body: unknown, headers: Record<string, string> = t.admin) =>
        t.app.inject({
          method: 'POST',
          url: '/events',
          headers: { 'content-type': 'application/json', ...headers },
          payload: JSON.stringify(body),
        });
      const bad = await post([temperature(1), { ...temperature(2), properties: 'hot' }]);
      assert.equal(bad.statusCode, 422);
      assert.deepEqual({ index: bad.json().index, field: bad.json().field }, { index: 1, field: 'properties' });
      assert.match(bad.json().error, /properties/);
      const noTime = await post([{ ...temperature(2), timestamp: 'yesterday' }]);
      assert.deepEqual([noTime.statusCode, noTime.json().index, noTime.json().field], [422, 0, 'timestamp']);
      const stream = await t.app.inject({ method: 'GET', url: '/v1/streams/iflux', headers: t.admin });
      assert.equal(stream.statusCode, 404, 'nothing was written, not even the stream');
      const anonymous = await post([temperature(1)], {});
      assert.equal(anonymous.statusCode, 401, 'anonymous posting is off by default');
      assert.ok(anonymous.json().error);
    } finally {
      await t.close();
    }
  });

  it('accepts anonymous events into a configured stream when the operator allows it', async () => {
    const t = await buildTestApp({ dialects: { iflux: { stream: 'sensors', anonymous: true } } });
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/events',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify([temperature(5)]),
      });
      assert.equal(res.statusCode, 202, res.body);
      const read = await t.app.inject({ method: 'GET', url: '/v1/streams/sensors/events', headers: t.admin });
      assert.equal(read.json().events.length, 1);
      assert.equal(read.json().events[0].producer, null);
    } finally {
      await t.close();
    }
  });
});
