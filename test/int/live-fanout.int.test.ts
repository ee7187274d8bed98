/**
 * Live fan-out with shared frames: every subscriber of a stream is written the same
 * pre-built bytes per event, and a batch leaves as one socket write. Real `ws` and
 * `eventsource` clients check that what arrives is exactly what the read API answers, across
 * the WebSocket frame-length boundaries (7-, 16- and 64-bit lengths) and multi-byte text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import { WebSocket } from 'ws';
import { buildTestApp } from '../support/test-app.js';

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('live fan-out', () => {
  it('hands every WebSocket and SSE subscriber each event exactly as the read API renders it, at every frame size', async () => {
    const t = await buildTestApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as { port: number };
    const sockets: WebSocket[] = [];
    const sources: EventSource[] = [];
    try {
      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/streams',
        headers: t.admin,
        payload: { name: 'orders' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const ws: string[][] = [];
      for (let i = 0; i < 3; i++) {
        const got: string[] = [];
        ws.push(got);
        const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/streams/orders/live`, { headers: t.admin });
        socket.on('message', (raw, binary) => {
          assert.equal(binary, false, 'events are text messages');
          got.push(String(raw));
        });
        await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
        sockets.push(socket);
      }
      const sse: string[][] = [];
      for (let i = 0; i < 2; i++) {
        const got: string[] = [];
        sse.push(got);
        const source = new EventSource(`http://127.0.0.1:${port}/v1/streams/orders/live`, {
          fetch: (input, init) =>
            fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...t.admin } }),
        });
        source.addEventListener('message', (e) => got.push(e.data));
        sources.push(source);
      }
      await waitFor(() => t.services.live.size === 5, 'five subscriptions');

      // payloads around 125, 65,535 and 65,536 bytes of frame payload, with multi-byte text
      const sizes = [1, 100, 125, 200, 65_400, 65_600, 70_000];
      const batch = sizes.map((n, i) => ({ type: 'sized', data: { i, text: `é${'x'.repeat(n)}→` } }));
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/events',
        headers: t.admin,
        payload: [...batch, ...batch],
      });
      assert.equal(res.statusCode, 201, res.body);
      const count = batch.length * 2;

      const read = await t.app.inject({
        method: 'GET',
        url: '/v1/streams/orders/events?after=0&limit=100',
        headers: { ...t.admin, accept: 'application/json' },
      });
      assert.equal(read.statusCode, 200, read.body);
      const expected = (read.json() as { events: unknown[] }).events;
      assert.equal(expected.length, count);

      for (const got of [...ws, ...sse]) await waitFor(() => got.length >= count, 'every event');
      for (const got of [...ws, ...sse])
        assert.deepEqual(
          got.map((m) => JSON.parse(m) as unknown),
          expected,
        );
    } finally {
      for (const s of sources) s.close();
      for (const s of sockets) s.terminate();
      await t.close();
    }
  });
});
