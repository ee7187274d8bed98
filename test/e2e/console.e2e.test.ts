/**
 * The web console in a real browser: Debian's chromium driven by playwright-core (never a
 * downloaded browser), against the built server as a process. Signs in, watches a stream's
 * count rise, opens an event, follows the live tail, opens a schema.
 *
 * RIVULET_CONSOLE_SCREENSHOTS=1 writes the screenshots to docs/console/ (for the docs);
 * otherwise they go to the test's temp dir, so taking them is still exercised.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { fetch } from 'undici';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess } from '../support/server-process.js';

const CHROMIUM = '/usr/bin/chromium';
const DOCS_SHOTS = fileURLToPath(new URL('../../docs/console/', import.meta.url));

describe(
  'web console (chromium)',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing: apt-get install -y chromium` },
  () => {
    it('signs in, shows counts rising, opens an event, follows the live tail and shows schemas', async () => {
      const shots = process.env.RIVULET_CONSOLE_SCREENSHOTS === '1' ? DOCS_SHOTS : tempDir('rivulet-console-shots');
      mkdirSync(shots, { recursive: true });
      // a browser on a busy 2-core machine can push event-loop delay past the shedding limit; this test is not about shedding
      const server = await startServerProcess({
        dataDir: tempDir('rivulet-console-e2e'),
        args: ['--max-event-loop-delay', '0'],
        track,
      });
      let browser: Browser | undefined;
      try {
        const auth = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
        const call = async (method: string, path: string, body: unknown, status: number) => {
          const res = await fetch(`${server.url}${path}`, { method, headers: auth, body: JSON.stringify(body) });
          assert.equal(res.status, status, `${method} ${path}: ${await res.text()}`);
        };
        let n = 0;
        const produce = async (count: number, extra: Record<string, unknown> = {}) => {
          const events = Array.from({ length: count }, () => {
            n++;
            return {
              type: n % 2 ? 'order.placed' : 'order.paid',
              data: { order: `order-${n}`, amount: n * 10, lines: [{ sku: 'A-1', qty: n }], ...extra },
            };
          });
          await call('POST', '/v1/streams/orders/events', events, 201);
        };
        await call('POST', '/v1/streams', { name: 'orders', description: 'Orders from the shop' }, 201);
        await call('POST', '/v1/streams', { name: 'audit' }, 201);
        await call(
          'POST',
          '/v1/streams/orders/schemas/order.placed',
          {
            type: 'object',
            properties: { order: { type: 'string' }, amount: { type: 'number' } },
            required: ['order'],
          },
          201,
        );
        await call('POST', '/v1/streams/orders/consumers', { name: 'billing' }, 201);
        await produce(3);
        await call('POST', '/v1/streams/audit/events', { type: 'login', data: { user: 'ada' } }, 201);

        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
        const launched = browser;
        track('chromium', launched, () => !launched.isConnected());
        const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(`console: ${m.text()}`);
        });
        page.on('pageerror', (err) => problems.push(`page: ${err.message}`));
        const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });

        // sign in
        await page.goto(`${server.url}/console`);
        assert.equal(new URL(page.url()).pathname, '/console/');
        await page.locator('#key').waitFor();
        await page.fill('#key', 'not-a-key');
        await page.click('button[type="submit"]');
        await page.locator('.sign-in .error').waitFor();
        await shot('sign-in');
        // the browser logs the refused whoami (401) as an error; that one was meant
        problems.splice(0);
        await page.fill('#key', server.adminKey);
        await page.click('button[type="submit"]');
        await page.locator('header.top .who').waitFor();
        assert.equal(await page.evaluate("sessionStorage.getItem('rivulet.key')"), server.adminKey);
        assert.ok(!page.url().includes(server.adminKey), 'the key must never be in the address');

        // overview: the count rises as events are produced
        const count = page.locator('tr[data-stream="orders"] .count');
        await waitForText(page, count, '3');
        await produce(2);
        await waitForText(page, count, '5');
        await page.locator('tr[data-consumer="billing"] .lag').waitFor();
        await waitForText(page, page.locator('tr[data-consumer="billing"] .lag'), '5');
        await page.locator('tr[data-stream="orders"] .sparkline canvas').waitFor();
        await shot('overview');

        // stream page: the event browser and one event
        await page.click('tr[data-stream="orders"] a');
        await page.locator('table.events tr[data-seq="2"]').click();
        const detail = page.locator('.event-detail');
        await detail.waitFor();
        const text = await detail.innerText();
        assert.match(text, /"order-2"/);
        assert.match(text, /order\.paid/);
        const curl = await detail.locator('.copy-text').innerText();
        assert.match(
          curl,
          new RegExp(
            `^curl -sS -H "Authorization: Bearer \\$RIVULET_KEY" '${server.url}/v1/streams/orders/events/[0-9a-f-]{36}'$`,
          ),
        );
        assert.ok(!curl.includes(server.adminKey));
        await page.locator('.rate-chart canvas').waitFor();
        await shot('stream-events');

        // filter by type: only order.placed (seqs 1, 3, 5)
        await page.fill('form.filters input[name="type"]', 'order.placed');
        await page.fill('form.filters input[name="seq"]', '1');
        await page.click('form.filters button[type="submit"]');
        await page.locator('table.events tr[data-seq="4"]').waitFor({ state: 'detached' });
        // the old rows may go before the new ones arrive: wait for the answer's rows
        await page.locator('table.events tr[data-seq="5"]').waitFor();
        assert.deepEqual(
          await page
            .locator('table.events tbody tr')
            .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-seq'))),
          ['1', '3', '5'],
        );

        // live tail over SSE with a live token
        await page.click('nav.tabs a:text("Live tail")');
        await page.locator('[data-status="live"]').waitFor();
        await produce(1, { marker: 'seen-live' });
        const row = page.locator('.live table.events tr[data-seq="6"]');
        await row.waitFor();
        await row.click();
        assert.match(await page.locator('.live .event-detail').innerText(), /"seen-live"/);
        await produce(2);
        await page.locator('.live table.events tr[data-seq="8"]').waitFor();
        assert.deepEqual(
          await page
            .locator('.live table.events tbody tr')
            .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-seq'))),
          ['8', '7', '6'],
        );
        await shot('live-tail');
        // pausing stops the subscription; resuming picks up after the last seq shown
        await page.click('.live button:text("Pause")');
        await page.locator('[data-status="stopped"]').waitFor();
        await produce(1);
        await page.click('.live button:text("Resume")');
        await page.locator('.live table.events tr[data-seq="9"]').waitFor();

        // schemas with versions
        await page.click('nav.tabs a:text("Schemas")');
        await page.click('table.schemas button:text("v1")');
        await page.locator('.event-detail .json-view').waitFor();
        assert.match(await page.locator('.event-detail').innerText(), /"required"/);
        await shot('schemas');

        // signing out forgets the key
        await page.click('header.top button:text("Sign out")');
        await page.locator('#key').waitFor();
        assert.equal(await page.evaluate("sessionStorage.getItem('rivulet.key')"), null);

        assert.deepEqual(problems, [], 'the console logged errors (a CSP violation would be one)');
      } finally {
        await browser?.close();
        await server.close();
      }
    });
  },
);

async function waitForText(
  page: Page,
  locator: ReturnType<Page['locator']>,
  expected: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await locator.innerText().catch(() => '')).trim();
    if (last === expected) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`expected "${expected}", still "${last}" after ${timeoutMs} ms`);
}
