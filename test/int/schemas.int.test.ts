import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../support/test-app.js';

const ORDER_V1 = {
  type: 'object',
  properties: {
    orderId: { type: 'string' },
    price: { type: 'number', minimum: 0 },
  },
  required: ['orderId', 'price'],
  additionalProperties: false,
};

/** the same order, with an optional note: backward compatible for a closed object */
const ORDER_V2 = {
  ...ORDER_V1,
  properties: { ...ORDER_V1.properties, note: { type: 'string' } },
};

async function withApp(fn: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await buildTestApp();
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

async function createStream(t: TestApp, name: string, options: Record<string, unknown> = {}): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name, options } });
  assert.equal(res.statusCode, 201, res.body);
}

async function register(t: TestApp, stream: string, type: string, body: unknown) {
  return t.app.inject({
    method: 'POST',
    url: `/v1/streams/${stream}/schemas/${encodeURIComponent(type)}`,
    headers: t.admin,
    payload: body as object,
  });
}

async function registerOk(t: TestApp, stream: string, type: string, body: unknown): Promise<number> {
  const res = await register(t, stream, type, body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json().version as number;
}

async function produce(t: TestApp, stream: string, payload: unknown, contentType = 'application/json') {
  return t.app.inject({
    method: 'POST',
    url: `/v1/streams/${stream}/events`,
    headers: { ...t.admin, 'content-type': contentType },
    payload: JSON.stringify(payload),
  });
}

async function readAll(t: TestApp, stream: string): Promise<{ type: string; data: unknown; schemaVersion?: number }[]> {
  const res = await t.app.inject({ method: 'GET', url: `/v1/streams/${stream}/events`, headers: t.admin });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().events;
}

describe('schema registry over the native API', () => {
  it('registers, lists, gets, deletes versions; numbers are never reused', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      const first = await register(t, 'orders', 'order.placed', ORDER_V1);
      assert.equal(first.statusCode, 201, first.body);
      assert.equal(first.json().version, 1);
      assert.equal(first.json().draft, '2020-12');
      assert.equal(first.json().compatibility, 'BACKWARD');
      assert.equal(first.json().urn, 'urn:rivulet:schema:orders:order.placed:1');
      assert.equal(first.headers.location, '/v1/streams/orders/schemas/order.placed/versions/1');

      const again = await register(t, 'orders', 'order.placed', {
        additionalProperties: false,
        required: ['orderId', 'price'],
        properties: ORDER_V1.properties,
        type: 'object',
      });
      assert.equal(again.statusCode, 200, 'the same schema again answers the existing version');
      assert.equal(again.json().version, 1);
      assert.equal(again.json().created, false);

      assert.equal(await registerOk(t, 'orders', 'order.placed', { schema: ORDER_V2 }), 2);

      const types = await t.app.inject({ method: 'GET', url: '/v1/streams/orders/schemas', headers: t.admin });
      assert.deepEqual(types.json().types, [
        { type: 'order.placed', compatibility: 'BACKWARD', compatibilityOverride: null, latest: 2, versions: [1, 2] },
      ]);

      const versions = await t.app.inject({
        method: 'GET',
        url: '/v1/streams/orders/schemas/order.placed',
        headers: t.admin,
      });
      assert.deepEqual(
        versions.json().versions.map((v: { version: number }) => v.version),
        [1, 2],
      );

      const latest = await t.app.inject({
        method: 'GET',
        url: '/v1/streams/orders/schemas/order.placed/versions/latest',
        headers: t.admin,
      });
      assert.equal(latest.json().version, 2);
      assert.deepEqual(latest.json().schema, ORDER_V2);
      const v1 = await t.app.inject({
        method: 'GET',
        url: '/v1/streams/orders/schemas/order.placed/versions/1',
        headers: t.admin,
      });
      assert.deepEqual(v1.json().schema, ORDER_V1);

      const deleted = await t.app.inject({
        method: 'DELETE',
        url: '/v1/streams/orders/schemas/order.placed/versions/2',
        headers: t.admin,
      });
      assert.equal(deleted.statusCode, 204);
      const gone = await t.app.inject({
        method: 'GET',
        url: '/v1/streams/orders/schemas/order.placed/versions/2',
        headers: t.admin,
      });
      assert.equal(gone.statusCode, 404);
      assert.equal(gone.json().code, 'SCHEMA_NOT_FOUND');
      const again2 = await t.app.inject({
        method: 'DELETE',
        url: '/v1/streams/orders/schemas/order.placed/versions/2',
        headers: t.admin,
      });
      assert.equal(again2.statusCode, 404);
      assert.equal(await registerOk(t, 'orders', 'order.placed', ORDER_V2), 3, 'version 2 is not given out again');

      const unknown = await t.app.inject({ method: 'GET', url: '/v1/streams/orders/schemas/nope', headers: t.admin });
      assert.equal(unknown.statusCode, 404);
      const noStream = await register(t, 'missing', 'x', ORDER_V1);
      assert.equal(noStream.statusCode, 404);
      assert.equal(noStream.json().code, 'STREAM_NOT_FOUND');
    }));

  it('accepts event types holding "/" and ":" when percent-encoded in the path', () =>
    withApp(async (t) => {
      await createStream(t, 'iflux');
      const type = '/eventTypes/sensor:reading';
      const res = await register(t, 'iflux', type, ORDER_V1);
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.headers.location, '/v1/streams/iflux/schemas/%2FeventTypes%2Fsensor%3Areading/versions/1');
      const got = await t.app.inject({ method: 'GET', url: res.headers.location as string, headers: t.admin });
      assert.equal(got.statusCode, 200, got.body);
      assert.equal(got.json().type, type);
      const types = await t.app.inject({ method: 'GET', url: '/v1/streams/iflux/schemas', headers: t.admin });
      assert.deepEqual(
        types.json().types.map((x: { type: string }) => x.type),
        [type],
      );
      const refused = await produce(t, 'iflux', { type, data: { orderId: 'a', price: -1 } });
      assert.equal(refused.statusCode, 422, refused.body);
    }));

  it('refuses what is not a JSON Schema, naming the problem', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      const badType = await register(t, 'orders', 'o', { type: 'objekt' });
      assert.equal(badType.statusCode, 400);
      assert.equal(badType.json().code, 'SCHEMA_INVALID');
      assert.match(badType.json().detail, /type/);
      const badDraft = await register(t, 'orders', 'o', {
        $schema: 'http://json-schema.org/draft-04/schema#',
        type: 'object',
      });
      assert.equal(badDraft.statusCode, 400);
      assert.equal(badDraft.json().pointer, '/$schema');
      const notObject = await register(t, 'orders', 'o', [1, 2]);
      assert.equal(notObject.json().code, 'SCHEMA_INVALID');
      // an array form of `items` is draft-07 only
      const tuple = { type: 'array', items: [{ type: 'string' }, { type: 'number' }] };
      assert.equal((await register(t, 'orders', 'tuple', tuple)).json().code, 'SCHEMA_INVALID');
      assert.equal(
        await registerOk(t, 'orders', 'tuple', { $schema: 'http://json-schema.org/draft-07/schema#', ...tuple }),
        1,
      );
    }));

  it('refuses incompatible versions under each mode with the checker’s report', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      await registerOk(t, 'orders', 'o', ORDER_V1);
      // BACKWARD (the default): a new required field refuses data already written
      const required = await register(t, 'orders', 'o', { ...ORDER_V2, required: ['orderId', 'price', 'note'] });
      assert.equal(required.statusCode, 409, required.body);
      const problem = required.json();
      assert.equal(problem.code, 'SCHEMA_INCOMPATIBLE');
      assert.equal(problem.mode, 'BACKWARD');
      assert.ok(
        problem.incompatibilities.some(
          (i: { rule: string; againstVersion: number; direction: string }) =>
            i.rule === 'required-added' && i.againstVersion === 1 && i.direction === 'backward',
        ),
        required.body,
      );
      assert.match(problem.detail, /BACKWARD/);
      // a narrower range is refused; a wider one is fine
      const narrower = await register(t, 'orders', 'o', {
        ...ORDER_V1,
        properties: { ...ORDER_V1.properties, price: { type: 'number', minimum: 10 } },
      });
      assert.equal(narrower.statusCode, 409);
      assert.ok(
        narrower.json().incompatibilities.some((i: { pointer: string }) => i.pointer.startsWith('/properties/price')),
        narrower.body,
      );
      assert.equal(
        await registerOk(t, 'orders', 'o', ORDER_V2),
        2,
        'an optional field on a closed object is backward compatible',
      );

      // FORWARD: new data must suit old readers, so the optional field of a closed object breaks it
      const fwd = await register(t, 'orders', 'f', { schema: ORDER_V1, compatibility: 'FORWARD' });
      assert.equal(fwd.statusCode, 201);
      const fwdBreak = await register(t, 'orders', 'f', ORDER_V2);
      assert.equal(fwdBreak.statusCode, 409);
      assert.equal(fwdBreak.json().mode, 'FORWARD');
      assert.equal(fwdBreak.json().incompatibilities[0].direction, 'forward');
      const fwdNarrow = await register(t, 'orders', 'f', {
        ...ORDER_V1,
        properties: { ...ORDER_V1.properties, price: { type: 'number', minimum: 10 } },
      });
      assert.equal(fwdNarrow.statusCode, 201, 'narrowing suits old readers');

      // FULL: both ways
      await registerOk(t, 'orders', 'full', { schema: ORDER_V1, compatibility: 'FULL' });
      assert.equal((await register(t, 'orders', 'full', ORDER_V2)).statusCode, 409);
      assert.equal(
        (await register(t, 'orders', 'full', { ...ORDER_V1, description: 'annotation only' })).statusCode,
        201,
      );

      // NONE: anything goes
      await registerOk(t, 'orders', 'none', { schema: ORDER_V1, compatibility: 'NONE' });
      assert.equal(await registerOk(t, 'orders', 'none', { type: 'string' }), 2);
    }));

  it('reports the compatibility of a registration without registering (POST …/compatibility)', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      const check = (body: unknown) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/streams/orders/schemas/o/compatibility',
          headers: t.admin,
          payload: body as object,
        });
      const first = await check(ORDER_V1);
      assert.equal(first.statusCode, 200, first.body);
      assert.deepEqual(first.json(), {
        type: 'o',
        mode: 'BACKWARD',
        compatible: true,
        unchanged: false,
        latest: null,
        nextVersion: 1,
        incompatibilities: [],
      });
      await registerOk(t, 'orders', 'o', ORDER_V1);
      const breaking = (await check({ ...ORDER_V2, required: ['orderId', 'price', 'note'] })).json();
      assert.equal(breaking.compatible, false);
      assert.equal(breaking.latest, 1);
      assert.ok(breaking.incompatibilities.some((i: { rule: string }) => i.rule === 'required-added'));
      assert.deepEqual(
        { ...((await check(ORDER_V2)).json() as Record<string, unknown>), incompatibilities: undefined },
        {
          type: 'o',
          mode: 'BACKWARD',
          compatible: true,
          unchanged: false,
          latest: 1,
          nextVersion: 2,
          incompatibilities: undefined,
        },
      );
      assert.equal((await check(ORDER_V1)).json().unchanged, true);
      // under another mode given with the schema
      assert.equal((await check({ schema: ORDER_V2, compatibility: 'FORWARD' })).json().compatible, false);
      // nothing was registered; a schema that is not one is a 400
      assert.deepEqual(
        (await t.app.inject({ method: 'GET', url: '/v1/streams/orders/schemas/o', headers: t.admin }))
          .json()
          .versions.map((v: { version: number }) => v.version),
        [1],
      );
      assert.equal((await check({ type: 'nonsense' })).statusCode, 400);
    }));

  it('checks every earlier version in the transitive modes, only the latest otherwise', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      const status = (values: string[]) => ({
        type: 'object',
        properties: { s: { enum: values } },
        required: ['s'],
        additionalProperties: false,
      });
      await registerOk(t, 'orders', 't', { schema: status(['a', 'b', 'c']), compatibility: 'NONE' });
      await registerOk(t, 'orders', 't', status(['a']));
      const transitive = await register(t, 'orders', 't', {
        schema: status(['a', 'b']),
        compatibility: 'BACKWARD_TRANSITIVE',
      });
      assert.equal(transitive.statusCode, 409, transitive.body);
      assert.deepEqual(
        [...new Set(transitive.json().incompatibilities.map((i: { againstVersion: number }) => i.againstVersion))],
        [1],
      );
      const plain = await register(t, 'orders', 't', { schema: status(['a', 'b']), compatibility: 'BACKWARD' });
      assert.equal(plain.statusCode, 201, plain.body);
      assert.equal(plain.json().version, 3);
      // a refused registration did not change the type's mode; the accepted one did
      const listed = await t.app.inject({ method: 'GET', url: '/v1/streams/orders/schemas/t', headers: t.admin });
      assert.equal(listed.json().compatibility, 'BACKWARD');
    }));

  it('takes the mode from the type, else the stream, else BACKWARD', () =>
    withApp(async (t) => {
      await createStream(t, 'loose', { schemaCompatibility: 'NONE' });
      await registerOk(t, 'loose', 'o', ORDER_V1);
      assert.equal(await registerOk(t, 'loose', 'o', { type: 'string' }), 2, 'the stream says NONE');
      const set = await t.app.inject({
        method: 'PUT',
        url: '/v1/streams/loose/schemas/o/compatibility',
        headers: t.admin,
        payload: { compatibility: 'FULL' },
      });
      assert.equal(set.statusCode, 200, set.body);
      assert.deepEqual(set.json(), { type: 'o', compatibility: 'FULL', compatibilityOverride: 'FULL' });
      assert.equal((await register(t, 'loose', 'o', { type: 'number' })).statusCode, 409, 'the type says FULL');
      const cleared = await t.app.inject({
        method: 'PUT',
        url: '/v1/streams/loose/schemas/o/compatibility',
        headers: t.admin,
        payload: { compatibility: null },
      });
      assert.equal(cleared.json().compatibility, 'NONE');
      assert.equal(await registerOk(t, 'loose', 'o', { type: 'number' }), 3);
      const bad = await t.app.inject({
        method: 'PUT',
        url: '/v1/streams/loose/schemas/o/compatibility',
        headers: t.admin,
        payload: { compatibility: 'SIDEWAYS' },
      });
      assert.equal(bad.statusCode, 400);
    }));

  it('lets consume keys read schemas and only manage keys change them', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      await registerOk(t, 'orders', 'o', ORDER_V1);
      const reader = await t.keyWith(['consume:orders']);
      const producer = await t.keyWith(['produce:orders']);
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/v1/streams/orders/schemas/o/versions/1', headers: reader }))
          .statusCode,
        200,
      );
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/v1/streams/orders/schemas/o',
            headers: reader,
            payload: ORDER_V2,
          })
        ).statusCode,
        403,
      );
      assert.equal(
        (await t.app.inject({ method: 'DELETE', url: '/v1/streams/orders/schemas/o/versions/1', headers: producer }))
          .statusCode,
        403,
      );
      const dry = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/validate',
        headers: producer,
        payload: { type: 'o', data: { orderId: 'a', price: 1 } },
      });
      assert.equal(dry.statusCode, 200, dry.body);
    }));

  it('documents the routes in /openapi.json', () =>
    withApp(async (t) => {
      const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      for (const path of [
        '/v1/streams/{name}/schemas',
        '/v1/streams/{name}/schemas/{type}',
        '/v1/streams/{name}/schemas/{type}/versions/{version}',
        '/v1/streams/{name}/schemas/{type}/compatibility',
        '/v1/streams/{name}/validate',
      ]) {
        assert.ok(doc.paths[path], `${path} is documented`);
      }
    }));
});

describe('schema enforcement at ingest (native API)', () => {
  it('refuses a single event that breaks its schema, naming the pointer and the rule', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      await registerOk(t, 'orders', 'order.placed', ORDER_V1);
      const res = await produce(t, 'orders', { type: 'order.placed', data: { orderId: 'a', price: -5 } });
      assert.equal(res.statusCode, 422, res.body);
      const p = res.json();
      assert.equal(p.code, 'SCHEMA_VIOLATION');
      assert.equal(p.index, 0);
      assert.equal(p.pointer, '/data/price');
      assert.equal(p.rule, 'minimum');
      assert.equal(p.schemaVersion, 1);
      assert.match(p.detail, /\/data\/price/);
      assert.match(p.detail, /minimum/);

      const missing = (await produce(t, 'orders', { type: 'order.placed', data: { price: 1 } })).json();
      assert.equal(missing.pointer, '/data/orderId');
      assert.equal(missing.rule, 'required');
      const extra = (
        await produce(t, 'orders', { type: 'order.placed', data: { orderId: 'a', price: 1, colour: 'red' } })
      ).json();
      assert.equal(extra.pointer, '/data/colour');
      assert.equal(extra.rule, 'additionalProperties');
      assert.deepEqual(await readAll(t, 'orders'), []);
    }));

  it('refuses a whole batch for one bad event, and keeps the version of accepted ones', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      await registerOk(t, 'orders', 'order.placed', ORDER_V1);
      const good = { type: 'order.placed', data: { orderId: 'a', price: 1 } };
      const refused = await produce(t, 'orders', [
        good,
        { type: 'other', data: 1 },
        { type: 'order.placed', data: { orderId: 'b', price: 'free' } },
      ]);
      assert.equal(refused.statusCode, 422, refused.body);
      assert.equal(refused.json().index, 2);
      assert.equal(refused.json().pointer, '/data/price');
      assert.equal(refused.json().rule, 'type');
      assert.deepEqual(await readAll(t, 'orders'), [], 'nothing of the batch was written');

      const accepted = await produce(t, 'orders', [good, { type: 'other', data: 1 }]);
      assert.equal(accepted.statusCode, 201, accepted.body);
      const events = await readAll(t, 'orders');
      assert.equal(events[0]!.schemaVersion, 1);
      assert.equal(events[1]!.schemaVersion, undefined, 'a type without schema has no version');
    }));

  it('validates against a pinned version: CloudEvents dataschema, and $schema in data', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      await registerOk(t, 'orders', 'o', { schema: ORDER_V1, compatibility: 'NONE' });
      // v2 requires a currency
      await registerOk(t, 'orders', 'o', {
        ...ORDER_V1,
        properties: { ...ORDER_V1.properties, currency: { type: 'string' } },
        required: ['orderId', 'price', 'currency'],
      });
      const data = { orderId: 'a', price: 1 };
      const latest = await produce(t, 'orders', { type: 'o', data });
      assert.equal(latest.json().pointer, '/data/currency');
      assert.equal(latest.json().schemaVersion, 2);

      const ce = (id: string, dataschema: string) => ({
        specversion: '1.0',
        id,
        source: '/shop',
        type: 'o',
        dataschema,
        data,
      });
      const urn = await produce(t, 'orders', ce('1', 'urn:rivulet:schema:orders:o:1'), 'application/cloudevents+json');
      assert.equal(urn.statusCode, 201, urn.body);
      const url = await produce(
        t,
        'orders',
        [ce('2', 'https://rivulet.example/v1/streams/orders/schemas/o/versions/1')],
        'application/cloudevents-batch+json',
      );
      assert.equal(url.statusCode, 201, url.body);
      const pinnedToLatest = await produce(
        t,
        'orders',
        ce('3', 'urn:rivulet:schema:orders:o:latest'),
        'application/cloudevents+json',
      );
      assert.equal(pinnedToLatest.statusCode, 422);
      const foreign = await produce(
        t,
        'orders',
        ce('4', 'https://schemas.example.com/order.json'),
        'application/cloudevents+json',
      );
      assert.equal(foreign.statusCode, 422, 'a URI that is not a Rivulet reference leaves the latest in force');
      // `$schema` in data pins, and is not itself validated against the closed object
      const inData = await produce(t, 'orders', {
        type: 'o',
        data: { $schema: 'urn:rivulet:schema:orders:o:1', ...data },
      });
      assert.equal(inData.statusCode, 201, inData.body);

      const events = await readAll(t, 'orders');
      assert.deepEqual(
        events.map((e) => e.schemaVersion),
        [1, 1, 1],
      );
      assert.deepEqual(
        (events[2]!.data as Record<string, unknown>).$schema,
        'urn:rivulet:schema:orders:o:1',
        'data is kept verbatim',
      );

      const noSuch = await produce(
        t,
        'orders',
        ce('5', 'urn:rivulet:schema:orders:o:9'),
        'application/cloudevents+json',
      );
      assert.equal(noSuch.statusCode, 422);
      assert.equal(noSuch.json().code, 'INVALID_EVENT');
      assert.equal(noSuch.json().pointer, '/dataschema');
      const otherType = await produce(
        t,
        'orders',
        ce('6', 'urn:rivulet:schema:orders:p:1'),
        'application/cloudevents+json',
      );
      assert.equal(otherType.json().code, 'INVALID_EVENT');
      assert.match(otherType.json().detail, /"p"/);
    }));

  it('applies the stream’s validation mode: strict, known (default) and off', () =>
    withApp(async (t) => {
      for (const mode of ['strict', 'known', 'off']) {
        await createStream(t, mode, mode === 'known' ? {} : { validation: mode });
        await registerOk(t, mode, 'o', ORDER_V1);
      }
      const unknownType = { type: 'unknown', data: { anything: true } };
      const strict = await produce(t, 'strict', unknownType);
      assert.equal(strict.statusCode, 422);
      assert.equal(strict.json().code, 'UNKNOWN_EVENT_TYPE');
      assert.equal(strict.json().pointer, '/type');
      assert.equal((await produce(t, 'known', unknownType)).statusCode, 201);
      assert.equal((await produce(t, 'off', unknownType)).statusCode, 201);

      const bad = { type: 'o', data: { orderId: 1 } };
      assert.equal((await produce(t, 'strict', bad)).json().code, 'SCHEMA_VIOLATION');
      assert.equal((await produce(t, 'known', bad)).json().code, 'SCHEMA_VIOLATION');
      assert.equal((await produce(t, 'off', bad)).statusCode, 201);
      assert.equal((await readAll(t, 'off'))[1]!.schemaVersion, undefined, 'nothing was validated');

      await createStream(t, 'typo', { validation: 'loose' });
      assert.equal((await produce(t, 'typo', unknownType)).statusCode, 400, 'a mistyped mode fails closed');
    }));

  it('enforces a stricter version at once after it is registered, and the older one after it is deleted', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      await registerOk(t, 'orders', 'o', { schema: ORDER_V1, compatibility: 'NONE' });
      const event = { type: 'o', data: { orderId: 'a', price: 5 } };
      assert.equal((await produce(t, 'orders', event)).statusCode, 201, 'v1 is compiled and cached');
      await registerOk(t, 'orders', 'o', {
        ...ORDER_V1,
        properties: { ...ORDER_V1.properties, price: { type: 'number', minimum: 10 } },
      });
      const refused = await produce(t, 'orders', event);
      assert.equal(refused.statusCode, 422, 'v2 applies without a restart');
      assert.equal(refused.json().schemaVersion, 2);
      assert.equal(refused.json().rule, 'minimum');
      await t.app.inject({ method: 'DELETE', url: '/v1/streams/orders/schemas/o/versions/2', headers: t.admin });
      assert.equal((await produce(t, 'orders', event)).statusCode, 201, 'back to v1');
      await t.app.inject({ method: 'DELETE', url: '/v1/streams/orders/schemas/o/versions/1', headers: t.admin });
      assert.equal((await produce(t, 'orders', { type: 'o', data: 'no schema left' })).statusCode, 201);
    }));

  it('validates with draft-07 and draft 2020-12 schemas, formats included', () =>
    withApp(async (t) => {
      await createStream(t, 'drafts');
      await registerOk(t, 'drafts', 'd7', {
        $schema: 'http://json-schema.org/draft-07/schema#',
        definitions: {
          item: { type: 'object', properties: { qty: { type: 'integer', minimum: 1 } }, required: ['qty'] },
        },
        type: 'object',
        properties: {
          items: { type: 'array', items: { $ref: '#/definitions/item' } },
          at: { type: 'string', format: 'date-time' },
        },
      });
      await registerOk(t, 'drafts', 'd2020', {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $defs: { item: { type: 'object', properties: { qty: { type: 'integer', minimum: 1 } }, required: ['qty'] } },
        type: 'object',
        properties: {
          items: { type: 'array', prefixItems: [{ const: 'header' }], items: { $ref: '#/$defs/item' } },
          email: { type: 'string', format: 'email' },
        },
      });
      const d7 = await produce(t, 'drafts', { type: 'd7', data: { items: [{ qty: 1 }, { qty: 0 }] } });
      assert.equal(d7.json().pointer, '/data/items/1/qty');
      assert.equal(d7.json().rule, 'minimum');
      assert.equal((await produce(t, 'drafts', { type: 'd7', data: { at: 'yesterday' } })).json().rule, 'format');
      const d2020 = await produce(t, 'drafts', { type: 'd2020', data: { items: ['header', { qty: 2 }, {}] } });
      assert.equal(d2020.json().pointer, '/data/items/2/qty');
      assert.equal(d2020.json().rule, 'required');
      assert.equal((await produce(t, 'drafts', { type: 'd2020', data: { items: ['footer'] } })).json().rule, 'const');
      assert.equal(
        (await produce(t, 'drafts', { type: 'd2020', data: { email: 'not an address' } })).json().rule,
        'format',
      );
      assert.equal(
        (
          await produce(t, 'drafts', [
            { type: 'd7', data: { items: [{ qty: 3 }] } },
            { type: 'd2020', data: { items: ['header', { qty: 1 }], email: 'a@b.example' } },
          ])
        ).statusCode,
        201,
      );
    }));

  it('answers a dry run per event without writing', () =>
    withApp(async (t) => {
      await createStream(t, 'orders');
      await registerOk(t, 'orders', 'o', ORDER_V1);
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/validate',
        headers: t.admin,
        payload: [
          { type: 'o', data: { orderId: 'a', price: 1 } },
          { type: 'o', data: { orderId: 'b', price: -1 } },
          { type: 'free', data: null },
        ],
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.valid, false);
      assert.equal(body.validation, 'known');
      assert.deepEqual(
        body.events.map((e: { valid: boolean }) => e.valid),
        [true, false, true],
      );
      assert.equal(body.events[0].schemaVersion, 1);
      assert.equal(body.events[2].schemaVersion, null);
      assert.equal(body.events[1].error.code, 'SCHEMA_VIOLATION');
      assert.equal(body.events[1].error.pointer, '/data/price');
      assert.equal(body.events[1].error.rule, 'minimum');
      assert.equal(body.events[1].error.index, 1);

      const ce = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/validate',
        headers: { ...t.admin, 'content-type': 'application/cloudevents+json' },
        payload: JSON.stringify({
          specversion: '1.0',
          id: '1',
          source: '/s',
          type: 'o',
          data: { orderId: 'a', price: 2 },
        }),
      });
      assert.equal(ce.json().valid, true, ce.body);
      const binary = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/validate',
        headers: {
          ...t.admin,
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': '1',
          'ce-source': '/s',
          'ce-type': 'o',
        },
        payload: JSON.stringify({ orderId: 'a' }),
      });
      assert.equal(binary.json().events[0].error.pointer, '/data/price', binary.body);
      assert.deepEqual(await readAll(t, 'orders'), []);

      const malformed = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/validate',
        headers: t.admin,
        payload: [{ data: 1 }],
      });
      assert.equal(malformed.statusCode, 422);
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/v1/streams/none/validate',
            headers: t.admin,
            payload: { type: 'o' },
          })
        ).statusCode,
        404,
      );
    }));
});
