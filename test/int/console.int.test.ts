/**
 * The web console's static files and their security headers, from the real bundle (built by
 * scripts/build-console.mjs into a temp dir), and the produce-rates endpoints its charts read.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/resources.js';
import { buildTestApp, type TestAppOptions } from '../support/test-app.js';

async function disposableApp(options: TestAppOptions = {}) {
  const t = await buildTestApp(options);
  return Object.assign(t, { [Symbol.asyncDispose]: () => t.close() });
}

const BUILD = fileURLToPath(new URL('../../scripts/build-console.mjs', import.meta.url));

function assertSecurityHeaders(headers: Record<string, unknown>): void {
  const csp = String(headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.match(csp, /connect-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.equal(headers['x-frame-options'], 'DENY');
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['referrer-policy'], 'no-referrer');
}

describe('console static files', () => {
  let dir: string;
  before(() => {
    // outside tempDir's per-test cleanup: the tests below share one build
    dir = mkdtempSync(join(tmpdir(), 'rivulet-console-build-'));
    execFileSync(process.execPath, [BUILD, '--out', dir, '--quiet'], { stdio: 'inherit' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves index.html at /console/ without a key, with a strict CSP and no inline code', async () => {
    await using t = await disposableApp({ console: { dir } });
    const redirect = await t.app.inject({ method: 'GET', url: '/console' });
    assert.equal(redirect.statusCode, 308);
    assert.equal(redirect.headers.location, '/console/');

    const res = await t.app.inject({ method: 'GET', url: '/console/' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assertSecurityHeaders(res.headers);
    assert.match(res.body, /<script type="module" src="console.js"><\/script>/);
    assert.match(res.body, /<link rel="stylesheet" href="console.css" ?\/?>/);
    // the CSP forbids inline code: the page must not need any
    assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(res.body, /<style|\sstyle=|\son[a-z]+=/i);
  });

  it('serves the bundle gzipped when asked, with an ETag that answers 304', async () => {
    await using t = await disposableApp({ console: { dir } });
    const plain = await t.app.inject({ method: 'GET', url: '/console/console.js' });
    assert.equal(plain.statusCode, 200);
    assert.match(String(plain.headers['content-type']), /^text\/javascript/);
    assert.equal(plain.headers['content-encoding'], undefined);
    assertSecurityHeaders(plain.headers);
    assert.ok(plain.rawPayload.length > 1000);

    const zipped = await t.app.inject({
      method: 'GET',
      url: '/console/console.js',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers.vary, 'accept-encoding');
    assert.ok(zipped.rawPayload.length < plain.rawPayload.length / 2);
    assert.deepEqual(gunzipSync(zipped.rawPayload), plain.rawPayload);

    const etag = String(plain.headers.etag);
    const again = await t.app.inject({ method: 'GET', url: '/console/console.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.rawPayload.length, 0);

    const css = await t.app.inject({ method: 'GET', url: '/console/console.css' });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    // uPlot's stylesheet is bundled in, so the charts need no inline style element
    assert.match(css.body, /\.uplot/);
  });

  it('answers an unknown file or a path outside the folder with a 404 problem, headers still set', async () => {
    await using t = await disposableApp({ console: { dir } });
    for (const url of [
      '/console/nope.js',
      '/console/..%2Fpackage.json',
      '/console/%2e%2e%2f%2e%2e%2fpackage.json',
      '/console/a/b',
    ]) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /application\/problem\+json/, url);
    }
    const res = await t.app.inject({ method: 'GET', url: '/console/nope.js' });
    assertSecurityHeaders(res.headers);
  });

  it('says the console is not built when its folder is missing', async () => {
    await using t = await disposableApp({ console: { dir: `${tempDir()}/missing` } });
    const res = await t.app.inject({ method: 'GET', url: '/console/' });
    assert.equal(res.statusCode, 404);
    assert.match(res.json().detail, /npm run build/);
  });
});

describe('produce rates endpoints', () => {
  it('count the events produced per minute, per stream, for the keys that may see them', async () => {
    let now = Date.parse('2026-03-01T10:00:10Z');
    await using t = await disposableApp({ core: { clock: { now: () => new Date(now) } } });
    for (const name of ['orders', 'audit']) {
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name } })).statusCode,
        201,
      );
    }
    const produce = async (stream: string, n: number) => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/streams/${stream}/events`,
        headers: t.admin,
        payload: Array.from({ length: n }, (_, i) => ({ type: 'x', data: { i } })),
      });
      assert.equal(res.statusCode, 201, res.body);
    };
    await produce('orders', 4);
    await produce('audit', 1);
    now += 60_000;
    await produce('orders', 6);

    const one = await t.app.inject({
      method: 'GET',
      url: '/v1/streams/orders/rates?window=600&step=60',
      headers: t.admin,
    });
    assert.equal(one.statusCode, 200, one.body);
    const series = one.json();
    assert.equal(series.stepSeconds, 60);
    assert.equal(series.counts.length, 10);
    assert.deepEqual(series.counts.slice(-2), [4, 6]);
    assert.equal(series.perSecond.at(-1), 0.1);
    assert.equal(series.start, '2026-03-01T09:52:00.000Z');

    const summed = await t.app.inject({
      method: 'GET',
      url: '/v1/streams/orders/rates?window=3600&step=600',
      headers: t.admin,
    });
    assert.deepEqual(summed.json().counts, [0, 0, 0, 0, 0, 10]);

    const reader = await t.keyWith(['consume:orders']);
    const all = await t.app.inject({ method: 'GET', url: '/v1/rates?window=120', headers: reader });
    assert.equal(all.statusCode, 200, all.body);
    assert.deepEqual(
      all.json().streams.map((s: { stream: string; counts: number[] }) => [s.stream, s.counts]),
      [['orders', [4, 6]]],
    );
    const admin = await t.app.inject({ method: 'GET', url: '/v1/rates?window=120', headers: t.admin });
    assert.deepEqual(
      admin.json().streams.map((s: { stream: string }) => s.stream),
      ['audit', 'orders'],
    );

    const forbidden = await t.app.inject({ method: 'GET', url: '/v1/streams/audit/rates', headers: reader });
    assert.equal(forbidden.statusCode, 403);
    const missing = await t.app.inject({ method: 'GET', url: '/v1/streams/nope/rates', headers: t.admin });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'STREAM_NOT_FOUND');
    for (const query of ['window=90', 'window=7200', 'step=30', 'window=600&step=420', 'window=abc', 'extra=1']) {
      const bad = await t.app.inject({ method: 'GET', url: `/v1/streams/orders/rates?${query}`, headers: t.admin });
      assert.equal(bad.statusCode, 400, `${query}: ${bad.body}`);
      assert.equal(bad.json().code, 'VALIDATION_FAILED', query);
    }
  });
});
