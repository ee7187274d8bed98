/**
 * The built server driven by the official Durable Streams client (@durable-streams/client):
 * an idempotent producer whose answers are lost on the way back (the client's own backoff
 * retries them), catch-up, live follow over SSE and over long-poll, resume across a server
 * restart, and a stream made through /ds consumed by a Rivulet consumer and delivered by a sink.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurableStream, IdempotentProducer, createFetchWithBackoff } from '@durable-streams/client';
import { startReceiver } from '../support/receiver.js';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/cli-runner.js';

function handle(server: ServerProcess, path: string, extra: { fetch?: typeof fetch } = {}): DurableStream {
  return new DurableStream({
    url: `${server.url}/ds/${path}`,
    headers: { Authorization: `Bearer ${server.adminKey}` },
    contentType: 'application/json',
    ...extra,
  });
}

/** a network that loses every third answer to a POST after the server acted on it */
function lossyFetch(): { fetch: typeof fetch; lost: () => number } {
  let posts = 0;
  let lost = 0;
  const lossy: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (init?.method === 'POST' && ++posts % 3 === 0) {
      await res.arrayBuffer();
      lost++;
      throw new TypeError('fetch failed: the connection dropped before the answer arrived');
    }
    return res;
  };
  return { fetch: lossy, lost: () => lost };
}

async function readAll(stream: DurableStream, offset?: string): Promise<{ items: unknown[]; offset: string }> {
  const res = await stream.stream({ live: false, ...(offset ? { offset } : {}) });
  const items = await res.json();
  return { items, offset: res.offset };
}

describe('Durable Streams with the official client', () => {
  it('an idempotent producer retried through lost answers writes every message once, in order; readers catch up and follow over SSE and long-poll', async () => {
    const server = await startServerProcess({ dataDir: tempDir('rivulet-ds-e2e'), startTimeoutMs: 30_000, track });
    try {
      const stream = await DurableStream.create({
        url: `${server.url}/ds/orders/eu`,
        headers: { Authorization: `Bearer ${server.adminKey}` },
        contentType: 'application/json',
      });
      const net = lossyFetch();
      const retrying = createFetchWithBackoff(net.fetch, {
        initialDelay: 5,
        maxDelay: 50,
        multiplier: 2,
        maxRetries: 20,
      });
      const errors: Error[] = [];
      const producer = new IdempotentProducer(stream, 'checkout-1', {
        fetch: retrying,
        lingerMs: 1,
        maxInFlight: 1,
        onError: (e) => errors.push(e),
      });
      for (let i = 1; i <= 30; i++) {
        producer.append(JSON.stringify({ order: i }));
        if (i % 3 === 0) await producer.flush();
      }
      await producer.flush();
      await producer.detach();
      assert.deepEqual(errors, []);
      assert.ok(net.lost() >= 3, `answers lost: ${net.lost()}`);
      const { items } = await readAll(stream);
      assert.deepEqual(
        items,
        Array.from({ length: 30 }, (_, i) => ({ order: i + 1 })),
      );

      // live over SSE and long-poll, from the offset the catch-up ended at
      for (const live of ['sse', 'long-poll'] as const) {
        const { offset } = await readAll(stream);
        const reader = handle(server, 'orders/eu');
        const res = await reader.stream<{ order: number }>({ offset, live });
        const seen: number[] = [];
        const done = new Promise<void>((resolve) => {
          res.subscribeJson((batch) => {
            for (const item of batch.items) seen.push(item.order);
            if (seen.length >= 2) resolve();
          });
        });
        await stream.append(JSON.stringify({ order: live === 'sse' ? 100 : 200 }));
        await stream.append(JSON.stringify({ order: live === 'sse' ? 101 : 201 }));
        await done;
        res.cancel();
        assert.deepEqual(seen, live === 'sse' ? [100, 101] : [200, 201]);
      }
    } finally {
      await server.close();
    }
  });

  it('resumes across a restart: offsets and producer state survive', async () => {
    const dataDir = tempDir('rivulet-ds-e2e-restart');
    let server = await startServerProcess({ dataDir, startTimeoutMs: 30_000, track });
    let offset: string;
    try {
      const stream = await DurableStream.create({
        url: `${server.url}/ds/journal`,
        headers: { Authorization: `Bearer ${server.adminKey}` },
        contentType: 'text/plain',
      });
      await stream.append('one;');
      await stream.append('two;');
      const caught = await stream.stream({ live: false });
      await caught.text();
      offset = caught.offset;
      const producer = new IdempotentProducer(stream, 'writer', { lingerMs: 1 });
      producer.append('three;');
      await producer.flush();
      await producer.detach();
    } finally {
      await server.close();
    }
    server = await startServerProcess({ dataDir, startTimeoutMs: 30_000, track });
    try {
      const stream = new DurableStream({
        url: `${server.url}/ds/journal`,
        headers: { Authorization: `Bearer ${server.adminKey}` },
      });
      const res = await stream.stream({ offset, live: false });
      assert.equal(await res.text(), 'three;');
      // the producer's (epoch 0, seq 0) is remembered: sent again, it is a duplicate
      const again = await fetch(`${server.url}/ds/journal`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${server.adminKey}`,
          'content-type': 'text/plain',
          'producer-id': 'writer',
          'producer-epoch': '0',
          'producer-seq': '0',
        },
        body: 'three;',
      });
      assert.equal(again.status, 204);
      const all = await stream.stream({ live: false });
      assert.equal(await all.text(), 'one;two;three;');
    } finally {
      await server.close();
    }
  });

  it('a stream made through /ds is a Rivulet stream: a consumer receives its messages and a sink delivers them', async () => {
    const receiver = await startReceiver();
    const server = await startServerProcess({
      dataDir: tempDir('rivulet-ds-e2e-sink'),
      args: ['--sink-allow-loopback'],
      startTimeoutMs: 30_000,
      track,
    });
    try {
      const auth = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
      const call = async (method: string, path: string, body: unknown, status: number) => {
        const res = await fetch(`${server.url}${path}`, { method, headers: auth, body: JSON.stringify(body) });
        const text = await res.text();
        assert.equal(res.status, status, `${method} ${path}: ${text}`);
        return JSON.parse(text) as Record<string, unknown>;
      };
      const stream = await DurableStream.create({
        url: `${server.url}/ds/shop/orders`,
        headers: { Authorization: `Bearer ${server.adminKey}` },
        contentType: 'application/json',
      });
      await call('POST', '/v1/streams/shop.orders/consumers', { name: 'billing' }, 201);
      await call(
        'POST',
        '/v1/sinks',
        {
          id: 'orders-hook',
          streams: ['shop.orders'],
          target: { kind: 'http', url: receiver.url },
          start: { from: 'beginning' },
        },
        201,
      );
      for (const order of [1, 2, 3]) await stream.append(JSON.stringify({ order }));
      const got = await call('POST', '/v1/streams/shop.orders/consumers/billing/receive', { max: 10 }, 200);
      const deliveries = got.deliveries as { event: { seq: number; type: string; data: unknown } }[];
      assert.deepEqual(
        deliveries.map((d) => [d.event.seq, d.event.type, d.event.data]),
        [
          [1, 'ds.message', { order: 1 }],
          [2, 'ds.message', { order: 2 }],
          [3, 'ds.message', { order: 3 }],
        ],
      );
      await waitFor(
        'three deliveries',
        () => receiver.requests.length >= 3 || receiver.requests.some((r) => r.body.includes('"order":3')),
      );
      const delivered = receiver.requests.map((r) => r.body).join('\n');
      for (const n of [1, 2, 3]) assert.match(delivered, new RegExp(`"order":${n}\\b`));
    } finally {
      await server.close();
      await receiver.close();
    }
  });
});
