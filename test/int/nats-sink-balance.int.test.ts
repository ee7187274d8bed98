/**
 * Sinks spread over the processes sharing a nats store: three delivery engines, each on its
 * own connection to one real nats-server (as three Rivulet processes would be), six http
 * sinks to one real receiver. The sinks balance when an engine joins (6 → 3 + 3 → 2 + 2 + 2),
 * move when one leaves (back to 3 + 3), never run on two engines at once, and while events
 * keep coming through all of it, every event reaches the receiver once per sink: the sinks
 * given up finish their in-flight attempts before the next owner takes them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createCoreServices, type CoreServices } from '../../src/core/services.js';
import { createDelivery } from '../../src/delivery/delivery-setup.js';
import type { SinkEngine } from '../../src/delivery/engine/sink-engine.js';
import { ENGINES_COLLECTION } from '../../src/core/sinks/sink-model.js';
import { until } from '../support/delivery-app.js';
import { startNatsServer } from '../support/nats-server.js';
import { openSharedNatsTestStores } from '../support/nats-store.js';
import { startReceiver } from '../support/receiver.js';
import { track } from '../support/resources.js';

const SINKS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sinks spread over processes on a nats store', () => {
  it('balance on join, move on leave, and deliver each event once per sink', { timeout: 180_000 }, async () => {
    const nats = await startNatsServer({ track });
    const receiver = await startReceiver();
    const stores = await openSharedNatsTestStores(nats.servers, 3);
    const delivery = createDelivery({ allowLoopback: true });
    const services: CoreServices[] = stores.map((s) =>
      createCoreServices(s, { maxBatchEvents: 1000, sinkChecks: delivery.checks }),
    );
    const engines: SinkEngine[] = services.map((s, i) =>
      delivery.engine(s, stores[i]!, pino({ level: process.env.TEST_LOG ?? 'silent' }), {
        holder: `engine-${i}`,
        scanIntervalMs: 100,
        idlePollMs: 20,
        flushIntervalMs: 50,
        ownerLeaseMs: 3000,
        closeGraceMs: 2000,
      }),
    );
    const closed = new Set<number>();
    let producing = true;
    let watching = true;
    let producer: Promise<void> = Promise.resolve();
    let watcher: Promise<void> = Promise.resolve();

    try {
      const a = services[0]!;
      await a.streams.create({ name: 'orders' }, 'admin');
      for (let i = 0; i < SINKS; i++) {
        await a.sinks.create(
          {
            id: `s${i}`,
            streams: ['orders'],
            start: { from: 'beginning' },
            target: { kind: 'http', url: `${receiver.url}/s${i}` },
          },
          'admin',
        );
      }

      // events keep coming, through every engine's store, for the whole test
      let produced = 0;
      producer = (async () => {
        while (producing) {
          const events = Array.from({ length: 5 }, () => ({ type: 'order.placed', data: { n: produced++ } }));
          await services[produced % 3]!.produce.produce({
            stream: 'orders',
            events: events.map((e) => ({
              ...e,
              id: `e-${e.data.n}`,
              idSupplied: true,
              source: '/test',
              time: new Date().toISOString(),
              producer: null,
              meta: {},
            })),
            producer: null,
          });
          await sleep(30);
        }
      })();

      // no sink is ever run by two engines at once
      let overlap: string | null = null;
      watcher = (async () => {
        while (watching) {
          const held = engines.flatMap((e, i) => (closed.has(i) ? [] : e.owned()));
          const twice = held.find((id, i) => held.indexOf(id) !== i);
          if (twice) overlap = twice;
          await sleep(10);
        }
      })();

      const running = new Set<number>();
      const counts = () => [...running].map((i) => engines[i]!.owned().length).sort((x, y) => y - x);
      const balanced = async (want: number[]) => {
        await until(`sinks held as ${want.join(' + ')}`, () => counts().join() === want.join(), 60_000).catch(
          (err: Error) => {
            throw new Error(`${err.message} (held: ${counts().join(' + ')})`);
          },
        );
      };
      const start = (i: number) => {
        running.add(i);
        engines[i]!.start();
      };

      start(0);
      await balanced([SINKS]);
      start(1);
      await balanced([3, 3]);
      start(2);
      await balanced([2, 2, 2]);
      // a key listing that races the entries' renewals can miss one, so
      // the registry is read until it shows all three
      const enginesListed = async (store: (typeof stores)[number]) =>
        (await store.documents.list(ENGINES_COLLECTION))
          .map((d) => d.key)
          .sort()
          .join();
      let listed = '';
      await until(
        'all three engines registered',
        async () => (listed = await enginesListed(stores[2]!)) === 'engine-0,engine-1,engine-2',
        10_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message} (listed: ${listed})`);
      });

      // the third leaves: its sinks move to the other two, and its registration goes with it
      await engines[2]!.close();
      closed.add(2);
      running.delete(2);
      await balanced([3, 3]);
      await until(
        'the third engine unregistered',
        async () => (listed = await enginesListed(stores[1]!)) === 'engine-0,engine-1',
        10_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message} (listed: ${listed})`);
      });

      producing = false;
      await producer;
      const ids = (path: string) =>
        receiver.requests.filter((r) => r.url === path).map((r) => JSON.parse(r.body) as { id: string });
      await until(
        'every event delivered to every sink',
        () => {
          for (let i = 0; i < SINKS; i++) if (new Set(ids(`/s${i}`).map((e) => e.id)).size < produced) return false;
          return true;
        },
        60_000,
      );
      watching = false;
      await watcher;
      assert.equal(overlap, null, `sink ${overlap} ran on two engines at once`);
      for (let i = 0; i < SINKS; i++) {
        const got = ids(`/s${i}`).map((e) => e.id);
        assert.equal(
          got.length,
          produced,
          `sink s${i}: ${got.length} deliveries of ${produced} events (${got.length - new Set(got).size} twice)`,
        );
      }
    } finally {
      // the loops stop before what they use closes, whatever failed
      producing = false;
      watching = false;
      await Promise.allSettled([producer, watcher]);
      // engines first, then what they use
      for (const [i, e] of engines.entries()) if (!closed.has(i)) await e.close();
      for (const s of stores) await s.close();
      await receiver.close();
      await nats.close();
    }
  });
});
