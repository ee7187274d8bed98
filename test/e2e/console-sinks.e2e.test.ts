/**
 * The console's sinks and specs pages in a real browser (Debian's chromium via playwright-core)
 * against the built server as a process, with a real HTTP receiver on a loopback port (the
 * server runs with --sink-allow-loopback). A sink on the overview with its status, its page with
 * attempts and response codes, pause (no deliveries) and resume, a dead letter retried with the
 * button, and a spec's revision history with pipeline states.
 *
 * RIVULET_CONSOLE_SCREENSHOTS=1 writes the screenshots to docs/console/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { fetch } from 'undici';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess } from '../support/server-process.js';

const CHROMIUM = '/usr/bin/chromium';
const DOCS_SHOTS = fileURLToPath(new URL('../../docs/console/', import.meta.url));

interface Received {
  order: string;
  webhookId: string;
}

/** answers 200, or 422 (permanent: dead-lettered at once) to events whose data says `reject` while refusing is on */
async function startReceiver() {
  const received: Received[] = [];
  let refusing = true;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        data?: { order?: string; reject?: boolean };
      };
      // only the sink's events are recorded (a rule's actions carry no order)
      if (typeof body.data?.order !== 'string') {
        res.writeHead(200).end();
        return;
      }
      if (refusing && body.data.reject) {
        res.writeHead(422, { 'content-type': 'text/plain' }).end('order rejected');
        return;
      }
      received.push({ order: body.data.order, webhookId: String(req.headers['webhook-id']) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    accept: () => (refusing = false),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe(
  'web console: sinks and specs (chromium)',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing: apt-get install -y chromium` },
  () => {
    it('shows a sink, its attempts, pauses and resumes it, retries a dead letter, and shows spec revisions', async () => {
      const shots =
        process.env.RIVULET_CONSOLE_SCREENSHOTS === '1' ? DOCS_SHOTS : tempDir('rivulet-console-sink-shots');
      mkdirSync(shots, { recursive: true });
      const receiver = await startReceiver();
      const server = await startServerProcess({
        dataDir: tempDir('rivulet-console-sinks-e2e'),
        args: ['--max-event-loop-delay', '0', '--sink-allow-loopback'],
        track,
      });
      let browser: Browser | undefined;
      try {
        const auth = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
        const call = async (method: string, path: string, body: unknown, status: number): Promise<unknown> => {
          const res = await fetch(`${server.url}${path}`, {
            method,
            headers: auth,
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const text = await res.text();
          assert.equal(res.status, status, `${method} ${path}: ${text}`);
          return text ? JSON.parse(text) : null;
        };
        let n = 0;
        const produce = async (count: number, data: Record<string, unknown> = {}) => {
          const events = Array.from({ length: count }, () => ({
            type: 'order.placed',
            data: { order: `order-${++n}`, ...data },
          }));
          await call('POST', '/v1/streams/orders/events', events, 201);
        };
        await call('POST', '/v1/streams', { name: 'orders' }, 201);
        await call(
          'POST',
          '/v1/sinks',
          {
            id: 'orders-hook',
            description: 'Orders to the shop backend',
            streams: ['orders'],
            target: { kind: 'http', url: receiver.url },
            start: { from: 'beginning' },
            policy: { ordering: 'ordered', retry: { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 100 } },
          },
          201,
        );
        await produce(3);
        await produce(1, { reject: true }); // order-4: 422, dead-lettered
        await waitFor(() => receiver.received.length === 3, 'three deliveries');

        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
        const launched = browser;
        track('chromium', launched, () => !launched.isConnected());
        const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(`console: ${m.text()}`);
        });
        page.on('pageerror', (err) => problems.push(`page: ${err.message}`));
        const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });

        await page.goto(`${server.url}/console/`);
        await page.fill('#key', server.adminKey);
        await page.click('button[type="submit"]');
        await page.locator('header.top .who').waitFor();

        // overview: the sink with its status and counts
        const row = page.locator('tr[data-sink="orders-hook"]');
        await waitForText(page, row.locator('.delivered'), '3');
        assert.match(await row.locator('[data-sink-status]').innerText(), /^(running|failing)$/);
        assert.match(await row.innerText(), /http/);

        // the sink page: figures, chart, attempts with response codes
        await row.locator('a').click();
        await page.locator('.sink-page [data-figure="delivered"]').waitFor();
        await waitForText(page, page.locator('[data-figure="delivered"]'), '3');
        await page.locator('.sink-chart canvas').waitFor();
        await page.locator('table.attempts tr[data-seq="4"][data-outcome="permanent"]').waitFor();
        assert.equal((await page.locator('table.attempts tr[data-seq="4"] .code').innerText()).trim(), '422');
        assert.equal((await page.locator('table.attempts tr[data-seq="1"] .code').innerText()).trim(), '200');
        assert.match(await page.locator('table.attempts tr[data-seq="1"]').innerText(), /\d+ ms/);
        // the chart's series as the API answers it: three delivered, one failed attempt in this minute or the last
        const rates = (await call('GET', '/v1/sinks/orders-hook/rates?window=120&step=60', undefined, 200)) as {
          delivered: number[];
          failed: number[];
        };
        assert.equal(
          rates.delivered.reduce((a, b) => a + b, 0),
          3,
        );
        assert.equal(
          rates.failed.reduce((a, b) => a + b, 0),
          1,
        );
        await shot('sink');

        // pause: status paused, nothing delivered, lag grows
        await page.click('.sink-page .controls button:text("Pause")');
        await page.locator('.sink-page .controls [data-sink-status="paused"]').waitFor();
        await produce(2);
        await waitForText(page, page.locator('[data-figure="lag"]'), '2', 10_000, true);
        await page.waitForTimeout(700);
        assert.equal(receiver.received.length, 3, 'a paused sink delivers nothing');
        // resume: the two held back arrive
        await page.click('.sink-page .controls button:text("Resume")');
        await page.locator('.sink-page .controls [data-sink-status="running"]').waitFor();
        await waitFor(() => receiver.received.length === 5, 'deliveries after resume');
        assert.deepEqual(
          receiver.received.map((r) => r.order),
          ['order-1', 'order-2', 'order-3', 'order-5', 'order-6'],
        );
        await waitForText(page, page.locator('[data-figure="delivered"]'), '5');

        // the dead letter, retried with the button once the receiver accepts it
        await page.click('nav.tabs a:text("Dead letters")');
        const dead = page.locator('table.dead-letters tr[data-dead-seq="4"]');
        await dead.waitFor();
        assert.match(await dead.innerText(), /422/);
        await shot('sink-dead-letters');
        receiver.accept();
        await page.click('button.retry-dead-letters');
        await page.locator('[data-note="retry"]').waitFor();
        await waitFor(() => receiver.received.some((r) => r.order === 'order-4'), 'the dead letter delivered on retry');
        await page.click('nav.tabs a:text("Attempts")');
        await page.locator('table.attempts tr[data-seq="4"][data-outcome="success"]').waitFor();

        // the stream page lists its sinks
        await page.goto(`${server.url}/console/#/streams/orders/sinks`);
        await page.locator('.tab-body tr[data-sink="orders-hook"]').waitFor();

        // a spec: revision 1 succeeds, revision 2 fails its schema pipeline (an incompatible change)
        const spec = (schema: Record<string, unknown>) => ({
          meta: { owner: 'admin', dataset: 'shop' },
          streams: [{ name: 'payments', description: 'payments from the shop' }],
          schemas: [{ stream: 'payments', type: 'payment.made', schema }],
        });
        const owner = ((await call('GET', '/v1/whoami', undefined, 200)) as { owner: string }).owner;
        const withOwner = (s: ReturnType<typeof spec>) => ({ ...s, meta: { ...s.meta, owner } });
        await call(
          'POST',
          '/v1/specs',
          withOwner(spec({ type: 'object', properties: { total: { type: 'number' } } })),
          201,
        );
        await waitForRevision(call, owner, 1, 'SUCCEEDED');
        await call(
          'POST',
          '/v1/specs',
          withOwner(spec({ type: 'object', properties: { total: { type: 'string' } }, required: ['total'] })),
          201,
        );
        await waitForRevision(call, owner, 2, 'FAILED');

        await page.click('header.top nav a:text("Specs")');
        await page.locator(`tr[data-dataset="${owner}/shop"] a`).click();
        await page.locator('table.revisions tr[data-revision="2"] [data-state="FAILED"]').waitFor();
        await page.locator('table.revisions tr[data-revision="1"] [data-state="SUCCEEDED"]').waitFor();
        // the latest revision opens first: its schema pipeline failed with the registry's report
        await page
          .locator(
            'section.revision[data-revision="2"] tr[data-pipeline="schemas/payments/payment.made"] [data-state="FAILED"]',
          )
          .waitFor();
        await shot('spec-revisions');
        await page.click('table.revisions tr[data-revision="1"] a');
        await page
          .locator('section.revision[data-revision="1"] tr[data-pipeline="streams/payments"] [data-state="SUCCEEDED"]')
          .waitFor();
        await page
          .locator(
            'section.revision[data-revision="1"] tr[data-pipeline="schemas/payments/payment.made"] [data-state="SUCCEEDED"]',
          )
          .waitFor();

        // a rule: listed, opened, disabled and enabled again
        await call('POST', '/v1/action-targets', { id: 'shop-hook', name: 'Shop backend', url: receiver.url }, 201);
        await call(
          'POST',
          '/v1/rules',
          {
            id: 'big-orders',
            name: 'Big orders',
            streams: ['orders'],
            conditions: [{ expression: 'data.total > 100' }],
            actions: [{ actionTargetId: 'shop-hook', actionTypeId: 'notify' }],
          },
          201,
        );
        await page.click('header.top nav a:text("Rules")');
        await page.locator('tr[data-rule="big-orders"] a').click();
        await page.locator('.rule-page [data-rule-status]').waitFor();
        await page.click('.rule-page .controls button:text("Disable")');
        await page.locator('.rule-page [data-rule-status="disabled"]').waitFor();
        await page.click('.rule-page .controls button:text("Enable")');
        await page.locator('.rule-page .controls button:text("Disable")').waitFor();
        assert.notEqual(
          await page.locator('.rule-page [data-rule-status]').getAttribute('data-rule-status'),
          'disabled',
        );
        await shot('rule');

        await page.click('header.top nav a:text("Overview")');
        await page.locator('tr[data-sink="orders-hook"]').waitFor();
        await shot('overview-sinks');

        assert.deepEqual(problems, [], 'the console logged errors (a CSP violation would be one)');
      } finally {
        await browser?.close();
        await server.close();
        await receiver.close();
      }
    });
  },
);

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Call = (method: string, path: string, body: unknown, status: number) => Promise<unknown>;

async function waitForRevision(call: Call, owner: string, revision: number, state: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last = '';
  while (Date.now() < deadline) {
    last = ((await call('GET', `/v1/specs/${owner}/shop/revisions/${revision}`, undefined, 200)) as { state: string })
      .state;
    if (last === state) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`revision ${revision}: expected ${state}, still ${last}`);
}

async function waitForText(
  page: Page,
  locator: ReturnType<Page['locator']>,
  expected: string,
  timeoutMs = 10_000,
  firstLine = false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await locator.innerText().catch(() => '')).trim();
    if (firstLine) last = last.split('\n')[0]!.trim();
    if (last === expected) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`expected "${expected}", still "${last}" after ${timeoutMs} ms`);
}
