/**
 * A sink waiting for its source stream, across processes on one nats store: an aether job for
 * a topic that does not exist is made through one Rivulet app (which runs the delivery engine),
 * and the topic is created and written through another app sharing the store, as a second
 * process behind a load balancer would. The job must pick the new stream up from its first
 * event, with nothing of it created or announced through the engine's own process.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startNatsServer } from '../support/nats-server.js';
import { startDeliveryApp, until } from '../support/delivery-app.js';
import { tempDir } from '../support/resources.js';
import { startReceiver } from '../support/receiver.js';
import { buildTestApp } from '../support/test-app.js';

const nats = await startNatsServer();
process.env.RIVULET_TEST_NATS_URL = nats.servers;
after(() => nats.close());

describe('waiting sinks on nats', () => {
  it('an aether job made through one process delivers a topic created and written through another', async () => {
    const dataDir = tempDir('rivulet-nats-waiting');
    const rx = await startReceiver();
    const a = await startDeliveryApp('engine process', { dataDir });
    try {
      const b = await buildTestApp({ dataDir });
      try {
        const basic = { authorization: `Basic ${Buffer.from(`aether:${a.t.adminKey}`).toString('base64')}` };
        const job = {
          owner: 'admin',
          type: 'POST',
          topic: ['later'],
          url: `${rx.url}/{id}`,
          datamap: { id: '$.msg.id' },
        };
        const created = await a.t.app.inject({ method: 'POST', url: '/job/early', headers: basic, payload: job });
        assert.equal(created.statusCode, 201, created.body);
        assert.deepEqual(created.json().waiting_for, ['later']);

        assert.equal(
          (await b.app.inject({ method: 'POST', url: '/v1/streams', headers: b.admin, payload: { name: 'later' } }))
            .statusCode,
          201,
        );
        const produced = await b.app.inject({
          method: 'POST',
          url: '/v1/streams/later/events',
          headers: b.admin,
          payload: [
            { type: 't', data: { id: 'e1' } },
            { type: 't', data: { id: 'e2' } },
          ],
        });
        assert.equal(produced.statusCode, 201, produced.body);
        await until('both delivered', () => rx.requests.length >= 2);
        assert.deepEqual(
          rx.requests.map((r) => r.url),
          ['/e1', '/e2'],
        );
        const shown = await until('no longer waiting', async () => {
          const view = (
            await b.app.inject({
              method: 'GET',
              url: '/job/early',
              headers: { authorization: `Basic ${Buffer.from(`x:${b.adminKey}`).toString('base64')}` },
            })
          ).json();
          return view.waiting_for === undefined ? view : undefined;
        });
        assert.equal(shown.status, 'running');
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await rx.close();
    }
  });
});
