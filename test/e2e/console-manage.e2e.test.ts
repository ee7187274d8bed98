/**
 * The console managing sinks, schemas, rules and keys in a real browser (Debian's chromium via
 * playwright-core) against the built server as a process (with --sink-allow-loopback and a real
 * HTTP receiver on a loopback port). Each action is taken in the page and checked through the
 * API or at the receiver: a sink created and changed after a dry run on a real event, a range
 * replayed, paused, moved and resumed, a dead letter inspected and retried alone, the sink
 * deleted; a schema version registered after its
 * compatibility report; a rule created and tried; a key created (its secret shown once) and
 * revoked.
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
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { fetch } from 'undici';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess } from '../support/server-process.js';

const CHROMIUM = '/usr/bin/chromium';
const DOCS_SHOTS = fileURLToPath(new URL('../../docs/console/', import.meta.url));

interface Received {
  path: string;
  body: Record<string, unknown>;
}

/** answers 200, or 422 to bodies that say `reject` while refusing is on */
async function startReceiver() {
  const received: Received[] = [];
  let refusing = true;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      if (refusing && body['reject']) {
        res.writeHead(422, { 'content-type': 'text/plain' }).end('rejected');
        return;
      }
      received.push({ path: req.url ?? '', body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    accept: () => (refusing = false),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe(
  'web console: managing sinks, schemas, rules and keys (chromium)',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing: apt-get install -y chromium` },
  () => {
    it('creates and edits a sink after a dry run, replays, retries one dead letter; registers a schema; creates a rule; creates and revokes a key', async () => {
      const shots =
        process.env.RIVULET_CONSOLE_SCREENSHOTS === '1' ? DOCS_SHOTS : tempDir('rivulet-console-manage-shots');
      mkdirSync(shots, { recursive: true });
      const receiver = await startReceiver();
      const server = await startServerProcess({
        dataDir: tempDir('rivulet-console-manage-e2e'),
        args: ['--max-event-loop-delay', '0', '--sink-allow-loopback'],
        track,
      });
      let browser: Browser | undefined;
      try {
        const auth = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
        const call = async (
          method: string,
          path: string,
          body?: unknown,
          key = server.adminKey,
        ): Promise<{ status: number; json: Record<string, unknown> }> => {
          const res = await fetch(`${server.url}${path}`, {
            method,
            headers: { ...auth, authorization: `Bearer ${key}` },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const text = await res.text();
          return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
        };
        assert.equal((await call('POST', '/v1/streams', { name: 'orders' })).status, 201);
        const produce = async (...data: Record<string, unknown>[]) =>
          assert.equal(
            (
              await call(
                'POST',
                '/v1/streams/orders/events',
                data.map((d) => ({ type: 'order.placed', data: d })),
              )
            ).status,
            201,
          );
        await produce({ order: 'A-1', amount: 50 }, { order: 'A-2', amount: 500 });

        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
        const launched = browser;
        track('chromium', launched, () => !launched.isConnected());
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
        });
        page.on('pageerror', (err) => problems.push(`page: ${err.message}`));
        const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
        await page.goto(`${server.url}/console/`);
        await page.fill('#key', server.adminKey);
        await page.click('button[type="submit"]');
        await page.locator('header.top .who').waitFor();

        // a new sink, tried on the latest event (seq 2) and on seq 1 before it is saved
        await page.click('header.top nav a:text("Sinks")');
        await page.click('button.new-sink');
        const editor = page.locator('form.sink-editor');
        await editor.locator('#sink-id').fill('big-orders');
        await editor.locator('#sink-streams').fill('orders');
        await editor.locator('#sink-condition').fill('data.amount > 100');
        await editor
          .locator('#sink-transform')
          .fill('{"order": data.order, "total": data.amount, "reject": data.reject}');
        await editor.locator('#sink-target').fill(
          JSON.stringify(
            {
              kind: 'http',
              url: `${receiver.base}/orders/{order}`,
              datamap: { order: '$.msg.order', total: '$.msg.total', reject: '$.msg.reject' },
              json_body: ['order', 'total', 'reject'],
              token: 'tok-5f4dcc3b5a',
            },
            null,
            2,
          ),
        );
        await editor.locator('button.dry-run-button').click();
        const result = editor.locator('.dry-run');
        await result.waitFor();
        assert.equal(await result.getAttribute('data-matched'), 'true');
        assert.match(await result.locator('[data-step="transform"]').innerText(), /"total"[\s\S]*500/);
        const request = await result.locator('[data-step="request"]').innerText();
        assert.match(request, new RegExp(`^POST ${receiver.base}/orders/A-2`));
        assert.match(request, /authorization: \[redacted\]/);
        assert.ok(!request.includes('tok-5f4dcc3b5a'));
        await shot('sink-create-dry-run');
        await editor.locator('input[name="trySeq"]').fill('1');
        await editor.locator('button.dry-run-button').click();
        await editor.locator('.dry-run[data-matched="false"]').waitFor();
        // a mistake in the filter is shown at the field, from the server's pointer
        await editor.locator('#sink-condition').fill('data.amount >');
        await editor.locator('button.dry-run-button').click();
        await waitForText(editor.locator('[data-pointer="/filter/condition"]'), /syntax error/);
        assert.equal((await call('GET', '/v1/sinks/big-orders')).status, 404, 'a dry run saves nothing');
        assert.equal(receiver.received.length, 0, 'a dry run sends nothing');
        await editor.locator('#sink-condition').fill('data.amount > 100');
        await editor.locator('#sink-start').selectOption('beginning');
        await editor.locator('button[type="submit"]').click();
        await page.waitForURL(/#\/sinks\/big-orders\/settings/);
        const created = await call('GET', '/v1/sinks/big-orders');
        assert.deepEqual(created.json.filter, { condition: 'data.amount > 100' });
        await waitFor(() => receiver.received.length === 1, 'the big order delivered');
        assert.deepEqual(receiver.received[0], { path: '/orders/A-2', body: { order: 'A-2', total: 500 } });

        // change it: a lower threshold, tried first; the stored token is kept though the editor shows it redacted
        const settings = page.locator('form.sink-editor');
        await settings.locator('#sink-condition').fill('data.amount > 10');
        await settings.locator('input[name="trySeq"]').fill('1');
        await settings.locator('button.dry-run-button').click();
        await settings.locator('.dry-run[data-matched="true"]').waitFor();
        await settings.locator('button[type="submit"]').click();
        await page.locator('[data-note="saved"]').waitFor();
        const changed = await call('GET', '/v1/sinks/big-orders');
        assert.deepEqual(changed.json.filter, { condition: 'data.amount > 10' });
        assert.equal((changed.json.target as { token: string }).token, '[redacted]');
        await produce({ order: 'A-3', amount: 20 });
        await waitFor(() => receiver.received.some((r) => r.body['order'] === 'A-3'), 'the lower threshold applies');

        // replay seq 1–2: delivered again beside the normal progress (seq 1 now passes)
        await page.fill('form.replay input[name="fromSeq"]', '1');
        await page.fill('form.replay input[name="toSeq"]', '2');
        await page.click('form.replay button[type="submit"]');
        await page.locator('[data-note="replay"]').waitFor();
        await waitFor(
          () =>
            receiver.received.filter((r) => r.body['order'] === 'A-2').length === 2 &&
            receiver.received.some((r) => r.body['order'] === 'A-1'),
          'the replayed range',
        );

        // pause, seek (to the beginning, then to seq 3) and resume: seq 3 is delivered again
        await page.click('.sink-page .controls button:text("Pause")');
        await page.locator('.sink-page .controls [data-sink-status="paused"]').waitFor();
        assert.equal((await call('GET', '/v1/sinks/big-orders')).json.state, 'paused');
        const sinkLag = async () =>
          ((await call('GET', '/v1/sinks/big-orders')).json.lag as { pending: number }).pending;
        await page.selectOption('form.seek select[name="from"]', 'beginning');
        await page.click('form.seek button[type="submit"]');
        await waitForAsync(async () => (await sinkLag()) === 3, 'lag 3 after seeking to the beginning');
        await page.selectOption('form.seek select[name="from"]', 'seq');
        await page.fill('form.seek input[name="seq"]', '3');
        await page.click('form.seek button[type="submit"]');
        await waitForAsync(async () => (await sinkLag()) === 1, 'lag 1 after seeking to seq 3');
        await page.click('.sink-page .controls button:text("Resume")');
        await waitForAsync(
          async () => (await call('GET', '/v1/sinks/big-orders')).json.state === 'running',
          'the sink running again',
        );
        await waitFor(
          () => receiver.received.filter((r) => r.body['order'] === 'A-3').length === 2,
          'seq 3 delivered again after the seek',
          30_000,
        );

        // a dead letter: inspected, then retried alone once the receiver takes it
        await produce({ order: 'A-4', amount: 40, reject: true }, { order: 'A-5', amount: 60, reject: true });
        await page.click('nav.tabs a:text("Dead letters")');
        const dead = page.locator('table.dead-letters tr[data-dead-seq="4"]');
        await dead.waitFor({ timeout: 20_000 });
        await page.locator('table.dead-letters tr[data-dead-seq="5"]').waitFor({ timeout: 20_000 });
        await dead.locator('button.inspect').click();
        assert.match(await page.locator('.dead-letters .event-detail').innerText(), /"A-4"[\s\S]*deadLetter/);
        await shot('sink-dead-letter-inspect');
        receiver.accept();
        await dead.locator('button.retry-one').click();
        await page.locator('[data-note="retry"]').waitFor();
        await waitFor(() => receiver.received.some((r) => r.body['order'] === 'A-4'), 'the one dead letter retried');
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.ok(!receiver.received.some((r) => r.body['order'] === 'A-5'), 'only the one retried');

        // a schema version: the compatibility report first, registered only when compatible
        assert.equal(
          (
            await call('POST', '/v1/streams/orders/schemas/order.placed', {
              type: 'object',
              properties: { order: { type: 'string' } },
              required: ['order'],
            })
          ).status,
          201,
        );
        await page.goto(`${server.url}/console/#/streams/orders/schemas`);
        await page.click('button.new-schema');
        const schemaForm = page.locator('form.schema-register');
        await schemaForm.locator('#schema-type').fill('order.placed');
        await schemaForm.locator('#schema-text').fill(
          JSON.stringify({
            type: 'object',
            properties: { order: { type: 'string' }, total: { type: 'number' } },
            required: ['order', 'total'],
          }),
        );
        await schemaForm.locator('button.check-compatibility').click();
        await schemaForm.locator('.dry-run[data-compatible="false"] tr[data-rule="required-added"]').first().waitFor();
        assert.equal(await schemaForm.locator('button.register-schema').isDisabled(), true);
        await shot('schema-compatibility');
        // widening a field is backward compatible
        await schemaForm.locator('#schema-text').fill(
          JSON.stringify({
            type: 'object',
            properties: { order: { type: ['string', 'number'] } },
            required: ['order'],
          }),
        );
        await schemaForm.locator('button.check-compatibility').click();
        await schemaForm.locator('.dry-run[data-compatible="true"]').waitFor();
        assert.equal(await schemaForm.locator('button.register-schema').innerText(), 'Register as v2');
        await schemaForm.locator('button.register-schema').click();
        await page.locator('table.schemas button.active:text("v2")').waitFor();
        assert.deepEqual(
          ((await call('GET', '/v1/streams/orders/schemas/order.placed')).json.versions as { version: number }[]).map(
            (v) => v.version,
          ),
          [1, 2],
        );

        // a rule: created (disabled) in the page, tried on a sample event, changed
        assert.equal(
          (
            await call('POST', '/v1/action-targets', {
              id: 'shop-hook',
              name: 'Shop backend',
              url: `${receiver.base}/actions`,
            })
          ).status,
          201,
        );
        await page.click('header.top nav a:text("Rules")');
        await page.click('button.new-rule');
        const ruleForm = page.locator('form.rule-editor');
        await ruleForm.locator('#rule-id').fill('big');
        await ruleForm.locator('#rule-streams').fill('orders');
        await ruleForm.locator('#rule-conditions').fill('[{ "expression": "data.total > 100" }]');
        await ruleForm.locator('#rule-actions').fill('[{ "actionTargetId": "shop-hook", "actionTypeId": "notify" }]');
        await ruleForm.locator('button[type="submit"]').click();
        await page.waitForURL(/#\/rules\/big$/);
        const rule = await call('GET', '/v1/rules/big');
        assert.equal(rule.json.enabled, false);
        assert.deepEqual(rule.json.streams, ['orders']);
        await page.fill('#rule-sample', '{ "type": "order.placed", "data": { "total": 150 } }');
        await page.click('button.rule-dry-run-button');
        await page.locator('.rule-dry-run .dry-run[data-matched="true"]').waitFor();
        assert.match(await page.locator('.rule-dry-run .dry-run').innerText(), /shop-hook/);
        await shot('rule-dry-run');
        await page.fill('#rule-sample', '{ "type": "order.placed", "data": { "total": 50 } }');
        await page.click('button.rule-dry-run-button');
        await page.locator('.rule-dry-run .dry-run[data-matched="false"]').waitFor();
        await page.click('button.edit-rule');
        await page.locator('form.rule-editor #rule-conditions').fill('[{ "expression": "data.total > 10" }]');
        // the change is tried before it is saved
        await page.click('button.rule-dry-run-button');
        await page.locator('.rule-dry-run .dry-run[data-matched="true"]').waitFor();
        assert.deepEqual(
          ((await call('GET', '/v1/rules/big')).json.conditions as { expression: string }[]).map((c) => c.expression),
          ['data.total > 100'],
          'a dry run saves nothing',
        );
        await page.click('form.rule-editor button[type="submit"]');
        await page.locator('form.rule-editor').waitFor({ state: 'detached' });
        assert.deepEqual(
          ((await call('GET', '/v1/rules/big')).json.conditions as { expression: string }[]).map((c) => c.expression),
          ['data.total > 10'],
        );

        // a key: created with scopes, its secret shown once and working; revoked
        await page.click('header.top nav a:text("Keys")');
        const keyForm = page.locator('form.new-key');
        await keyForm.locator('#key-name').fill('billing service');
        await keyForm.locator('#key-owner').fill('shop');
        await keyForm.locator('#key-consume').fill('orders');
        await keyForm.locator('#key-produce').fill('orders, returns.*');
        await keyForm.locator('button[type="submit"]').click();
        const once = page.locator('.secret-once');
        await once.waitFor();
        const secret = (await once.locator('.copy-text').innerText()).trim();
        const keyId = await once.getAttribute('data-key');
        assert.ok(keyId);
        const whoami = await call('GET', '/v1/whoami', undefined, secret);
        assert.equal(whoami.status, 200);
        assert.deepEqual(whoami.json.scopes, ['produce:orders', 'produce:returns.*', 'consume:orders']);
        await once.locator('button:text("Copy")').waitFor();
        await shot('keys');
        await page.locator('.secret-once button:text("Done, hide it")').click();
        await once.waitFor({ state: 'detached' });
        assert.ok(!(await page.content()).includes(secret), 'the secret is shown once only');
        await page.locator(`tr[data-key-id="${keyId}"] button.revoke`).click();
        await page.locator('dialog.confirm button.danger').click();
        await page.locator(`tr[data-key-id="${keyId}"]`).waitFor({ state: 'detached' });
        assert.equal((await call('GET', '/v1/whoami', undefined, secret)).status, 401);

        // at 400 px the sink page, its editor and the keys page do not scroll sideways
        await page.setViewportSize({ width: 400, height: 800 });
        for (const path of ['#/sinks/big-orders/settings', '#/keys', '#/rules/big']) {
          await page.goto(`${server.url}/console/${path}`);
          await page.locator('main h2').first().waitFor();
          await page.waitForTimeout(200);
          assert.equal(await page.evaluate('document.documentElement.scrollWidth'), 400, `${path} fits 400 px`);
        }
        await shot('rule-narrow');

        // the sink deleted after a confirmation naming what goes with it (at 400 px too)
        await page.goto(`${server.url}/console/#/sinks/big-orders/settings`);
        await page.click('button.delete-sink');
        const confirm = page.locator('dialog.confirm');
        assert.match(await confirm.locator('[data-goes="stats"]').innerText(), /attempt log/);
        await confirm.locator('button.danger').click();
        await page.waitForURL(/#\/sinks$/);
        assert.equal((await call('GET', '/v1/sinks/big-orders')).status, 404);

        assert.deepEqual(problems, [], 'the console logged errors');
      } finally {
        await browser?.close();
        await server.close();
        await receiver.close();
      }
    });
  },
);

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForAsync(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
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

export type { Page };
