/**
 * Appends announced to the other processes of a cluster: two nats stores on one namespace of a
 * real nats-server, as two Rivulet processes. An announcement waits for the next chain's
 * socket write or a short timer (append-announcer.ts); a process never hears its own back.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { newEvent, streamRecord } from '../conformance/store/store-suite.js';
import { AppendAnnouncer } from '../../src/store/nats/append-announcer.js';
import { NatsNames } from '../../src/store/nats/nats-names.js';
import { until } from '../support/delivery-app.js';
import { startNatsServer } from '../support/nats-server.js';
import { freshNamespace, openSharedNatsTestStores } from '../support/nats-store.js';

const nats = await startNatsServer();
after(() => nats.close());

test('the other process hears every stream reach its last seq; the writer hears each append once, from itself', async () => {
  const [a, b] = await openSharedNatsTestStores(nats.servers, 2);
  try {
    await a.streams.create(streamRecord('x'));
    await a.streams.create(streamRecord('y'));
    const heardByA: [string, number][] = [];
    const heardByB: [string, number][] = [];
    const stopA = a.events.watch((s, seq) => heardByA.push([s, seq]));
    const stopB = b.events.watch((s, seq) => heardByB.push([s, seq]));

    // one client sending one event at a time, alternating streams: each announcement rides with
    // the next append; the last of each stream goes out on the timer
    for (let i = 0; i < 20; i++) {
      await a.events.append({ stream: i % 2 ? 'y' : 'x', events: [newEvent('t', { i })], producer: null });
    }
    const lastB = (s: string) => Math.max(0, ...heardByB.filter(([t]) => t === s).map(([, seq]) => seq));
    await until('process B to hear x and y at 10', () => lastB('x') === 10 && lastB('y') === 10);

    // B's seqs per stream only grow
    for (const s of ['x', 'y']) {
      const seqs = heardByB.filter(([t]) => t === s).map(([, seq]) => seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((p, q) => p - q),
        `B heard ${s} in order`,
      );
    }

    // A heard each of its appends once, when it committed, and nothing of its own came back
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      heardByA,
      Array.from({ length: 20 }, (_, i) => [i % 2 ? 'y' : 'x', Math.floor(i / 2) + 1]),
    );
    stopA();
    stopB();
  } finally {
    await a.close();
    await b.close();
  }
});

test('an announcement waits for the next flush or the timer, and a stream announced twice meanwhile goes out once, at its highest seq', async () => {
  const names = new NatsNames(freshNamespace());
  const publisher = await connect({ servers: nats.servers.split(',') });
  const listener = await connect({ servers: nats.servers.split(',') });
  try {
    const heard: [string, string][] = [];
    listener.subscribe(names.notifyAll(), {
      callback: (_err, m) => {
        heard.push([m.subject, m.string()]);
      },
    });
    await listener.flush();

    // a timer far away: only flush() can send
    const held = new AppendAnnouncer(publisher, names, 60_000);
    held.announce('s1', 3);
    held.announce('s1', 5);
    held.announce('s1', 4); // an earlier commit answered late: the higher seq stands
    held.announce('s2', 1);
    await publisher.flush();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(heard, [], 'nothing leaves before the flush');
    held.flush();
    await until('the flushed announcements', () => heard.length === 2);
    assert.deepEqual(heard, [
      [names.notifySubject('s1'), '5'],
      [names.notifySubject('s2'), '1'],
    ]);
    held.stop();

    // no chain follows: the timer sends it
    const timed = new AppendAnnouncer(publisher, names, 20);
    timed.announce('s3', 7);
    await until('the timer to send it', () => heard.length === 3);
    assert.deepEqual(heard[2], [names.notifySubject('s3'), '7']);
    timed.stop();
  } finally {
    await publisher.close();
    await listener.close();
  }
});
