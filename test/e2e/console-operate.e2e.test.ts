/**
 * The console as an operator's tool, streams and consumers, in a real browser (Debian's
 * chromium via playwright-core) against the built server as a process. Every action is taken
 * in the page and its effect checked through the API: a stream created, its retention changed
 * in days and GiB, a test event refused by its schema (the fault shown under the editor) then
 * produced, events found by content and from a seq and a time, a consumer created, moved,
 * reset and deleted with its lag following, the stream deleted after a confirmation that names
 * what goes with it; internal streams hidden until asked for; the page at 400 px wide and in
 * dark mode.
 *
 * RIVULET_CONSOLE_SCREENSHOTS=1 writes the screenshots to docs/console/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { fetch } from 'undici';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess } from '../support/server-process.js';

const CHROMIUM = '/usr/bin/chromium';
const DOCS_SHOTS = fileURLToPath(new URL('../../docs/console/', import.meta.url));
const DAY = 86_400_000;
const GIB = 1024 ** 3;

describe(
  'web console: operating streams and consumers (chromium)',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing: apt-get install -y chromium` },
  () => {
    it('creates, changes and deletes a stream, produces a checked event, searches by content, moves consumers', async () => {
      const shots =
        process.env.RIVULET_CONSOLE_SCREENSHOTS === '1' ? DOCS_SHOTS : tempDir('rivulet-console-operate-shots');
      mkdirSync(shots, { recursive: true });
      const server = await startServerProcess({
        dataDir: tempDir('rivulet-console-operate-e2e'),
        args: ['--max-event-loop-delay', '0'],
        track,
      });
      let browser: Browser | undefined;
      try {
        const auth = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
        const call = async (
          method: string,
          path: string,
          body?: unknown,
        ): Promise<{ status: number; json: Record<string, unknown> }> => {
          const res = await fetch(`${server.url}${path}`, {
            method,
            headers: auth,
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const text = await res.text();
          return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
        };
        // an internal stream (a sink's attempt log) exists once a sink does
        assert.equal((await call('POST', '/v1/streams', { name: 'audit' })).status, 201);
        assert.equal((await call('POST', '/v1/streams', { name: 'audit-copy' })).status, 201);
        assert.equal(
          (
            await call('POST', '/v1/sinks', {
              id: 'copy',
              streams: ['audit'],
              target: { kind: 'stream', stream: 'audit-copy' },
            })
          ).status,
          201,
        );
        assert.equal(
          (await call('POST', '/v1/streams/audit/events', { type: 'login', data: { user: 'ada' } })).status,
          201,
        );
        for (let i = 0; (await call('GET', '/v1/streams/_sink.copy.attempts')).status !== 200; i++) {
          assert.ok(i < 200, 'the sink never wrote its attempt log');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }

        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
        const launched = browser;
        track('chromium', launched, () => !launched.isConnected());
        const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
        const page = await context.newPage();
        const problems = watch(page);
        const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });

        await signIn(page, server.url, server.adminKey);

        // internal streams are hidden until asked for
        await page.locator('tr[data-stream="audit"]').waitFor();
        assert.equal(await page.locator('tr[data-stream^="_sink."]').count(), 0);
        await page.check('input.show-internal');
        await page.locator('tr[data-stream="_sink.copy.attempts"]').waitFor();
        await page.uncheck('input.show-internal');
        await page.locator('tr[data-stream="_sink.copy.attempts"]').waitFor({ state: 'detached' });

        // create a stream with retention in days and GiB
        await page.click('button.new-stream');
        await page.fill('#stream-name', 'orders');
        await page.fill('#stream-description', 'Orders from the shop');
        await page.fill('#stream-age', '7');
        await page.fill('#stream-size', '1.5');
        await shot('stream-create');
        await page.click('form.stream-form button[type="submit"]');
        await page.waitForURL(/#\/streams\/orders/);
        const created = await call('GET', '/v1/streams/orders');
        assert.equal(created.status, 200);
        assert.deepEqual(created.json.retention, { maxAgeMs: 7 * DAY, maxBytes: 1.5 * GIB, maxEvents: null });
        assert.equal(await page.locator('[data-figure="retention"]').innerText(), '7 days, 1.5 GiB');

        // change it: 30 days, no size limit
        await page.click('nav.tabs a:text("Settings")');
        assert.equal(await page.inputValue('#stream-age'), '7');
        await page.fill('#stream-age', '30');
        await page.fill('#stream-size', '');
        await page.click('form.stream-form button[type="submit"]');
        await page.locator('[data-note="saved"]').waitFor();
        assert.deepEqual((await call('GET', '/v1/streams/orders')).json.retention, {
          maxAgeMs: 30 * DAY,
          maxBytes: null,
          maxEvents: null,
        });
        await waitForText(page.locator('[data-figure="retention"]'), '30 days');

        // produce: the schema refuses a string amount, the fault is shown at its line; then a good one
        assert.equal(
          (
            await call('POST', '/v1/streams/orders/schemas/order.placed', {
              type: 'object',
              properties: { order: { type: 'string' }, amount: { type: 'number' } },
              required: ['order'],
            })
          ).status,
          201,
        );
        await page.click('nav.tabs a:text("Produce")');
        await page.fill('#produce-type', 'order.placed');
        await page.fill('#produce-data', '{\n  "order": "A-1",\n  "amount": "lots"\n}');
        await page.click('form.produce button[type="submit"]');
        const fault = page.locator('form.produce [data-fault]');
        await fault.waitFor();
        assert.match(await fault.innerText(), /^line 3: .*\/data\/amount/);
        assert.equal(
          await page.evaluate(
            "(() => { const a = document.querySelector('#produce-data'); return a.value.slice(a.selectionStart, a.selectionEnd); })()",
          ),
          '"amount"',
        );
        await shot('stream-produce');
        assert.equal(
          ((await call('GET', '/v1/streams/orders')).json.stats as { count: number }).count,
          0,
          'nothing was sent',
        );
        await page.fill('#produce-data', '{ "order": "A-1", "amount": 250 ');
        await page.click('form.produce button:text("Validate")');
        assert.match(await fault.innerText(), /^Not JSON/);
        await page.fill('#produce-data', '{ "order": "A-1", "amount": 250 }');
        await page.click('form.produce button[type="submit"]');
        await waitForText(page.locator('[data-note="produce"]'), /Produced as seq 1/);
        const stored = (await call('GET', '/v1/streams/orders/events')).json.events as {
          type: string;
          data: unknown;
        }[];
        assert.deepEqual(
          stored.map((e) => [e.type, e.data]),
          [['order.placed', { order: 'A-1', amount: 250 }]],
        );

        // more events (through the API), then search by content, from a seq, from a time
        const events = Array.from({ length: 9 }, (_, i) => ({
          type: 'order.placed',
          time: `2027-03-0${i + 1}T12:00:00Z`,
          data: { order: `A-${i + 2}`, amount: (i + 2) * 50 },
        }));
        assert.equal((await call('POST', '/v1/streams/orders/events', events)).status, 201);
        await page.click('nav.tabs a:text("Events")');
        const seqs = () =>
          page
            .locator('table.events tbody tr')
            .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
        await page.locator('table.events tr[data-seq="10"]').waitFor();
        await waitForText(page.locator('[data-figure="count"]'), '10');
        await page.fill('form.filters input[name="filter"]', 'data.amount >= 400 and data.amount < 500');
        await page.fill('form.filters input[name="seq"]', '1');
        await page.click('form.filters button[type="submit"]');
        await waitForSeqs(seqs, [8, 9]);
        await shot('stream-search');
        // a row opens from the keyboard
        await page.locator('table.events tr[data-seq="8"]').focus();
        await page.keyboard.press('Enter');
        assert.match(await page.locator('.event-detail').innerText(), /"A-8"/);
        // a bad expression is the server's 400, shown
        await page.fill('form.filters input[name="filter"]', 'data.amount >');
        await page.click('form.filters button[type="submit"]');
        await waitForText(page.locator('.browser .error'), /INVALID_EXPRESSION.*"filter"/);
        // from seq 7, no filter
        await page.fill('form.filters input[name="filter"]', '');
        await page.fill('form.filters input[name="seq"]', '7');
        await page.click('form.filters button[type="submit"]');
        await waitForSeqs(seqs, [7, 8, 9, 10]);
        // from a time (the browser's local time of 2027-03-08 12:00 UTC): seq 9 and 10
        // the browser's local wall time of that instant (sv-SE reads as ISO 8601)
        const march8 = (
          (await page.evaluate("new Date(Date.UTC(2027, 2, 8, 12)).toLocaleString('sv-SE')")) as string
        ).replace(' ', 'T');
        await page.fill('form.filters input[name="seq"]', '');
        await page.fill('form.filters input[name="from"]', march8);
        await page.click('form.filters button[type="submit"]');
        await waitForSeqs(seqs, [9, 10]);
        // times are local with the UTC instant on hover
        assert.equal(
          await page.locator('table.events tr[data-seq="9"] time').getAttribute('title'),
          '2027-03-08 12:00:00.000 UTC',
        );

        // consumers: create from the beginning, see lag, seek by seq and by time, reset, delete
        await page.click('nav.tabs a:text("Consumers")');
        await page.fill('form.new-consumer input[name="name"]', 'billing');
        await page.selectOption('form.new-consumer select[name="start"]', 'beginning');
        await page.click('form.new-consumer button[type="submit"]');
        const row = page.locator('tr[data-consumer="billing"]');
        await waitForText(row.locator('.lag'), '10');
        assert.equal((await call('GET', '/v1/streams/orders/consumers/billing')).status, 200);
        await row.locator('input[name="to"]').fill('6');
        await row.locator('button:text("Seek")').click();
        await waitForText(row.locator('.lag'), '5');
        assert.equal(
          ((await call('GET', '/v1/streams/orders/consumers/billing/lag')).json as { pending: number }).pending,
          5,
        );
        await shot('stream-consumers');
        await row.locator('select').selectOption('time');
        await row.locator('input[name="to"]').fill(march8);
        await row.locator('button:text("Seek")').click();
        await waitForText(row.locator('.lag'), '2');
        await row.locator('button.reset').click();
        await waitForText(row.locator('.lag'), '10');
        assert.equal(
          ((await call('GET', '/v1/streams/orders/consumers/billing/lag')).json as { pending: number }).pending,
          10,
        );
        // lag moves as events arrive
        assert.equal(
          (await call('POST', '/v1/streams/orders/events', { type: 'order.paid', data: { order: 'A-1' } })).status,
          201,
        );
        await waitForText(row.locator('.lag'), '11');
        await row.locator('button:text("Delete")').click();
        const dialog = page.locator('dialog.confirm');
        assert.match(await dialog.innerText(), /committed at seq 0/);
        await dialog.locator('button.danger').click();
        await row.waitFor({ state: 'detached' });
        assert.equal((await call('GET', '/v1/streams/orders/consumers/billing')).status, 404);

        // delete the stream: the confirmation names what goes with it
        assert.equal((await call('POST', '/v1/streams/orders/consumers', { name: 'shipping' })).status, 201);
        await page.click('nav.tabs a:text("Settings")');
        await page.click('button.delete-stream');
        await dialog.waitFor();
        assert.match(await dialog.locator('[data-goes="events"]').innerText(), /^11 events/);
        assert.match(await dialog.locator('[data-goes="consumers"]').innerText(), /shipping/);
        assert.match(await dialog.locator('[data-stays="schemas"]').innerText(), /order\.placed/);
        await shot('stream-delete');
        // Escape cancels: nothing deleted
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'detached' });
        assert.equal((await call('GET', '/v1/streams/orders')).status, 200);
        await page.click('button.delete-stream');
        await dialog.locator('button.danger').click();
        await page.waitForURL(/#\/$/);
        assert.equal((await call('GET', '/v1/streams/orders')).status, 404);

        // keyboard: the header links and the stream link are reachable with Tab
        await page.locator('tr[data-stream="audit"]').waitFor();
        await page.evaluate('document.activeElement && document.activeElement.blur()');
        const focused: string[] = [];
        for (let i = 0; i < 30 && focused.at(-1) !== 'audit'; i++) {
          await page.keyboard.press('Tab');
          focused.push(String(await page.evaluate('document.activeElement && document.activeElement.textContent')));
        }
        assert.equal(focused.at(-1), 'audit', `tabbing reaches the stream link: ${focused.join(' → ')}`);
        await page.keyboard.press('Enter');
        await page.waitForURL(/#\/streams\/audit$/);
        assert.deepEqual(problems, [], 'the console logged errors');

        // 400 px wide, dark: nothing wider than the screen but the tables' own scrolling
        const narrow = await browser.newContext({ viewport: { width: 400, height: 800 }, colorScheme: 'dark' });
        const small = await narrow.newPage();
        const smallProblems = watch(small);
        await signIn(small, server.url, server.adminKey);
        await small.locator('tr[data-stream="audit"]').waitFor();
        assert.equal(await small.evaluate('document.documentElement.scrollWidth'), 400);
        assert.equal(
          await small.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--bg').trim()"),
          '#12161d',
        );
        await small.screenshot({ path: join(shots, 'narrow-dark.png') });
        await small.click('tr[data-stream="audit"] a');
        await small.locator('nav.tabs').waitFor();
        assert.equal(await small.evaluate('document.documentElement.scrollWidth'), 400);
        assert.deepEqual(smallProblems, []);
        await narrow.close();
      } finally {
        await browser?.close();
        await server.close();
      }
    });
  },
);

function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    // refused requests the test makes on purpose are logged by the browser as failed loads
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page: ${err.message}`));
  return problems;
}

async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/console/`);
  await page.fill('#key', key);
  await page.click('button[type="submit"]');
  await page.locator('header.top .who').waitFor();
}

async function waitForSeqs(seqs: () => Promise<number[]>, expected: number[]): Promise<void> {
  let last: number[] = [];
  for (let i = 0; i < 200; i++) {
    last = await seqs();
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(last, expected);
}

async function waitForText(locator: Locator, expected: string | RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await locator.innerText({ timeout: 1000 }).catch(() => '')).trim();
    if (typeof expected === 'string' ? last === expected : expected.test(last)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`expected ${String(expected)}, still "${last}" after ${timeoutMs} ms`);
}
