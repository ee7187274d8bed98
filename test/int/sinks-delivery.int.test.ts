/**
 * Sinks end to end in one process: the real app over a real SQLite store, the delivery engine,
 * and real HTTP receivers that fail on purpose. Retry delays are made small through each
 * sink's own policy, so the tests are quick.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobConsumerName } from '../../src/core/sinks/sink-model.js';
import { verifyWebhook, generateWebhookSecret } from '../../src/delivery/signing.js';
import { startDeliveryApp, until, type DeliveryApp } from '../support/delivery-app.js';
import type { TestApp } from '../support/test-app.js';
import { tempDir } from '../support/resources.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

const FAST_RETRY = { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 50, multiplier: 2, jitter: 'none' };

type Harness = DeliveryApp;

function start(dataDir = tempDir('rivulet-sinks'), allowLoopback = true): Promise<Harness> {
  return startDeliveryApp('sink harness', { dataDir, allowLoopback });
}

async function produce(t: TestApp, stream: string, count: number, from = 0): Promise<void> {
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/streams/${stream}/events`,
    headers: t.admin,
    payload: Array.from({ length: count }, (_, i) => ({ type: 'order.placed', data: { n: from + i } })),
  });
  assert.equal(res.statusCode, 201, res.body);
}

async function createSink(
  t: TestApp,
  body: Record<string, unknown>,
  headers = t.admin,
): Promise<Record<string, unknown>> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/sinks',
    headers,
    payload: { start: { from: 'beginning' }, ...body },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

const bodies = (r: Receiver) => r.requests.map((q) => JSON.parse(q.body) as { seq: number; data: { n: number } });
const distinctSeqs = (r: Receiver) => new Set(bodies(r).map((b) => b.seq));

/**
 * Waits until the receiver has at least `n` requests, then checks it has exactly `n`: a
 * delivery too many fails here, naming what arrived, rather than as a timeout.
 */
async function receivedExactly(r: Receiver, n: number, what: string, timeoutMs?: number): Promise<void> {
  await until(what, () => r.requests.length >= n, timeoutMs);
  assert.equal(
    r.requests.length,
    n,
    `${what}: ${r.requests.length} requests (seqs ${bodies(r)
      .map((b) => b.seq)
      .join(', ')})`,
  );
}

async function sinkView(t: TestApp, id: string) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/sinks/${id}`, headers: t.admin });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as {
    status: string;
    stats: Record<string, number | string | null>;
    lag: { pending: number };
    target: Record<string, unknown>;
    waitingFor: string[];
  };
}

describe('sinks: http target against failing receivers', () => {
  it('delivers every event, signed, and retries a 5xx burst with the same webhook-id', async () => {
    const h = await start();
    const secrets = [generateWebhookSecret(), generateWebhookSecret()];
    const rx = await startReceiver((req, res, n) => {
      res.statusCode = n <= 3 ? 503 : 200;
      res.end();
    });
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await createSink(h.t, {
        id: 'hook',
        streams: ['orders'],
        target: { kind: 'http', url: `${rx.url}/hook`, signing: { secrets } },
        policy: { retry: FAST_RETRY },
      });
      await produce(h.t, 'orders', 5);
      await until('5 distinct deliveries', () => distinctSeqs(rx).size === 5);
      const ok = rx.requests.filter((_, i) => i >= 3);
      for (const q of ok) verifyWebhook({ headers: q.headers, body: q.body, secrets: [secrets[1]!] });
      // the failed attempts and their successful retry carry one id
      const ids = rx.requests.map((q) => q.headers['webhook-id']);
      assert.equal(new Set(ids).size, 5);
      const view = await until('stats flushed', async () => {
        const v = await sinkView(h.t, 'hook');
        return v.stats['delivered'] === 5 ? v : undefined;
      });
      assert.equal(view.stats['retried'], 3);
      assert.equal(view.status, 'running');
      assert.deepEqual((view.target['signing'] as { secrets: string[] }).secrets, ['[redacted]', '[redacted]']);
      const attempts = await until('attempt log', async () => {
        const res = await h.t.app.inject({
          method: 'GET',
          url: '/v1/sinks/hook/attempts?limit=100',
          headers: h.t.admin,
        });
        const list = res.json().attempts as { status: number; outcome: string; attempt: number }[];
        return list.length === 8 ? list : undefined;
      });
      assert.equal(attempts.filter((a) => a.status === 503).length, 3);
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('honours Retry-After on 429 and retries resets and timeouts', async () => {
    const h = await start();
    const rx = await startReceiver((req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '1' }).end();
      } else if (n === 2) {
        req.headers['x'] = 'reset';
        res.socket?.destroy();
      } else if (n === 3) {
        // never answers: the sink's timeout cuts it
      } else {
        res.end('ok');
      }
    });
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await createSink(h.t, {
        id: 'flaky',
        streams: ['orders'],
        target: { kind: 'http', url: rx.url },
        policy: { timeoutMs: 200, retry: { ...FAST_RETRY, maxAttempts: 6 } },
      });
      await produce(h.t, 'orders', 1);
      await until('a success', () => rx.requests.length >= 4);
      const [first, second] = rx.requests;
      assert.ok(second!.at - first!.at >= 950, `Retry-After: 1 was not honoured (${second!.at - first!.at} ms)`);
      assert.equal(new Set(rx.requests.map((q) => q.headers['webhook-id'])).size, 1);
      const attempts = await until('4 attempts logged', async () => {
        const res = await h.t.app.inject({
          method: 'GET',
          url: '/v1/sinks/flaky/attempts?stream=orders&seq=1',
          headers: h.t.admin,
        });
        const list = res.json().attempts as {
          attempt: number;
          status: number | null;
          error: string | null;
          outcome: string;
        }[];
        return list.length === 4 ? list : undefined;
      });
      const oldestFirst = attempts.reverse();
      assert.deepEqual(
        oldestFirst.map((a) => a.attempt),
        [1, 2, 3, 4],
      );
      assert.equal(oldestFirst[0]!.status, 429);
      assert.equal(oldestFirst[3]!.outcome, 'success');
      assert.match(oldestFirst[2]!.error ?? '', /Timeout|Abort/i);
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('dead-letters a 410 at once and after max attempts, then retries dead letters', async () => {
    const h = await start();
    let healthy = false;
    const rx = await startReceiver((req, res) => {
      const n = (JSON.parse(req.body) as { data: { n: number } }).data.n;
      res.statusCode = healthy ? 204 : n === 0 ? 410 : 500;
      res.end();
    });
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await createSink(h.t, {
        id: 'dl',
        streams: ['orders'],
        target: { kind: 'http', url: rx.url },
        policy: { retry: { ...FAST_RETRY, maxAttempts: 3 } },
      });
      await produce(h.t, 'orders', 2);
      const dlq = await until('2 dead letters', async () => {
        const res = await h.t.app.inject({ method: 'GET', url: '/v1/streams/orders.dlq/events', headers: h.t.admin });
        const events =
          res.statusCode === 200 ? (res.json().events as { meta: { deadLetter: Record<string, unknown> } }[]) : [];
        return events.length === 2 ? events : undefined;
      });
      const byStatus = Object.fromEntries(dlq.map((e) => [e.meta.deadLetter['status'], e.meta.deadLetter]));
      assert.equal(byStatus[410]!['attempts'], 1);
      assert.equal(byStatus[410]!['reason'], 'permanent');
      assert.equal(byStatus[500]!['attempts'], 3);
      assert.equal(byStatus[500]!['reason'], 'max-attempts');
      assert.equal(rx.requests.length, 4);
      const view = await until('failing status', async () => {
        const v = await sinkView(h.t, 'dl');
        return v.stats['deadLettered'] === 2 && v.lag.pending === 0 ? v : undefined;
      });
      assert.equal(view.status, 'failing');
      assert.equal(view.lag.pending, 0);

      healthy = true;
      const retry = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks/dl/dead-letters/retry',
        headers: h.t.admin,
      });
      assert.equal(retry.statusCode, 202, retry.body);
      await receivedExactly(rx, 6, 'both redelivered');
      const ids = new Set(rx.requests.map((q) => q.headers['webhook-id']));
      assert.equal(ids.size, 2, 'a retried dead letter keeps its delivery id');
      await until('the retry job finishes', async () =>
        (await h.t.services.sinks.get('dl')).jobs.length === 0 ? true : undefined,
      );
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it("counts a retry policy's maxAgeMs from the first delivery, across a restart", async () => {
    const dataDir = tempDir('rivulet-sinks-max-age');
    let h = await start(dataDir);
    const rx = await startReceiver((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      // never out of attempts: only the age can end it
      await createSink(h.t, {
        id: 'aged',
        streams: ['orders'],
        target: { kind: 'http', url: rx.url },
        policy: {
          retry: {
            maxAttempts: 1000,
            maxAgeMs: 2000,
            initialDelayMs: 100,
            maxDelayMs: 100,
            multiplier: 1,
            jitter: 'none',
          },
        },
      });
      await produce(h.t, 'orders', 1);
      await until('a few failed attempts', () => rx.requests.length >= 12);
      // stopped and started again, as a restart (or another process taking the sink over) would
      await h.close();
      const beforeRestart = rx.requests.length;
      const usedMs = rx.requests.at(-1)!.at - rx.requests[0]!.at;
      h = await start(dataDir);
      // read from the store: the dead-letter stream is created while this polls
      const dlq = await until('the event dead-lettered', async () => {
        if ((await h.t.store.events.stats('orders.dlq').catch(() => null))?.count !== 1) return undefined;
        for await (const e of h.t.store.events.read('orders.dlq', { limit: 1 })) return e;
        return undefined;
      });
      assert.equal((dlq.meta.deadLetter as Record<string, unknown>)['reason'], 'max-age');
      // a clock started again at the restart would retry for 2 s after it (at least 1,900 ms from its
      // first attempt to its last, one 100 ms retry delay short). Counted from the first delivery,
      // only what is left of the 2 s remains: 2,000 − usedMs (≥ 1,100 ms used by 12 attempts), so
      // the margin below the 1,800 ms bound is usedMs − 200 ms: room for timers firing late on a busy machine
      const afterMs = rx.requests.length > beforeRestart ? rx.requests.at(-1)!.at - rx.requests[beforeRestart]!.at : 0;
      assert.ok(
        afterMs < 1800,
        `after the restart attempts went on for ${afterMs} ms, with ${usedMs} ms of maxAgeMs (2000) used before it`,
      );
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('a replay job delivers what a stopped loop still held, even after it has seen past its end', async () => {
    const h = await start();
    const rx = await startReceiver();
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await createSink(h.t, {
        id: 'rj',
        streams: ['orders'],
        target: { kind: 'http', url: rx.url },
        policy: { ordering: 'ordered' },
      });
      await produce(h.t, 'orders', 4);
      await receivedExactly(rx, 4, '4 delivered');
      // paused, the job is planned but no loop runs it yet
      await h.t.app.inject({ method: 'POST', url: '/v1/sinks/rj/pause', headers: h.t.admin });
      await until('engine let go', () => !h.engine.owned().includes('rj'));
      const replay = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks/rj/replay',
        headers: h.t.admin,
        payload: { stream: 'orders', fromSeq: 1, toSeq: 2 },
      });
      assert.equal(replay.statusCode, 202, replay.body);
      const jobId = (replay.json() as { job: { id: string } }).job.id;
      // as a loop that stopped without giving its leases back (a crash) would leave them
      const held = await h.t.services.consumers.receive('orders', jobConsumerName('rj', jobId), {
        max: 2,
        leaseMs: 1500,
        clientId: 'stopped-loop',
      });
      assert.deepEqual(
        held.map((d) => d.event.seq),
        [1, 2],
      );
      await h.t.app.inject({ method: 'POST', url: '/v1/sinks/rj/resume', headers: h.t.admin });
      // the job's loop first sees only seqs 3 and 4, past its end; 1 and 2 come back when the lease runs out
      await receivedExactly(rx, 6, 'replayed 1..2');
      assert.deepEqual(
        bodies(rx)
          .slice(4)
          .map((b) => b.seq)
          .sort(),
        [1, 2],
      );
      await until('the replay job finishes', async () =>
        (await h.t.services.sinks.get('rj')).jobs.length === 0 ? true : undefined,
      );
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('pauses, resumes, seeks and replays', async () => {
    const h = await start();
    const rx = await startReceiver();
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await createSink(h.t, {
        id: 'ctl',
        streams: ['orders'],
        target: { kind: 'http', url: rx.url },
        policy: { ordering: 'ordered' },
      });
      await produce(h.t, 'orders', 3);
      await receivedExactly(rx, 3, '3 delivered');
      assert.deepEqual(
        bodies(rx).map((b) => b.seq),
        [1, 2, 3],
      );

      const paused = await h.t.app.inject({ method: 'POST', url: '/v1/sinks/ctl/pause', headers: h.t.admin });
      assert.equal(paused.json().status, 'paused');
      await until('engine let go', () => !h.engine.owned().includes('ctl'));
      await produce(h.t, 'orders', 2, 3);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(rx.requests.length, 3, 'a paused sink delivers nothing');
      assert.equal((await sinkView(h.t, 'ctl')).lag.pending, 2);
      await h.t.app.inject({ method: 'POST', url: '/v1/sinks/ctl/resume', headers: h.t.admin });
      await receivedExactly(rx, 5, 'resumed');

      const seek = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks/ctl/seek',
        headers: h.t.admin,
        payload: { from: 'seq', seq: 4 },
      });
      assert.equal(seek.statusCode, 200, seek.body);
      await receivedExactly(rx, 7, 'seq 4 and 5 again');
      assert.deepEqual(
        bodies(rx)
          .slice(5)
          .map((b) => b.seq),
        [4, 5],
      );

      const replay = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks/ctl/replay',
        headers: h.t.admin,
        payload: { stream: 'orders', fromSeq: 1, toSeq: 2 },
      });
      assert.equal(replay.statusCode, 202, replay.body);
      await receivedExactly(rx, 9, 'replayed 1..2');
      assert.deepEqual(
        bodies(rx)
          .slice(7)
          .map((b) => b.seq)
          .sort(),
        [1, 2],
      );
      await until('the replay job finishes', async () =>
        (await h.t.services.sinks.get('ctl')).jobs.length === 0 ? true : undefined,
      );
      assert.equal(rx.requests.length, 9);
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('waits for source streams that do not exist yet and delivers each from its beginning once it appears', async () => {
    const h = await start();
    const rx = await startReceiver();
    const fromStream = (name: string) =>
      rx.requests
        .map((q) => JSON.parse(q.body) as { stream: string; seq: number })
        .filter((b) => b.stream === name)
        .map((b) => b.seq);
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      const input = {
        id: 'wait',
        streams: ['orders', 'later'],
        target: { kind: 'http', url: rx.url },
        policy: { ordering: 'ordered' as const },
        start: { from: 'beginning' as const },
      };
      // without waiting, a missing source is refused as before
      await assert.rejects(h.t.services.sinks.create(input, 'admin'), /stream "later" does not exist/);
      const created = await h.t.services.sinks.create(input, 'admin', { waitForStreams: true });
      assert.deepEqual(created.waitingFor, ['later']);
      assert.equal(created.status, 'waiting');
      await produce(h.t, 'orders', 2);
      await receivedExactly(rx, 2, 'the existing source is delivered meanwhile');
      const waiting = await sinkView(h.t, 'wait');
      assert.equal(waiting.status, 'waiting');
      assert.deepEqual(waiting.waitingFor, ['later']);

      // the stream appears, with events at once: the sink reads it from seq 1
      const made = await h.t.app.inject({
        method: 'POST',
        url: '/v1/streams',
        headers: h.t.admin,
        payload: { name: 'later' },
      });
      assert.equal(made.statusCode, 201, made.body);
      await produce(h.t, 'later', 3);
      await receivedExactly(rx, 5, 'the new stream delivered');
      assert.deepEqual(fromStream('later'), [1, 2, 3]);
      const running = await until('no longer waiting', async () => {
        const view = await sinkView(h.t, 'wait');
        return view.waitingFor.length === 0 ? view : undefined;
      });
      assert.equal(running.status, 'running');

      // a source added by a change waits too; events written while the sink was paused are not missed
      const doc = await h.t.services.sinks.getDocument('wait');
      const changed = await h.t.services.sinks.update('wait', { streams: ['orders', 'later', 'more'] }, doc.version, {
        waitForStreams: true,
      });
      assert.deepEqual(changed.waitingFor, ['more']);
      await h.t.services.sinks.pause('wait');
      await until('engine let go', () => !h.engine.owned().includes('wait'));
      await h.t.services.streams.create({ name: 'more' }, 'admin');
      await produce(h.t, 'more', 2);
      await h.t.services.sinks.resume('wait');
      await receivedExactly(rx, 7, 'the stream made while paused delivered');
      assert.deepEqual(fromStream('more'), [1, 2]);
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('a restart mid-delivery loses nothing and keeps the ids', async () => {
    const dataDir = tempDir('rivulet-sinks-restart');
    let h = await start(dataDir);
    let slow = true;
    const rx = await startReceiver((_req, res) => {
      setTimeout(() => res.end('ok'), slow ? 30 : 0);
    });
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await createSink(h.t, {
        id: 'rs',
        streams: ['orders'],
        target: { kind: 'http', url: rx.url },
        policy: { concurrency: 4, timeoutMs: 1000 },
      });
      await produce(h.t, 'orders', 60);
      await until('some delivered', () => rx.requests.length >= 10);
      await h.close();
      const before = rx.requests.length;
      assert.ok(distinctSeqs(rx).size < 60, 'the restart came too late to be mid-delivery');
      slow = false;
      h = await start(dataDir);
      await until('all 60 delivered', () => distinctSeqs(rx).size === 60);
      assert.ok(rx.requests.length >= 60 && before > 0);
      const idBySeq = new Map<number, string>();
      for (const q of rx.requests) {
        const seq = (JSON.parse(q.body) as { seq: number }).seq;
        const id = String(q.headers['webhook-id']);
        assert.equal(idBySeq.get(seq) ?? id, id, `seq ${seq} was delivered under two ids`);
        idBySeq.set(seq, id);
      }
    } finally {
      await rx.close();
      await h.close();
    }
  });
});

describe('sinks: stream target, access and guard', () => {
  it('writes filtered, transformed events into another stream without duplicates', async () => {
    const h = await start();
    try {
      await h.t.services.streams.create({ name: 'raw' }, 'admin');
      await h.t.services.streams.create({ name: 'processed' }, 'admin');
      await createSink(h.t, {
        id: 'pipe',
        streams: ['raw'],
        filter: { condition: 'data.n % 2 = 0' },
        transform: '{ "double": data.n * 2 }',
        target: { kind: 'stream', stream: 'processed' },
      });
      await produce(h.t, 'raw', 6);
      const events = await until('3 processed', async () => {
        const res = await h.t.app.inject({ method: 'GET', url: '/v1/streams/processed/events', headers: h.t.admin });
        const list = res.json().events as { data: { double: number }; meta: { origin: { seq: number } } }[];
        return list.length === 3 ? list : undefined;
      });
      assert.deepEqual(
        events.map((e) => e.data.double),
        [0, 4, 8],
      );
      assert.deepEqual(
        events.map((e) => e.meta.origin.seq),
        [1, 3, 5],
      );
      // replaying the same range writes nothing new: ids derive from (sink, stream, seq)
      await h.t.services.sinks.replay('pipe', 'raw', 1, 6);
      await until('the replay job finishes', async () =>
        (await h.t.services.sinks.get('pipe')).jobs.length === 0 ? true : undefined,
      );
      const after = await h.t.app.inject({ method: 'GET', url: '/v1/streams/processed/events', headers: h.t.admin });
      assert.equal(after.json().events.length, 3);
      const loop = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: h.t.admin,
        payload: { streams: ['raw'], target: { kind: 'stream', stream: 'raw' } },
      });
      assert.equal(loop.statusCode, 400);
    } finally {
      await h.close();
    }
  });

  it("checks access, hides others' sinks, redacts secrets and refuses guarded URLs", async () => {
    const h = await start(undefined, false);
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await h.t.services.streams.create({ name: 'other' }, 'admin');
      const alice = await h.t.keyWith(['manage:orders'], 'alice');
      const bob = await h.t.keyWith(['manage:orders'], 'bob');
      const forbidden = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: alice,
        payload: { streams: ['other'], target: { kind: 'http', url: 'https://example.com/' } },
      });
      assert.equal(forbidden.statusCode, 403);
      const noProduce = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: alice,
        payload: { streams: ['orders'], target: { kind: 'stream', stream: 'other' } },
      });
      assert.equal(noProduce.statusCode, 403);
      const guarded = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: alice,
        payload: { streams: ['orders'], target: { kind: 'http', url: 'http://127.0.0.1:9/x' } },
      });
      assert.equal(guarded.statusCode, 400);
      assert.equal(guarded.json().code, 'TARGET_URL_FORBIDDEN');
      const metadata = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: alice,
        payload: { streams: ['orders'], target: { kind: 'http', url: 'http://169.254.169.254/latest' } },
      });
      assert.equal(metadata.json().code, 'TARGET_URL_FORBIDDEN');
      const bad = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: alice,
        payload: { streams: ['orders'], target: { kind: 'http', url: 'https://example.com/{id}' } },
      });
      assert.equal(bad.statusCode, 400);
      const badKind = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: alice,
        payload: { streams: ['orders'], target: { kind: 'ftp' } },
      });
      assert.equal(badKind.statusCode, 400);
      const created = await createSink(
        h.t,
        {
          id: 'mine',
          streams: ['orders'],
          state: 'paused',
          target: {
            kind: 'http',
            url: 'https://example.com/hook',
            basic_auth: { user: 'u', pw: 'hunter2' },
            headers: { 'x-api-key': 'k-secret' },
          },
        },
        alice,
      );
      assert.doesNotMatch(JSON.stringify(created), /hunter2|k-secret/);
      assert.equal((await h.t.app.inject({ method: 'GET', url: '/v1/sinks/mine', headers: bob })).statusCode, 404);
      assert.equal((await h.t.app.inject({ method: 'GET', url: '/v1/sinks', headers: bob })).json().sinks.length, 0);
      assert.equal((await h.t.app.inject({ method: 'GET', url: '/v1/sinks', headers: alice })).json().sinks.length, 1);
      const dup = await h.t.app.inject({
        method: 'POST',
        url: '/v1/sinks',
        headers: alice,
        payload: { id: 'mine', streams: ['orders'], target: { kind: 'http', url: 'https://example.com/' } },
      });
      assert.equal(dup.statusCode, 409);
      const patched = await h.t.app.inject({
        method: 'PATCH',
        url: '/v1/sinks/mine',
        headers: alice,
        payload: { policy: { concurrency: 2 } },
      });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().policy.concurrency, 2);
      assert.equal((await h.t.app.inject({ method: 'DELETE', url: '/v1/sinks/mine', headers: alice })).statusCode, 204);
      assert.equal((await h.t.app.inject({ method: 'GET', url: '/v1/sinks/mine', headers: alice })).statusCode, 404);
    } finally {
      await h.close();
    }
  });
});
