import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../support/test-app.js';

async function withApp(fn: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await buildTestApp();
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

async function setUp(t: TestApp, stream: string, type: string, schema: object): Promise<void> {
  const created = await t.app.inject({
    method: 'POST',
    url: '/v1/streams',
    headers: t.admin,
    payload: { name: stream },
  });
  assert.equal(created.statusCode, 201, created.body);
  const registered = await t.app.inject({
    method: 'POST',
    url: `/v1/streams/${stream}/schemas/${encodeURIComponent(type)}`,
    headers: t.admin,
    payload: schema,
  });
  assert.equal(registered.statusCode, 201, registered.body);
}

async function count(t: TestApp, stream: string): Promise<number> {
  return (await t.app.inject({ method: 'GET', url: `/v1/streams/${stream}/events`, headers: t.admin })).json().events
    .length;
}

describe('schema enforcement through the dialects', () => {
  it('event server: a payload that breaks the schema gets "Bad Request - …" naming the field', () =>
    withApp(async (t) => {
      await setUp(t, 'vending', 'Snickers', {
        type: 'object',
        properties: { n: { type: 'integer', minimum: 0 } },
        required: ['n'],
      });
      const post = (n: unknown) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/streams/vending/events',
          headers: { ...t.admin, 'content-type': 'application/json; charset=utf-8', 'x-producer-id': randomUUID() },
          payload: JSON.stringify({
            event: { name: 'Snickers', version: 1 },
            system: { id: 'alv123', name: 'codello alvine', time: '2017-09-06 13:58:12', timezone: 'Europe/Berlin' },
            trigger: { type: 'system', name: '/path/to/script.php' },
            payload: { n },
          }),
        });
      const refused = await post(-1);
      assert.equal(refused.statusCode, 400, refused.body);
      const message = refused.json() as string;
      assert.match(message, /^Bad Request - /);
      assert.match(message, /\/data\/n/);
      assert.match(message, /minimum/);
      assert.equal(await count(t, 'vending'), 0);
      assert.equal((await post(3)).statusCode, 200);
      const [event] = (
        await t.app.inject({ method: 'GET', url: '/v1/streams/vending/events', headers: t.admin })
      ).json().events;
      assert.equal(event.schemaVersion, 1);
    }));

  it('iFLUX: a batch with one bad event is refused with a 4xx naming its index and field', () =>
    withApp(async (t) => {
      const type = '/eventTypes/temperatureEventSchema';
      await setUp(t, 'iflux', type, {
        type: 'object',
        properties: { temperature: { type: 'number', minimum: -90, maximum: 60 }, location: { type: 'string' } },
        required: ['temperature'],
      });
      const event = (temperature: unknown) => ({
        timestamp: '2015-01-12T05:21:07Z',
        source: '/event-sources/JI8928JFK',
        type,
        properties: { temperature, location: 'room 1' },
      });
      const refused = await t.app.inject({
        method: 'POST',
        url: '/events',
        headers: { ...t.admin, 'content-type': 'application/json' },
        payload: JSON.stringify([event(21), event(22), event(500)]),
      });
      assert.ok(refused.statusCode >= 400 && refused.statusCode < 500, refused.body);
      const body = refused.json();
      assert.equal(body.index, 2);
      assert.match(`${body.field} ${body.error}`, /temperature/);
      assert.match(body.error, /maximum/);
      assert.equal(await count(t, 'iflux'), 0, 'none of the batch was written');
    }));
});
