/**
 * A consumer written in the earlier layout (every lease in its one KV entry) opened by this
 * version: upgraded in place on first use, positions kept, a lease still held stays held and
 * its token still settles it, an expired one is delivered again. And a process of the earlier
 * version still running during an upgrade, adding leases to an upgraded head: they are moved
 * into a claim, their tokens valid. A real nats-server; the earlier layout is written as that
 * version wrote it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { newEvent, streamRecord } from '../conformance/store/store-suite.js';
import type { ConsumerDefinition } from '../../src/store/port.js';
import { token } from '../../src/store/nats/nats-names.js';
import { startNatsServer } from '../support/nats-server.js';
import { openNatsTestStore } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

describe('nats store: consumers of the earlier layout', () => {
  it('are upgraded in place, their leases and tokens kept', async () => {
    const store = await openNatsTestStore(nats.servers);
    const nc = await connect({ servers: nats.servers.split(',') });
    try {
      const now = Date.now();
      const iso = new Date(now).toISOString();
      await store.streams.create(streamRecord('s'));
      await store.events.append({
        stream: 's',
        events: Array.from({ length: 8 }, (_, i) => newEvent('t', { i })),
        producer: null,
      });
      const def: ConsumerDefinition = {
        stream: 's',
        name: 'old',
        types: [],
        leaseMs: 60_000,
        maxDeliveries: 5,
        deadLetterStream: null,
      };
      const kv = await new Kvm(jetstream(nc)).open(store.names.bucket('consumers'));
      const key = `${token('s')}.${token('old')}`;
      // as the earlier version wrote it: 1 and 2 acked, 3 leased, 4 leased but expired
      await kv.put(
        key,
        JSON.stringify({
          def,
          committedSeq: 2,
          scannedSeq: 4,
          createdAt: iso,
          updatedAt: iso,
          leases: [
            { seq: 3, deliveries: 1, visibleMs: now + 60_000, token: '3.legacyHeld', firstMs: now - 1000 },
            { seq: 4, deliveries: 2, visibleMs: now - 1, token: '4.legacyLapsed', firstMs: now - 2000 },
          ],
        }),
      );

      assert.equal((await store.consumers.get('s', 'old'))?.committedSeq, 2);
      const head = (await kv.get(key))!.json<{
        layout: number;
        leases: unknown[];
        claims: { from: number; to: number }[];
      }>();
      assert.equal(head.layout, 2, 'upgraded on first use');
      assert.deepEqual(head.leases, []);
      assert.deepEqual(
        head.claims.map((c) => [c.from, c.to]),
        [[3, 4]],
        'the leases moved into one claim',
      );

      const got = await store.consumers.receive('s', 'old', {
        max: 3,
        leaseMs: 60_000,
        clientId: null,
        nowMs: Date.now(),
      });
      assert.deepEqual(
        got.deliveries.map((d) => d.event.seq),
        [4, 5, 6],
        'the expired lease first, then fresh events; 3 is still leased',
      );
      assert.equal(got.deliveries[0]!.deliveries, 3);
      assert.equal(got.deliveries[0]!.firstDeliveredMs, now - 2000, 'the first hand-out time is kept');
      assert.deepEqual(
        await store.consumers.ack('s', 'old', ['3.legacyHeld', '4.legacyLapsed'], Date.now()),
        ['ok', 'not-held'],
        'a token of the earlier layout settles its lease; one whose lease was handed out again is stale',
      );
      assert.deepEqual(
        await store.consumers.ack(
          's',
          'old',
          got.deliveries.map((d) => d.leaseToken),
          Date.now(),
        ),
        ['ok', 'ok', 'ok'],
      );
      assert.equal((await store.consumers.lag('s', 'old', Date.now())).committedSeq, 6);

      // a process of the earlier version, still running, leases 7 in the head as it knew it
      const current = (await kv.get(key))!;
      const upgraded = current.json<Record<string, unknown> & { scannedSeq: number }>();
      await kv.update(
        key,
        JSON.stringify({
          ...upgraded,
          scannedSeq: 7,
          committedSeq: 6,
          leases: [
            { seq: 7, deliveries: 1, visibleMs: Date.now() + 60_000, token: '7.fromOldProcess', firstMs: Date.now() },
          ],
        }),
        current.revision,
      );
      const next = await store.consumers.receive('s', 'old', {
        max: 5,
        leaseMs: 60_000,
        clientId: null,
        nowMs: Date.now(),
      });
      assert.deepEqual(
        next.deliveries.map((d) => d.event.seq),
        [8],
        "the old process's lease holds",
      );
      assert.deepEqual(
        await store.consumers.ack('s', 'old', ['7.fromOldProcess', next.deliveries[0]!.leaseToken], Date.now()),
        ['ok', 'ok'],
      );
      const lag = await store.consumers.lag('s', 'old', Date.now());
      assert.equal(lag.committedSeq, 8);
      assert.equal(lag.pending, 0);
    } finally {
      await nc.close();
      await store.close();
    }
  });
});
