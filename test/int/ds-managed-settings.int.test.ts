/**
 * A stream made through the Durable Streams mount keeps its protocol settings (content type,
 * TTL, closed, producer state, fork origin) in `options.durableStreams`, which only the mount
 * sets: native PATCH, native create and spec declarations that would set or change them are
 * refused with RESOURCE_IN_USE (409), while the stream's other settings change as on any
 * stream and keep the protocol's settings as they were. The nats wiring file runs it on the
 * nats store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecApplier } from '../../src/core/specs/spec-applier.js';
import { buildTestApp } from '../support/test-app.js';

type Headers = Record<string, string>;

describe('durable streams settings are managed', () => {
  it('refuses native PATCH, create and specs that touch them, and keeps them through other changes', async () => {
    const t = await buildTestApp();
    const applier = new SpecApplier(t.services.specs);
    applier.start();
    try {
      const call = async (
        method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'HEAD',
        url: string,
        payload?: unknown,
        headers: Headers = t.admin,
      ) => {
        const res = await t.app.inject({
          method,
          url,
          headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
        });
        return {
          status: res.statusCode,
          body: res.body,
          headers: res.headers,
          json: () => JSON.parse(res.body) as Record<string, unknown>,
        };
      };
      const ds = (method: 'PUT' | 'POST' | 'HEAD', path: string, headers: Headers, payload?: string) =>
        t.app.inject({
          method,
          url: `/ds/${path}`,
          headers: { ...t.admin, ...headers },
          ...(payload === undefined ? {} : { payload }),
        });

      assert.equal(
        (await ds('PUT', 'shop/log', { 'content-type': 'text/plain', 'stream-ttl': '3600' })).statusCode,
        201,
      );
      const producer = {
        'content-type': 'text/plain',
        'producer-id': 'p1',
        'producer-epoch': '0',
        'producer-seq': '0',
      };
      assert.equal((await ds('POST', 'shop/log', producer, 'hello')).statusCode, 200);
      const settings = (await t.store.streams.get('shop.log'))!.options['durableStreams'] as Record<string, unknown>;
      assert.equal(settings['contentType'], 'text/plain');
      assert.equal(settings['ttlSeconds'], 3600);

      // changing them, dropping a part of them, or setting them anew: 409 with the reason
      for (const durableStreams of [
        { ...settings, contentType: 'application/json' },
        { contentType: 'text/plain' },
        { ...settings, closed: true },
      ]) {
        const patch = await call('PATCH', '/v1/streams/shop.log', { options: { durableStreams } });
        assert.equal(patch.status, 409, patch.body);
        assert.equal(patch.json().code, 'RESOURCE_IN_USE');
        assert.match(
          patch.json().detail as string,
          /options\.durableStreams of stream "shop\.log" is kept by the Durable Streams protocol.*\/ds mount/,
        );
      }
      // a PATCH of anything else, even one replacing every option, keeps them
      const other = await call('PATCH', '/v1/streams/shop.log', {
        description: 'order log',
        options: { team: 'shop' },
        retention: { maxEvents: 1000 },
      });
      assert.equal(other.status, 200, other.body);
      assert.deepEqual(other.json().options, { team: 'shop', durableStreams: settings });
      assert.equal((await call('PATCH', '/v1/streams/shop.log', { options: {} })).status, 200);
      // naming them unchanged is no change to them
      assert.equal(
        (await call('PATCH', '/v1/streams/shop.log', { options: { durableStreams: settings, team: 'ops' } })).status,
        200,
      );
      const head = await ds('HEAD', 'shop/log', {});
      assert.equal(head.headers['content-type'], 'text/plain');
      assert.equal(head.headers['stream-ttl'], '3600');
      // the producer's state survived: its retry is still a duplicate, and seq 1 follows on
      assert.equal((await ds('POST', 'shop/log', producer, 'hello')).statusCode, 204);
      assert.equal((await ds('POST', 'shop/log', { ...producer, 'producer-seq': '1' }, ' world')).statusCode, 200);

      // a native create cannot forge them (a fork of a stream the caller may not read, say)
      const forged = await call('POST', '/v1/streams', {
        name: 'shop.fake',
        options: {
          durableStreams: {
            contentType: 'text/plain',
            forkedFrom: '/secret/ledger',
            forkOffset: '0000000000000000_0000000000000010',
          },
        },
      });
      assert.equal(forged.status, 409, forged.body);
      assert.equal(forged.json().code, 'RESOURCE_IN_USE');
      assert.equal(await t.store.streams.get('shop.fake'), null);
      assert.equal((await call('POST', '/v1/streams', { name: 'shop.real', options: { team: 'shop' } })).status, 201);

      // specs: declaring them is refused at upload, for an existing stream and a new one
      for (const [name, durableStreams] of [
        ['shop.log', { ...settings, closed: true }],
        ['shop.new', { contentType: 'text/plain' }],
      ] as const) {
        const spec = await call('POST', '/v1/specs', {
          meta: { owner: 'admin', dataset: 'shop' },
          streams: [{ name, options: { durableStreams } }],
        });
        assert.equal(spec.status, 409, `${name}: ${spec.body}`);
        assert.equal(spec.json().code, 'RESOURCE_IN_USE');
        assert.match(spec.json().detail as string, /kept by the Durable Streams protocol/);
      }
      // a spec declaring the stream without them adopts it and keeps them
      const spec = await call('POST', '/v1/specs', {
        meta: { owner: 'admin', dataset: 'shop' },
        streams: [{ name: 'shop.log', description: 'declared', options: { team: 'specs' } }],
      });
      assert.equal(spec.status, 201, spec.body);
      await applier.idle();
      const done = await call('GET', '/v1/specs/admin/shop/revisions/latest');
      assert.equal(done.json().state, 'SUCCEEDED', done.body);
      const record = (await t.store.streams.get('shop.log'))!;
      assert.equal(record.description, 'declared');
      assert.equal((record.options['durableStreams'] as Record<string, unknown>)['contentType'], 'text/plain');
      assert.equal(record.options['team'], 'specs');
      const read = await t.app.inject({ method: 'GET', url: '/ds/shop/log?offset=-1', headers: t.admin });
      assert.equal(read.statusCode, 200);
      assert.equal(read.body, 'hello world');
    } finally {
      await applier.close();
      await t.close();
    }
  });
});
