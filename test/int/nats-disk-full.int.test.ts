/**
 * A full store on nats: a real nats-server whose JetStream may use 2 MB of disk
 * (`max_file_store`). Once it is used up, produce (native and iFLUX) and creating a stream are
 * refused with 507 STORAGE_FULL, each API in its format, at once rather than after the retry
 * deadline; every event acknowledged before is still there; /readyz is 503 while writes fail and
 * 200 again once space is freed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { natsServerAvailable, startNatsServer } from '../support/nats-server.js';
import { track } from '../support/resources.js';
import { buildTestApp } from '../support/test-app.js';

const available = natsServerAvailable();

describe('a full JetStream store', { skip: !available && 'no nats-server binary here' }, () => {
  it('refuses writes with 507 STORAGE_FULL and loses nothing acknowledged', async () => {
    const nats = await startNatsServer({ maxFileStore: '2MB', track });
    process.env.RIVULET_TEST_NATS_URL = nats.servers;
    const t = await buildTestApp({ core: { rulesStream: 'iflux' } });
    try {
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'orders' } }))
          .statusCode,
        201,
      );
      const pad = 'x'.repeat(16 * 1024);
      const acked: string[] = [];
      let refusal:
        | { statusCode: number; body: string; headers: Record<string, unknown>; json(): Record<string, unknown> }
        | undefined;
      for (let i = 0; i < 400 && !refusal; i++) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/streams/orders/events',
          headers: t.admin,
          payload: { type: 't', id: `e${i}`, data: { pad } },
        });
        if (res.statusCode === 201) acked.push(`e${i}`);
        else refusal = res;
      }
      assert.ok(refusal, 'a write was refused once JetStream ran out of storage');
      assert.equal(refusal.statusCode, 507, refusal.body);
      assert.equal(refusal.json().code, 'STORAGE_FULL');
      assert.equal(refusal.headers['retry-after'], '5');
      const iflux = await t.app.inject({
        method: 'POST',
        url: '/events',
        headers: t.admin,
        payload: [{ timestamp: '2015-01-12T05:21:07Z', source: '/x', type: '/t', properties: { pad } }],
      });
      assert.equal(iflux.statusCode, 507, iflux.body);
      assert.equal(typeof iflux.json().error, 'string');
      const read = await t.app.inject({ method: 'GET', url: '/v1/streams/orders/events?limit=1000', headers: t.admin });
      assert.equal(read.statusCode, 200);
      assert.deepEqual(
        (read.json().events as { id: string }[]).map((e) => e.id),
        acked,
        'every acknowledged event is there, nothing refused is',
      );
      const unready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(unready.statusCode, 503, 'not ready while JetStream refuses writes');
      assert.match(String(unready.json().reason), /out of storage/);

      // space comes back (the filling stream goes): ready again, and writes work, by themselves
      assert.equal(
        (await t.app.inject({ method: 'DELETE', url: '/v1/streams/orders', headers: t.admin })).statusCode,
        204,
      );
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200, ready.body);
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'again' } }))
          .statusCode,
        201,
      );
    } finally {
      await t.close();
      delete process.env.RIVULET_TEST_NATS_URL;
      await nats.close();
    }
  });
});
