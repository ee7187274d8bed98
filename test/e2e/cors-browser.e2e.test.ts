/**
 * CORS as a browser sees it: a page served from another origin (another port) calls the built
 * server with a key (a preflighted request), produces through the produce lane, takes a live
 * token and follows the stream with a plain EventSource and `onmessage`. Debian's chromium
 * driven by playwright-core, as in console.e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess } from '../support/server-process.js';

const CHROMIUM = '/usr/bin/chromium';

describe(
  'CORS in a browser (chromium)',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing: apt-get install -y chromium` },
  () => {
    it('a page on another origin produces with a key and follows the stream with EventSource', async () => {
      const page = createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'),
      );
      let pageClosed = false;
      track('page server', page, () => pageClosed);
      page.listen(0, '127.0.0.1');
      await once(page, 'listening');
      const origin = `http://127.0.0.1:${(page.address() as { port: number }).port}`;
      const server = await startServerProcess({
        dataDir: tempDir('rivulet-cors-e2e'),
        args: ['--cors-origin', origin, '--max-event-loop-delay', '0'],
        startTimeoutMs: 60_000,
        track,
      });
      let browser: Browser | undefined;
      try {
        const created = await fetch(`${server.url}/v1/streams`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
          body: '{"name":"orders"}',
        });
        assert.equal(created.status, 201);
        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
        const launched = browser;
        track('chromium', launched, () => !launched.isConnected());
        const tab = await browser.newPage();
        await tab.goto(origin);
        const result = await tab.evaluate(
          async ({ api, key }) => {
            const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
            const produced = [];
            for (const type of ['order.placed', 'order.paid']) {
              const res = await fetch(`${api}/v1/streams/orders/events`, {
                method: 'POST',
                headers,
                body: JSON.stringify({ type, data: { n: 1 } }),
              });
              produced.push({ status: res.status, requestId: res.headers.get('x-request-id') });
            }
            const { token } = (await (
              await fetch(`${api}/v1/live-tokens`, { method: 'POST', headers, body: '{"stream":"orders"}' })
            ).json()) as { token: string };
            const received = await new Promise<{ id: string; type: string }[]>((resolve, reject) => {
              const got: { id: string; type: string }[] = [];
              const source = new EventSource(
                `${api}/v1/streams/orders/live?after=0&token=${encodeURIComponent(token)}`,
              );
              source.onmessage = (e) => {
                got.push({ id: e.lastEventId, type: (JSON.parse(e.data as string) as { type: string }).type });
                if (got.length === 2) {
                  source.close();
                  resolve(got);
                }
              };
              setTimeout(() => reject(new Error(`EventSource got ${got.length} events`)), 20_000);
            });
            return { produced, received };
          },
          { api: server.url, key: server.adminKey },
        );
        assert.deepEqual(
          result.produced.map((p) => p.status),
          [201, 201],
        );
        assert.ok(
          result.produced.every((p) => p.requestId),
          'exposed headers are readable',
        );
        assert.deepEqual(result.received, [
          { id: '1', type: 'order.placed' },
          { id: '2', type: 'order.paid' },
        ]);

        // a page on an origin not listed is refused by the browser
        const other = createServer((_req, res) =>
          res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>'),
        );
        other.listen(0, '127.0.0.1');
        await once(other, 'listening');
        try {
          await tab.goto(`http://127.0.0.1:${(other.address() as { port: number }).port}`);
          const refused = await tab.evaluate(
            async ({ api, key }) => {
              try {
                await fetch(`${api}/v1/streams`, { headers: { authorization: `Bearer ${key}` } });
                return 'answered';
              } catch {
                return 'blocked';
              }
            },
            { api: server.url, key: server.adminKey },
          );
          assert.equal(refused, 'blocked');
        } finally {
          other.close();
        }
      } finally {
        await browser?.close();
        await server.kill();
        page.close();
        await once(page, 'close');
        pageClosed = true;
      }
    });
  },
);
