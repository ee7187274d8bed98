/**
 * Live subscriptions with real clients over a listening app: `eventsource` for SSE (and its
 * own reconnect with Last-Event-ID), `ws` for WebSocket, a raw socket for a client that
 * never reads.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import pino from 'pino';
import { WebSocket } from 'ws';
import { buildTestApp, type TestApp, type TestAppOptions } from '../support/test-app.js';

interface LiveMessage {
  seq?: number;
  type?: string;
  kind?: string;
  data?: unknown;
  [key: string]: unknown;
}

async function listening(options: TestAppOptions = {}): Promise<TestApp & { base: string; ws: string }> {
  const t = await buildTestApp(options);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(t, { base: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` });
}

async function createStream(t: TestApp, name: string): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name } });
  assert.equal(res.statusCode, 201, res.body);
}

async function produce(
  t: TestApp,
  stream: string,
  events: { type: string; data: unknown; time?: string }[],
): Promise<number[]> {
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/streams/${stream}/events`,
    headers: t.admin,
    payload: events,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().events.map((e: { seq: number }) => e.seq);
}

function ticks(n: number, from = 0, type = 'tick'): { type: string; data: unknown }[] {
  return Array.from({ length: n }, (_, i) => ({ type, data: { n: from + i } }));
}

/** a WebSocket client that collects every message */
function wsClient(url: string, headers: Record<string, string>, options: { autoPong?: boolean } = {}) {
  const socket = new WebSocket(url, { headers, autoPong: options.autoPong ?? true });
  const messages: LiveMessage[] = [];
  const waiters: (() => void)[] = [];
  let closeInfo: { code: number; reason: string } | null = null;
  socket.on('message', (raw) => {
    messages.push(JSON.parse(String(raw)) as LiveMessage);
    for (const w of waiters.splice(0)) w();
  });
  socket.on('close', (code, reason) => {
    closeInfo = { code, reason: String(reason) };
    for (const w of waiters.splice(0)) w();
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    messages,
    opened,
    get closed() {
      return closeInfo;
    },
    events: () => messages.filter((m) => m.kind === undefined),
    /** waits until `done()` holds or the socket closes */
    async until(done: () => boolean, what: string): Promise<void> {
      while (!done()) {
        if (closeInfo)
          throw new Error(
            `closed (${closeInfo.code} ${closeInfo.reason}) before ${what}; got ${messages.length} messages`,
          );
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    async close(): Promise<void> {
      if (socket.readyState === WebSocket.CLOSED) return;
      const done = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.terminate();
      await done;
    },
  };
}

/** an EventSource whose requests carry the given headers; `requests` records what each (re)connect sent */
function sseClient(url: string, headers: Record<string, string>, types: string[]) {
  const requests: Headers[] = [];
  const source = new EventSource(url, {
    fetch: (input, init) => {
      const h = new Headers(init?.headers);
      for (const [k, v] of Object.entries(headers)) h.set(k, v);
      requests.push(h);
      return fetch(input, { ...init, headers: h });
    },
  });
  const received: { id: string; type: string; data: LiveMessage }[] = [];
  const waiters: (() => void)[] = [];
  for (const type of types) {
    source.addEventListener(type, (e) => {
      received.push({ id: e.lastEventId, type: e.type, data: JSON.parse(e.data) as LiveMessage });
      for (const w of waiters.splice(0)) w();
    });
  }
  return {
    source,
    received,
    requests,
    async until(done: () => boolean): Promise<void> {
      while (!done()) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function assertExactly(seqs: number[], from: number, to: number): void {
  assert.deepEqual(
    seqs,
    Array.from({ length: to - from + 1 }, (_, i) => from + i),
  );
}

describe('live subscriptions', () => {
  it('SSE: backlog then tail under concurrent producers, every seq exactly once and in order', async () => {
    const t = await listening();
    const es = sseClient(`${t.base}/v1/streams/orders/live?after=0`, t.admin, ['message']);
    try {
      await createStream(t, 'orders');
      await produce(t, 'orders', ticks(300));
      const producers = Array.from({ length: 4 }, async (_, p) => {
        for (let b = 0; b < 10; b++) await produce(t, 'orders', ticks(25, 1000 * p + 25 * b));
      });
      await Promise.all(producers);
      await es.until(() => es.received.length >= 1300);
      // a little more after the backlog was drained
      await produce(t, 'orders', ticks(50));
      await es.until(() => es.received.length >= 1350);
      assertExactly(
        es.received.map((e) => Number(e.id)),
        1,
        1350,
      );
      assert.deepEqual(
        es.received.map((e) => e.data.seq),
        es.received.map((e) => Number(e.id)),
      );
      assert.equal(es.requests[0]!.get('accept'), 'text/event-stream');
    } finally {
      es.source.close();
      await t.close();
    }
  });

  it('SSE: events are unnamed by default (onmessage sees every type, id = seq, the type in the data); ?events=named names them', async () => {
    const t = await listening();
    await createStream(t, 'orders');
    await produce(t, 'orders', [
      { type: 'order.placed', data: 1 },
      { type: 'order.paid', data: 2 },
    ]);
    const plain = new EventSource(`${t.base}/v1/streams/orders/live?after=0`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...t.admin } }),
    });
    const named = sseClient(`${t.base}/v1/streams/orders/live?after=0&events=named`, t.admin, [
      'message',
      'order.placed',
      'order.paid',
    ]);
    try {
      const got: { id: string; type: string; data: LiveMessage }[] = [];
      await new Promise<void>((resolve) => {
        plain.onmessage = (e) => {
          got.push({ id: e.lastEventId, type: e.type, data: JSON.parse(e.data) as LiveMessage });
          if (got.length === 2) resolve();
        };
      });
      assert.deepEqual(
        got.map((e) => [e.id, e.type, e.data.type, e.data.data]),
        [
          ['1', 'message', 'order.placed', 1],
          ['2', 'message', 'order.paid', 2],
        ],
      );
      await named.until(() => named.received.length >= 2);
      assert.deepEqual(
        named.received.map((e) => [e.id, e.type]),
        [
          ['1', 'order.placed'],
          ['2', 'order.paid'],
        ],
      );
      const bad = await t.app.inject({ method: 'GET', url: '/v1/streams/orders/live?events=typed', headers: t.admin });
      assert.equal(bad.statusCode, 400, bad.body);
    } finally {
      plain.close();
      named.source.close();
      await t.close();
    }
  });

  it('SSE: EventSource resumes after a forced disconnect with Last-Event-ID, without gap or duplicate', async () => {
    const t = await listening();
    const sockets = new Set<Socket>();
    t.app.server.on('connection', (s: Socket) => sockets.add(s));
    await createStream(t, 'orders');
    const es = sseClient(`${t.base}/v1/streams/orders/live?after=0`, t.admin, ['message']);
    try {
      await produce(t, 'orders', ticks(20));
      await es.until(() => es.received.length >= 20);
      for (const s of sockets) s.destroy();
      await produce(t, 'orders', ticks(20, 20));
      await es.until(() => es.received.length >= 40);
      assertExactly(
        es.received.map((e) => Number(e.id)),
        1,
        40,
      );
      assert.ok(es.requests.length >= 2, 'the client reconnected');
      assert.equal(es.requests[1]!.get('last-event-id'), '20');
    } finally {
      es.source.close();
      await t.close();
    }
  });

  it('WebSocket: starts at the tail, after a seq, or at a time, and filters by type', async () => {
    const t = await listening();
    const clients: ReturnType<typeof wsClient>[] = [];
    try {
      await createStream(t, 'orders');
      await produce(t, 'orders', [
        { type: 'a', data: 1, time: '2024-01-01T00:00:00Z' },
        { type: 'b', data: 2, time: '2024-01-02T00:00:00Z' },
        { type: 'a', data: 3, time: '2024-01-03T00:00:00Z' },
        { type: 'c', data: 4, time: '2024-01-04T00:00:00Z' },
      ]);
      const url = `${t.ws}/v1/streams/orders/live`;
      const tail = wsClient(url, t.admin);
      const after = wsClient(`${url}?after=2`, t.admin);
      const from = wsClient(`${url}?from=2024-01-02T00:00:00Z`, t.admin);
      const typed = wsClient(`${url}?after=0&type=a,c`, t.admin);
      clients.push(tail, after, from, typed);
      await Promise.all(clients.map((c) => c.opened));
      await produce(t, 'orders', [
        { type: 'a', data: 5 },
        { type: 'b', data: 6 },
      ]);
      for (const c of clients)
        await c.until(() => c.events().some((m) => m.seq === 6 || (m.seq === 5 && c === typed)), 'the new events');
      await produce(t, 'orders', [{ type: 'c', data: 7 }]);
      for (const c of clients) await c.until(() => c.events().some((m) => m.seq === 7), 'seq 7');
      assert.deepEqual(
        tail.events().map((m) => m.seq),
        [5, 6, 7],
      );
      assert.deepEqual(
        after.events().map((m) => m.seq),
        [3, 4, 5, 6, 7],
      );
      assert.deepEqual(
        from.events().map((m) => m.seq),
        [2, 3, 4, 5, 6, 7],
      );
      assert.deepEqual(
        typed.events().map((m) => m.seq),
        [1, 3, 4, 5, 7],
      );
      assert.deepEqual(
        typed.events().map((m) => m.type),
        ['a', 'a', 'c', 'a', 'c'],
      );
      assert.equal(after.events()[0]!.data, 3);
    } finally {
      for (const c of clients) await c.close();
      await t.close();
    }
  });

  it('says so with a reset event when the asked position is older than retention, then continues', async () => {
    const t = await listening();
    const ws = { client: null as ReturnType<typeof wsClient> | null };
    const es = { client: null as ReturnType<typeof sseClient> | null };
    try {
      await createStream(t, 'orders');
      await produce(t, 'orders', ticks(10));
      await t.store.events.enforceRetention('orders', { maxEvents: 4 }, Date.now());
      es.client = sseClient(`${t.base}/v1/streams/orders/live?after=0`, t.admin, ['message', 'rivulet:reset']);
      ws.client = wsClient(`${t.ws}/v1/streams/orders/live?after=0`, t.admin);
      await ws.client.until(() => ws.client!.events().length >= 4, 'the retained events');
      assert.deepEqual(ws.client.messages[0], { kind: 'reset', requestedAfter: 0, firstSeq: 7 });
      assert.deepEqual(
        ws.client.events().map((m) => m.seq),
        [7, 8, 9, 10],
      );
      const sse = es.client;
      await sse.until(() => sse.received.length >= 5);
      assert.equal(sse.received[0]!.type, 'rivulet:reset');
      assert.equal(sse.received[0]!.id, '');
      assert.deepEqual(sse.received[0]!.data, { kind: 'reset', requestedAfter: 0, firstSeq: 7 });
      assert.deepEqual(
        sse.received.slice(1).map((e) => Number(e.id)),
        [7, 8, 9, 10],
      );
    } finally {
      es.client?.source.close();
      await ws.client?.close();
      await t.close();
    }
  });

  it('cuts off a client that does not read, while another keeps receiving', async () => {
    const t = await listening({ live: { bufferBytes: 256 * 1024 } });
    await createStream(t, 'orders');
    const healthy = wsClient(`${t.ws}/v1/streams/orders/live`, t.admin);
    const slow = connect({ host: '127.0.0.1', port: (t.app.server.address() as { port: number }).port });
    slow.on('error', () => {});
    const connected = new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    try {
      await healthy.opened;
      await connected;
      slow.write(
        `GET /v1/streams/orders/live HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\nauthorization: ${t.admin.authorization}\r\n\r\n`,
      );
      slow.pause();
      await eventually(() => t.services.live.size === 2, 'both subscriptions');
      const payload = 'x'.repeat(1000);
      let produced = 0;
      while (t.services.live.size === 2) {
        assert.ok(produced < 100_000, 'the slow client was never cut off');
        const seqs = await produce(
          t,
          'orders',
          Array.from({ length: 100 }, () => ({ type: 'tick', data: payload })),
        );
        produced = seqs[seqs.length - 1]!;
        // the healthy client reads each batch before the next is sent (it shares this process's
        // event loop, which a loaded machine could otherwise starve into falling behind too)
        if (t.services.live.size === 2)
          await healthy.until(() => healthy.events().length >= produced, `event ${produced}`);
      }
      await healthy.until(() => healthy.events().length >= produced, 'every event');
      assertExactly(
        healthy.events().map((m) => m.seq!),
        1,
        produced,
      );
      assert.equal(healthy.closed, null);
      assert.equal(t.services.live.size, 1);
      // the slow connection is closed by the server once its grace period is over
      const gone = new Promise<void>((resolve) => slow.once('close', () => resolve()));
      slow.resume();
      await gone;
    } finally {
      slow.destroy();
      await healthy.close();
      await t.close();
    }
  });

  it(
    'paces a subscriber joining with a backlog many times its buffer limit instead of cutting it off',
    { timeout: 120_000 },
    async () => {
      const t = await listening({ live: { bufferBytes: 64 * 1024 } });
      await createStream(t, 'orders');
      // ~20 MB: more than the kernel's socket buffers hold for a client that stops reading
      const payload = 'x'.repeat(2000);
      const total = 10_000;
      for (let at = 0; at < total; at += 250)
        await produce(
          t,
          'orders',
          Array.from({ length: 250 }, (_, i) => ({ type: 'tick', data: { n: at + i, payload } })),
        );
      const port = (t.app.server.address() as { port: number }).port;
      const raw = connect({ host: '127.0.0.1', port });
      const ws = wsClient(`${t.ws}/v1/streams/orders/live?after=0`, t.admin);
      let sseText = '';
      const sseSeqs: number[] = [];
      raw.setEncoding('utf8');
      raw.on('data', (chunk: string) => {
        sseText += chunk;
        let end: number;
        while ((end = sseText.indexOf('\n\n')) >= 0) {
          const message = sseText.slice(0, end);
          sseText = sseText.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(message);
          if (id) sseSeqs.push(Number(id[1]));
          assert.doesNotMatch(message, /rivulet:error/);
        }
      });
      try {
        await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
        raw.write(
          `GET /v1/streams/orders/live?after=0 HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\nauthorization: ${t.admin.authorization}\r\n\r\n`,
        );
        await ws.opened;
        // both stop reading while the server has the whole backlog to send
        raw.pause();
        ws.socket.pause();
        await eventually(() => t.services.live.size === 2, 'both subscriptions');
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(
          t.services.live.size,
          2,
          `neither was cut off: ws ${JSON.stringify(ws.closed)} ${JSON.stringify(ws.messages.filter((m) => m.kind))} sse ${sseText.slice(0, 400)}`,
        );
        raw.resume();
        ws.socket.resume();
        await ws.until(() => ws.events().length >= total, 'the whole backlog');
        await eventually(() => sseSeqs.length >= total, 'the whole backlog over SSE', 30_000);
        assertExactly(sseSeqs, 1, total);
        assertExactly(
          ws.events().map((m) => m.seq!),
          1,
          total,
        );
        // and both follow the tail after it
        await produce(t, 'orders', ticks(3));
        await ws.until(() => ws.events().length === total + 3, 'the tail');
        await eventually(() => sseSeqs.length === total + 3, 'the tail over SSE');
        assert.equal(t.services.live.size, 2);
      } finally {
        raw.destroy();
        await ws.close();
        await t.close();
      }
    },
  );

  it('closes a WebSocket client that stops answering pings', async () => {
    const t = await listening({ live: { heartbeatMs: 50 } });
    // the stream exists before the clients connect: a store that creates streams more slowly
    // than a WebSocket handshake would otherwise answer 404 to the upgrade
    await createStream(t, 'orders');
    const mute = wsClient(`${t.ws}/v1/streams/orders/live`, t.admin, { autoPong: false });
    const alive = wsClient(`${t.ws}/v1/streams/orders/live`, t.admin);
    try {
      await eventually(() => mute.closed !== null, 'the mute client to be closed');
      assert.equal(alive.closed, null);
      await produce(t, 'orders', ticks(1));
      await alive.until(() => alive.events().length === 1, 'an event');
    } finally {
      await mute.close();
      await alive.close();
      await t.close();
    }
  });

  it('serves 50 subscribers at once, each getting every event', async () => {
    const t = await listening();
    await createStream(t, 'orders');
    const clients = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0 ? wsClient(`${t.ws}/v1/streams/orders/live`, t.admin) : null,
    );
    const sse = Array.from({ length: 25 }, () =>
      sseClient(`${t.base}/v1/streams/orders/live?after=0`, t.admin, ['message']),
    );
    try {
      await Promise.all(clients.map((c) => c?.opened));
      await eventually(() => t.services.live.size === 50, '50 subscriptions');
      for (let b = 0; b < 5; b++) await produce(t, 'orders', ticks(20, b * 20));
      for (const c of clients) if (c) await c.until(() => c.events().length >= 100, '100 events');
      for (const s of sse) await s.until(() => s.received.length >= 100);
      for (const c of clients)
        if (c)
          assertExactly(
            c.events().map((m) => m.seq!),
            1,
            100,
          );
      for (const s of sse)
        assertExactly(
          s.received.map((e) => Number(e.id)),
          1,
          100,
        );
    } finally {
      for (const s of sse) s.source.close();
      for (const c of clients) await c?.close();
      await t.close();
    }
  });

  it('refuses subscriptions without a key: SSE with 401 problem+json, WebSocket upgrade with 401', async () => {
    const t = await listening();
    try {
      await createStream(t, 'orders');
      const res = await fetch(`${t.base}/v1/streams/orders/live`, { headers: { accept: 'text/event-stream' } });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(((await res.json()) as { code: string }).code, 'UNAUTHENTICATED');
      const status = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(`${t.ws}/v1/streams/orders/live`);
        socket.on('unexpected-response', (_req, response) => {
          resolve(response.statusCode ?? 0);
          socket.terminate();
        });
        socket.on('open', () => reject(new Error('the upgrade was accepted')));
        socket.on('error', () => {});
      });
      assert.equal(status, 401);
      const other = await t.keyWith(['consume:payments']);
      const forbidden = await fetch(`${t.base}/v1/streams/orders/live`, {
        headers: { ...other, accept: 'text/event-stream' },
      });
      assert.equal(forbidden.status, 403);
      await forbidden.body?.cancel();
      const missing = await fetch(`${t.base}/v1/streams/nope/live`, {
        headers: { ...t.admin, accept: 'text/event-stream' },
      });
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      assert.equal(t.services.live.size, 0);
    } finally {
      await t.close();
    }
  });

  it('accepts a live token for its stream only, until it expires, and keeps it out of the logs', async () => {
    let nowMs = Date.parse('2025-01-01T00:00:00Z');
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const t = await listening({ core: { clock: { now: () => new Date(nowMs) }, liveTokenTtlMs: 60_000 }, logger });
    const es = { client: null as ReturnType<typeof sseClient> | null };
    try {
      await createStream(t, 'orders');
      await createStream(t, 'payments');
      const key = await t.keyWith(['consume:orders']);
      const denied = await t.app.inject({
        method: 'POST',
        url: '/v1/live-tokens',
        headers: key,
        payload: { stream: 'payments' },
      });
      assert.equal(denied.statusCode, 403);
      const issued = await t.app.inject({
        method: 'POST',
        url: '/v1/live-tokens',
        headers: key,
        payload: { stream: 'orders' },
      });
      assert.equal(issued.statusCode, 201, issued.body);
      const { token, expiresAt } = issued.json();
      assert.equal(expiresAt, '2025-01-01T00:01:00.000Z');

      es.client = sseClient(`${t.base}/v1/streams/orders/live?token=${encodeURIComponent(token)}`, {}, ['message']);
      await eventually(() => t.services.live.size === 1, 'the token subscription');
      await produce(t, 'orders', ticks(2));
      await es.client.until(() => es.client!.received.length >= 2);
      es.client.source.close();

      const wrongStream = await fetch(`${t.base}/v1/streams/payments/live?token=${encodeURIComponent(token)}`);
      assert.equal(wrongStream.status, 401);
      await wrongStream.body?.cancel();
      const elsewhere = await fetch(`${t.base}/v1/streams/orders/events?token=${encodeURIComponent(token)}`);
      assert.equal(elsewhere.status, 401);
      await elsewhere.body?.cancel();

      nowMs += 61_000;
      const expired = await fetch(`${t.base}/v1/streams/orders/live?token=${encodeURIComponent(token)}`);
      assert.equal(expired.status, 401);
      await expired.body?.cancel();
      assert.ok(
        lines.some((l) => l.includes('token=[redacted]')),
        'the live requests were logged',
      );
      assert.ok(!lines.some((l) => l.includes(token.slice(5))), 'the token reached the logs');
    } finally {
      es.client?.source.close();
      await t.close();
    }
  });
});
