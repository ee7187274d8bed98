/**
 * Reads on the nats store go by batches of one short-lived consumer, not by one message-get
 * per event. A second connection listens to the JetStream API subjects and counts what each
 * read asks the server; the answers are checked event by event as well: pages larger than one
 * batch, pages across deleted and purged seqs, a type filter, consumer receives, a read
 * stopped early, and decoding that gives the event loop a turn between slices.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { StoredEvent } from '../../src/kernel/envelope.js';
import { ReadService } from '../../src/core/events/read-events.js';
import { renderEvent } from '../../src/http/routes/events-routes.js';
import { newEvent } from '../conformance/store/store-suite.js';
import { assertDataText, assertTexts } from '../conformance/store/page-texts.js';
import type { NatsStore } from '../../src/store/nats/nats-store.js';
import { NatsPageReader, type PageQuery } from '../../src/store/nats/nats-page-reader.js';
import type { RawMessage } from '../../src/store/nats/nats-event-codec.js';
import { startNatsServer } from '../support/nats-server.js';
import { openNatsTestStore } from '../support/nats-store.js';

const nats = await startNatsServer();
let store: NatsStore;
let spy: NatsConnection;
let jsm: JetStreamManager;
const seen: { subject: string; body: string }[] = [];

before(async () => {
  spy = await connect({ servers: nats.servers.split(',') });
  jsm = await jetstreamManager(spy);
  spy.subscribe('$JS.API.>', {
    callback: (_err, msg) => {
      seen.push({ subject: msg.subject, body: msg.string() });
    },
  });
  await spy.flush();
});
after(async () => {
  await spy.close();
  await nats.close();
});

/** each test on a store of its own (a fresh namespace), closed at its end */
function withStore(fn: () => Promise<void>): () => Promise<void> {
  return async () => {
    store = await openNatsTestStore(nats.servers);
    try {
      await fn();
    } finally {
      await store.close();
    }
  };
}

const jsStream = (s: string) => store.names.jsStream(s);

async function createStream(name: string): Promise<void> {
  const now = new Date().toISOString();
  await store.streams.create({
    name,
    owner: 'test',
    description: '',
    retention: {},
    exclusiveProducer: false,
    options: {},
    createdAt: now,
    updatedAt: now,
  });
}

async function fill(stream: string, count: number, type: (i: number) => string = () => 't'): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    const events = Array.from({ length: Math.min(500, count - i) }, (_, k) => newEvent(type(i + k), { n: i + k + 1 }));
    await store.events.append({ stream, events, producer: null });
  }
}

async function collect(it: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** the JetStream API requests about `stream` made while `fn` ran, by kind */
async function apiCalls<T>(
  stream: string,
  fn: () => Promise<T>,
): Promise<{ result: T; creates: string[]; pulls: number; gets: number }> {
  await spy.flush();
  const from = seen.length;
  const result = await fn();
  await spy.flush();
  const mine = seen
    .slice(from)
    .filter((c) => c.subject.endsWith(`.${jsStream(stream)}`) || c.subject.includes(`.${jsStream(stream)}.`));
  return {
    result,
    creates: mine.filter((c) => c.subject.startsWith('$JS.API.CONSUMER.CREATE.')).map((c) => c.body),
    pulls: mine.filter((c) => c.subject.startsWith('$JS.API.CONSUMER.MSG.NEXT.')).length,
    gets: mine.filter(
      (c) => c.subject.startsWith('$JS.API.STREAM.MSG.GET.') || c.subject.startsWith('$JS.API.DIRECT.GET.'),
    ).length,
  };
}

const seqs = (events: StoredEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('nats store: reads by batches', () => {
  it(
    'a page larger than one batch is one consumer and a few pulls, every event intact and in order',
    withStore(async () => {
      await createStream('big');
      await fill('big', 2600);
      const { result, creates, pulls, gets } = await apiCalls('big', () =>
        collect(store.events.read('big', { afterSeq: 50, limit: 2500 })),
      );
      assert.deepEqual(seqs(result), range(51, 2550));
      assert.deepEqual(
        result.map((e) => (e.data as { n: number }).n),
        range(51, 2550),
      );
      assert.equal(result[0]!.typeSeq, 51);
      assert.ok(result.every((e) => e.stream === 'big' && e.type === 't' && !Number.isNaN(Date.parse(e.received))));
      assert.equal(creates.length, 1, 'one consumer for the read');
      // 100 first, then up to 250 a pull
      assert.ok(pulls >= 10 && pulls <= 12, `2,500 events in ${pulls} pulls`);
      assert.equal(gets, 0, 'no event read by a message get');
      const byGet = await store.events.getBySeq('big', 777);
      assert.deepEqual(
        result.find((e) => e.seq === 777),
        byGet,
        'the batched read answers what a get answers',
      );
    }),
  );

  it(
    'pages across purged and deleted seqs answer exactly the stored events',
    withStore(async () => {
      await createStream('holes');
      await fill('holes', 1200);
      await jsm.streams.purge(jsStream('holes'), { seq: 101 }); // seqs 1..100 gone
      const deleted = [150, 151, 152, 400, ...range(600, 699), 1199];
      for (const seq of deleted) await jsm.streams.deleteMessage(jsStream('holes'), seq, false);
      const stored = range(101, 1200).filter((s) => !deleted.includes(s));
      assert.deepEqual(seqs(await collect(store.events.read('holes', { limit: 5000 }))), stored);
      // pages of 100 walked with `afterSeq`, starting inside holes too
      const walked: number[] = [];
      for (let after = 0; ;) {
        const page = await collect(store.events.read('holes', { afterSeq: after, limit: 100 }));
        if (page.length === 0) break;
        assert.ok(
          page.length === 100 || walked.length + page.length === stored.length,
          `a short page (${page.length}) before the end`,
        );
        walked.push(...seqs(page));
        after = page.at(-1)!.seq;
      }
      assert.deepEqual(walked, stored);
      assert.deepEqual(seqs(await collect(store.events.read('holes', { afterSeq: 599, limit: 3 }))), [700, 701, 702]);
      assert.deepEqual(seqs(await collect(store.events.read('holes', { afterSeq: 1198, limit: 10 }))), [1200]);
      assert.deepEqual(seqs(await collect(store.events.read('holes', { afterSeq: 1200, limit: 10 }))), []);
    }),
  );

  it(
    'a type filter is applied by the server, across more than one batch; several types are filtered here',
    withStore(async () => {
      await createStream('typed');
      await fill('typed', 3000, (i) => (i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b' : 'c'));
      const { result, creates, gets } = await apiCalls('typed', () =>
        collect(store.events.read('typed', { types: ['a'], limit: 900 })),
      );
      assert.deepEqual(
        seqs(result),
        range(0, 899).map((k) => 3 * k + 1),
      );
      assert.deepEqual(
        result.map((e) => e.typeSeq),
        range(1, 900),
      );
      assert.ok(result.every((e) => e.type === 'a'));
      assert.equal(creates.length, 1);
      assert.equal(
        (JSON.parse(creates[0]!) as { config: { filter_subject: string } }).config.filter_subject,
        store.names.typeFilter('typed', 'a'),
      );
      assert.equal(gets, 0);
      const two = await collect(store.events.read('typed', { types: ['b', 'c'], afterSeq: 1000, limit: 1500 }));
      assert.deepEqual(
        seqs(two),
        range(1001, 3000)
          .filter((s) => (s - 1) % 3 !== 0)
          .slice(0, 1500),
      );
    }),
  );

  it(
    'an empty read asks for no batch',
    withStore(async () => {
      await createStream('empty');
      const { result, creates, pulls } = await apiCalls('empty', () =>
        collect(store.events.read('empty', { limit: 1000 })),
      );
      assert.deepEqual(result, []);
      assert.equal(creates.length, 1);
      assert.equal(pulls, 0);
    }),
  );

  it(
    'a read stopped early and a finished read leave no consumer behind',
    withStore(async () => {
      await createStream('early');
      await fill('early', 1500);
      for await (const e of store.events.read('early', { limit: 1500 })) if (e.seq === 10) break;
      await collect(store.events.read('early', { afterSeq: 100, limit: 1000 }));
      let left = -1;
      for (let i = 0; i < 100 && left !== 0; i++) {
        left = (await jsm.streams.info(jsStream('early'))).state.consumer_count;
        if (left !== 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(left, 0);
    }),
  );

  it(
    'consumer receives: fresh events and redeliveries come by batches',
    withStore(async () => {
      await createStream('recv');
      await fill('recv', 1500);
      await store.consumers.create(
        { stream: 'recv', name: 'c', types: [], leaseMs: 60_000, maxDeliveries: 5, deadLetterStream: null },
        { from: 'beginning' },
        Date.now(),
      );
      const first = await apiCalls('recv', () =>
        store.consumers.receive('recv', 'c', { max: 1200, leaseMs: 60_000, clientId: null, nowMs: Date.now() }),
      );
      assert.deepEqual(
        first.result.deliveries.map((d) => d.event.seq),
        range(1, 1200),
      );
      assert.equal(first.gets, 0);
      assert.equal(first.creates.length, 1);
      const back = first.result.deliveries.slice(0, 300).map((d) => d.leaseToken);
      assert.ok((await store.consumers.release('recv', 'c', back, Date.now())).every((o) => o === 'ok'));
      const again = await apiCalls('recv', () =>
        store.consumers.receive('recv', 'c', { max: 400, leaseMs: 60_000, clientId: null, nowMs: Date.now() }),
      );
      assert.deepEqual(
        again.result.deliveries.map((d) => d.event.seq),
        [...range(1, 300), ...range(1201, 1300)],
      );
      assert.deepEqual(
        again.result.deliveries.slice(0, 300).map((d) => d.deliveries),
        Array(300).fill(1),
      );
      assert.equal(again.gets, 0, 'redeliveries read by a batch, not one get each');
    }),
  );

  it(
    'a read that a lagging replica ends early gets the rest from the stream leader',
    withStore(async () => {
      await createStream('lag');
      await fill('lag', 30, (i) => (i % 2 === 0 ? 'even' : 'odd'));
      await store.consumers.create(
        { stream: 'lag', name: 'c', types: [], leaseMs: 60_000, maxDeliveries: 5, deadLetterStream: null },
        { from: 'beginning' },
        Date.now(),
      );
      await store.consumers.create(
        { stream: 'lag', name: 'typed', types: ['odd'], leaseMs: 60_000, maxDeliveries: 5, deadLetterStream: null },
        { from: 'beginning' },
        Date.now(),
      );
      // the consumer a read creates may sit on a replica that has not applied the last appends:
      // this one shows nothing past seq 20, as such a replica would
      class LaggingReplica extends NatsPageReader {
        override async *batches(q: PageQuery): AsyncIterable<RawMessage[]> {
          for await (const batch of super.batches(q)) {
            const shown = batch.filter((m) => m.seq <= 20);
            if (shown.length > 0) yield shown;
            if (shown.length < batch.length) return;
          }
        }
      }
      const lagging = new LaggingReplica(spy);
      lagging.start();
      const log = store.events as unknown as { pages: NatsPageReader };
      const pages = log.pages;
      log.pages = lagging;
      try {
        assert.deepEqual(seqs(await collect(store.events.read('lag', { limit: 100 }))), range(1, 30));
        assert.deepEqual(
          seqs(await collect(store.events.read('lag', { types: ['odd'], limit: 100 }))),
          range(1, 15).map((n) => 2 * n),
        );
        const receive = (name: string) =>
          store.consumers.receive('lag', name, { max: 100, leaseMs: 60_000, clientId: null, nowMs: Date.now() });
        assert.deepEqual(
          (await receive('c')).deliveries.map((d) => d.event.seq),
          range(1, 30),
        );
        assert.deepEqual(
          (await receive('typed')).deliveries.map((d) => d.event.seq),
          range(1, 15).map((n) => 2 * n),
        );
      } finally {
        log.pages = pages;
        lagging.stop();
      }
    }),
  );

  it(
    'decoding gives the event loop a turn at least every 64 events',
    withStore(async () => {
      await createStream('turns');
      await fill('turns', 2000);
      let turns = 0;
      let stop = false;
      const tick = () => {
        turns++;
        if (!stop) setImmediate(tick);
      };
      setImmediate(tick);
      let run = 0;
      let longest = 0;
      let lastTurns = -1;
      try {
        for await (const e of store.events.read('turns', { limit: 2000 })) {
          run = turns === lastTurns ? run + 1 : 1;
          lastTurns = turns;
          longest = Math.max(longest, run);
          assert.ok(e.seq > 0);
        }
      } finally {
        stop = true;
      }
      assert.ok(longest <= 64, `${longest} events decoded without a turn of the event loop`);
    }),
  );
  it(
    'reads whole pages on a reader thread: their messages never reach the connection that carries the appends',
    withStore(async () => {
      await createStream('threaded');
      await fill('threaded', 3000);
      assert.equal(store.capabilities.eventJson, true);
      // the store's own connection (private: what this test is about is which one carries the page)
      const own = (store as unknown as { nc: NatsConnection }).nc;
      const before = own.stats().inBytes;
      let bytes = 0;
      for await (const slice of store.events.readJson!('threaded', { limit: 3000 })) bytes += slice.bytes.byteLength;
      const texts = await store.events.readTexts!(
        'threaded',
        { afterSeq: 100, limit: 1000 },
        { maxBytes: 1 << 20, types: false },
      );
      const data = await store.events.readData!('threaded', { afterSeq: 2000, limit: 1000 }, 1 << 20);
      assert.equal(texts.seqs.length, 1000);
      assert.equal(data.count, 1000);
      const stats = store.readerStats();
      assert.equal(stats?.threads, 1);
      assert.ok((stats?.jobs ?? 0) >= 3, `${stats?.jobs} jobs on the reader thread`);
      const arrived = own.stats().inBytes - before;
      assert.ok(bytes > 100_000, `a page of ${bytes} bytes`);
      assert.ok(
        arrived < bytes / 10,
        `${arrived} bytes arrived on the appends' connection while pages of ${bytes} were read`,
      );
      // the same reads on the event loop's connection, for contrast: the check above can fail
      const reads = await collect(store.events.read('threaded', { limit: 3000 }));
      assert.equal(reads.length, 3000);
      assert.ok(
        own.stats().inBytes - before - arrived > bytes / 2,
        'a read on the event loop arrives on its connection',
      );
    }),
  );
  it('without reader threads, pages are written on the event loop from decoded events, the same bytes', async () => {
    const threaded = await openNatsTestStore(nats.servers);
    const plain = await openNatsTestStore(nats.servers, threaded.names.prefix, 1, { readerThreads: 0 });
    try {
      assert.equal(plain.capabilities.eventJson, false);
      store = threaded;
      await createStream('plain');
      await fill('plain', 700, (i) => (i % 2 === 0 ? 'even' : 'odd'));
      for (const request of [{ limit: 700 }, { afterSeq: 99, types: ['odd'], limit: 300 }]) {
        const text = async (s: NatsStore) => {
          const parts: string[] = [];
          for await (const slice of new ReadService(s).readJson('plain', request))
            parts.push(Buffer.from(slice.bytes).toString('utf8'));
          return parts.join(',');
        };
        const expected = (await collect(plain.events.read('plain', request)))
          .map((e) => JSON.stringify(renderEvent(e)))
          .join(',');
        assert.equal(await text(plain), expected);
        assert.equal(await text(threaded), expected);
        // the store's own page calls answer alike with or without the thread (the Durable Streams
        // mount and live backlogs call them on any store that has them)
        for (const s of [plain, threaded]) {
          await assertDataText(s, 'plain', request, 2_000);
          await assertTexts(s, 'plain', request, 5_000);
        }
      }
    } finally {
      await plain.close();
      await threaded.close();
    }
  });
});
