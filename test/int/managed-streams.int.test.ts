/**
 * Managed streams: okdata's streams and the internal streams of sinks and rules keep the
 * settings their owner gave. A spec that declares one (native /v1/specs and the specstore
 * dialect) and `PATCH /v1/streams/{name}` are refused with RESOURCE_IN_USE, in each
 * API's format, and okdata still answers its stream with its settings afterwards. An ordinary
 * stream of the same owner changes as before. The nats wiring file runs it on the nats store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startDeliveryApp, until } from '../support/delivery-app.js';

describe('managed streams', () => {
  it("refuse changes from specs and from native PATCH, leaving okdata's settings intact", async () => {
    const h = await startDeliveryApp('managed streams', { startEngine: true });
    try {
      const { t } = h;
      const alice = await t.keyWith(['manage:alice.*', 'manage:okdata.aliceset.*', 'consume:_sink.*'], 'alice');
      const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, headers = alice) => {
        const res = await t.app.inject({
          method,
          url,
          headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
        });
        return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) as Record<string, unknown> };
      };
      const created = await call('POST', '/streams/aliceset/1', { confidentiality: 'green', create_raw: true });
      assert.equal(created.status, 201, created.body);
      const processed = 'okdata.aliceset.processed.1';
      const raw = 'okdata.aliceset.raw.1';
      // okdata finishes creating it in the background: its settings settle once ACTIVE
      const okdataView = await until('the okdata stream to be ACTIVE', async () => {
        const view = await call('GET', '/aliceset/1');
        return view.status === 200 && view.json().status === 'ACTIVE' ? view : undefined;
      });
      const optionsBefore = (await t.store.streams.get(processed))!.options;
      assert.ok(optionsBefore['okdata'], 'okdata keeps its settings on the processed stream');

      // a spec declaring okdata's stream: refused at upload, on the native API …
      for (const name of [processed, raw]) {
        const spec = await call('POST', '/v1/specs', {
          meta: { owner: 'alice', dataset: 'shop' },
          streams: [{ name }],
        });
        assert.equal(spec.status, 409, `spec declaring ${name}: ${spec.body}`);
        assert.equal(spec.json().code, 'RESOURCE_IN_USE');
        assert.match(spec.json().detail as string, /managed by okdata stream aliceset\/1/);
      }
      // … and on the specstore dialect, in its own shape
      const upload = await call(
        'POST',
        '/source/upload',
        { meta: { owner: 'alice', dataset: 'shop' }, streams: [{ name: processed }] },
        { 'auth-token': alice.authorization!.slice('Bearer '.length) },
      );
      assert.equal(upload.json().success, false, upload.body);
      assert.match(JSON.stringify(upload.json().errors), /managed by okdata stream aliceset\/1/);

      // native PATCH (a DELETE stays possible: okdata reports the loss as OPERATION_FAILED)
      for (const name of [processed, raw]) {
        const patch = await call('PATCH', `/v1/streams/${name}`, { options: {} });
        assert.equal(patch.status, 409, `PATCH ${name}: ${patch.body}`);
        assert.equal(patch.json().code, 'RESOURCE_IN_USE');
      }
      // the admin key is refused too: the settings belong to okdata, not to a scope
      assert.equal((await call('PATCH', `/v1/streams/${processed}`, { options: {} }, t.admin)).status, 409);

      // okdata's stream is as it was
      assert.deepEqual((await t.store.streams.get(processed))!.options, optionsBefore);
      const after = await call('GET', '/aliceset/1');
      assert.equal(after.status, 200, after.body);
      assert.deepEqual(after.json(), okdataView.json());

      // a sink's attempt log: its owner reads it, and cannot change it either
      await call('POST', '/v1/streams', { name: 'alice.orders' });
      assert.equal(
        (
          await call('POST', '/v1/sinks', {
            id: 'alice-hook',
            streams: ['alice.orders'],
            target: { kind: 'http', url: 'http://127.0.0.1:9/x' },
            policy: { retry: { maxAttempts: 1 } },
          })
        ).status,
        201,
      );
      await call('POST', '/v1/streams/alice.orders/events', { type: 't', data: {} });
      const log = '_sink.alice-hook.attempts';
      // created by the delivery engine in the background; on nats its record is written before
      // its JetStream stream, so wait until the admin can describe it
      await until('the attempt log exists', async () =>
        (await call('GET', `/v1/streams/${log}`, undefined, t.admin)).status === 200 ? true : undefined,
      );
      assert.equal((await call('GET', `/v1/streams/${log}`)).status, 200);
      // (alice's consume scope does not reach manage; the admin's does, and the sink still manages it)
      assert.equal(
        (await call('PATCH', `/v1/streams/${log}`, { retention: { maxEvents: 1 } })).json().code,
        'INTERNAL_STREAM',
      );
      const patch = await call('PATCH', `/v1/streams/${log}`, { retention: { maxEvents: 1 } }, t.admin);
      assert.equal(patch.status, 409, patch.body);
      assert.match(patch.json().detail as string, /managed by sink "alice-hook"/);
      // specs cannot name internal streams at all
      const internal = await call(
        'POST',
        '/v1/specs',
        { meta: { owner: 'admin', dataset: 'x' }, streams: [{ name: log }] },
        t.admin,
      );
      assert.equal(internal.status, 400, internal.body);

      // paired: an ordinary stream of alice's still changes, through PATCH and a spec
      assert.equal((await call('PATCH', '/v1/streams/alice.orders', { description: 'changed' })).status, 200);
      const spec = await call('POST', '/v1/specs', {
        meta: { owner: 'alice', dataset: 'shop' },
        streams: [{ name: 'alice.shop' }],
      });
      assert.equal(spec.status, 201, spec.body);
    } finally {
      await h.close();
    }
  });
});
