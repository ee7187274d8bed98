/**
 * Hostile input against every route of every API the app mounts (native, dialects, console):
 * requests generated from the OpenAPI document and the route table with fast-check (random
 * and invalid params, queries, bodies and content types), then a corpus of known-nasty inputs
 * (malformed JSON, invalid UTF-8, huge and deeply nested bodies, prototype-poisoning keys),
 * and, over a real socket, huge headers and slowloris clients. Nothing may answer 5xx or crash
 * the server; refusals are 4xx with a reason; the heap does not grow without bound.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { declaredRoutes } from '../../src/http/plugins/auth.js';
import { buildTestApp, type TestApp } from '../support/test-app.js';

const BODY_LIMIT = 64 * 1024;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface OpenApi {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }>>;
}

interface Target {
  method: string;
  url: string;
  queryNames: string[];
  bodyFields: string[];
}

/** every route worth attacking, with what the OpenAPI document says of its query and body */
function targetsOf(t: TestApp, spec: OpenApi): Target[] {
  const targets: Target[] = [];
  for (const route of declaredRoutes(t.app)) {
    // static files of the API docs are fastify-static's; their own tests cover them
    if (route.url.startsWith('/docs/static')) continue;
    for (const method of [route.method].flat() as string[]) {
      if (method === 'HEAD') continue;
      const op = spec.paths[route.url.replace(/:([^/]+)/g, '{$1}')]?.[method.toLowerCase()];
      const schema = Object.values(op?.requestBody?.content ?? {})[0]?.schema;
      targets.push({
        method,
        url: route.url,
        queryNames: (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: Object.keys(schema?.properties ?? {}),
      });
    }
  }
  return targets;
}

const isLive = (url: string) => url.endsWith('/live');

/** a path param: sometimes the seeded stream, mostly hostile text */
const paramArb = (live: boolean) => fc.oneof(
  live ? fc.constant('no-such-stream') : fc.constant('fz'),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom('..', '%2e%2e', '%00', '%ff%fe', 'a'.repeat(600), '%3Cscript%3E', '-1', '1e999', '%E2%80%AE', 'x%0d%0aSet-Cookie:%20a=b'),
);

const scalarArb = fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('-1', '1e309', 'NaN', '', '9'.repeat(40)));
const valueArb = fc.oneof(scalarArb, fc.array(scalarArb, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), scalarArb, { maxKeys: 4 }));

const contentTypeArb = fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded',
  'application/cloudevents+json', 'application/cloudevents-batch+json', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'garbage/☃', 'application/xml');

function requestArb(target: Target) {
  const params = (target.url.match(/:[^/]+/g) ?? []).map(() => paramArb(isLive(target.url)));
  const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...(target.queryNames.length ? target.queryNames : ['x'])), fc.string({ maxLength: 10 })), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('-1', '0', '1e9', 'true', '%ff'))), { maxLength: 4 });
  const fields = target.bodyFields.length ? target.bodyFields : ['type', 'name'];
  const body = fc.oneof(
    fc.dictionary(fc.constantFrom(...fields), valueArb, { maxKeys: fields.length }).map((o) => JSON.stringify(o)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.array(fc.dictionary(fc.constantFrom(...fields), valueArb, { maxKeys: 3 }), { maxLength: 3 }).map((a) => JSON.stringify(a)),
    fc.string({ maxLength: 100 }),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  );
  return fc.record({ params: fc.tuple(...params), query, body, contentType: contentTypeArb, auth: fc.constantFrom('admin', 'admin', 'admin', 'none', 'basic') });
}

function urlOf(template: string, params: string[], query: [string, string][]): string {
  let i = 0;
  const path = template.replace(/:[^/]+/g, () => params[i++] ?? 'x').replace(/\*/g, 'x');
  const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${v.startsWith('%') ? v : encodeURIComponent(v)}`).join('&');
  return qs ? `${path}?${qs}` : path;
}

/**
 * 5xx answers a seed documents as its API: okdata's PUT on a stream is 501 Not Implemented
 * with `{"message": null}`, as the original answered. Anything else in 5xx is a failure.
 */
function documented5xx(method: string, url: string, status: number): boolean {
  // the path as routed: dot segments resolved, as a URL parser resolves them
  if (status !== 501 || method !== 'PUT') return false;
  const path = new URL(`http://rivulet.test${url}`).pathname;
  return /^(\/streams)?\/[^/]+\/[^/]+$/.test(path);
}

function assertSane(res: { statusCode: number; body: string }, what: string, documented = false): void {
  if (documented) return;
  assert.ok(res.statusCode < 500, `${what} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
  if (res.statusCode >= 400) assert.ok(res.body.length > 2, `${what} answered ${res.statusCode} without a reason`);
}

/** runs the property for one route; a failure names the route and how to replay it */
async function assertRoute(target: Target, property: fc.IAsyncProperty<[unknown]>, seed: number): Promise<void> {
  const details = await fc.check(property, { numRuns: 15, seed });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    assert.fail(`${target.method} ${target.url} (seed ${seed}, path ${details.counterexamplePath}): ${cause}\ncounterexample: ${JSON.stringify(details.counterexample)}`);
  }
}

async function seeded(): Promise<TestApp> {
  const t = await buildTestApp({ limits: { bodyLimit: BODY_LIMIT } });
  const res = await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'fz' } });
  assert.equal(res.statusCode, 201);
  return t;
}

describe('hostile input', () => {
  it('random requests generated from the OpenAPI document and route table: never a 5xx', async () => {
    const t = await seeded();
    try {
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as OpenApi;
      const targets = targetsOf(t, spec);
      assert.ok(targets.length >= 30, `only ${targets.length} routes`);
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const basic = `Basic ${Buffer.from(`fuzz:${t.adminKey}`).toString('base64')}`;
      for (const target of targets) {
        await assertRoute(target, fc.asyncProperty(requestArb(target), async (r) => {
          const url = urlOf(target.url, r.params, r.query);
          const headers: Record<string, string> = r.auth === 'admin' ? { ...t.admin } : r.auth === 'basic' ? { authorization: basic } : {};
          // a live route would stream forever once accepted: ask it for something it refuses
          if (isLive(target.url)) headers.accept = 'application/json';
          const withBody = BODY_METHODS.has(target.method);
          if (withBody) headers['content-type'] = r.contentType;
          const res = await t.app.inject({ method: target.method as 'GET', url, headers, ...(withBody ? { payload: r.body } : {}) });
          assertSane(res, `${target.method} ${url}`, documented5xx(target.method, url, res.statusCode));
        }), 20240601 + targets.indexOf(target));
      }
      gc();
      const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
      assert.ok(grownMb < 64, `heap grew by ${grownMb.toFixed(1)} MiB`);
    } finally {
      await t.close();
    }
  });

  it('a corpus of nasty bodies on every route that takes one: 4xx with a reason', async () => {
    const t = await seeded();
    try {
      const nasty: [string, string | Buffer, string][] = [
        ['malformed JSON', '{"type": "a",', 'application/json'],
        ['truncated', '[{"type":"a"}', 'application/json'],
        ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]), 'application/json'],
        ['lone surrogate escape', '{"type":"\\ud800","name":"\\udfff"}', 'application/json'],
        ['huge body', `{"type":"a","data":"${'x'.repeat(BODY_LIMIT + 10)}"}`, 'application/json'],
        ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`, 'application/json'],
        ['deep objects', `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`, 'application/json'],
        ['__proto__', '{"__proto__":{"admin":true},"type":"a","name":"p"}', 'application/json'],
        ['constructor.prototype', '{"constructor":{"prototype":{"admin":true}},"type":"a"}', 'application/json'],
        ['nested __proto__', '[{"type":"a","data":{"x":[{"__proto__":{"polluted":1}}]}}]', 'application/json'],
        ['NUL bytes', '{"type":"a\\u0000b","name":"\u0000"}', 'application/json'],
        ['huge number', `{"type":"a","seq":1${'0'.repeat(400)}}`, 'application/json'],
        ['huge array', `[${Array.from({ length: 20000 }, () => '0').join(',')}]`, 'application/json'],
        ['wrong type', 'type=a', 'application/x-www-form-urlencoded'],
        ['xml', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', 'application/xml'],
        ['empty', '', 'application/json'],
      ];
      const targets = declaredRoutes(t.app).flatMap((r) => ([r.method].flat() as string[]).filter((m) => BODY_METHODS.has(m)).map((m) => ({ method: m, url: r.url.replace(/:[^/]+/g, 'fz').replace(/\*/g, 'x') })));
      assert.ok(targets.length >= 10);
      for (const target of targets) {
        for (const [what, payload, type] of nasty) {
          const res = await t.app.inject({ method: target.method as 'POST', url: target.url, headers: { ...t.admin, 'content-type': type }, payload });
          assertSane(res, `${what} → ${target.method} ${target.url}`, documented5xx(target.method, target.url, res.statusCode));
        }
      }
      assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted');
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
    } finally {
      await t.close();
    }
  });

  it('huge headers and slowloris clients over a real socket are cut off, and the server keeps serving', async () => {
    const t = await buildTestApp({ timeouts: { headersTimeoutMs: 400, requestTimeoutMs: 800, checkIntervalMs: 100 } });
    try {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as { port: number };
      const open = () => new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
      /** writes `chunks` one every `everyMs` until the server closes the socket; answers what it sent back and how many were written */
      const trickle = async (chunks: string[], everyMs: number) => {
        const s = await open();
        let answer = '';
        let closed = false;
        s.on('data', (d: Buffer) => { answer += d.toString('latin1'); });
        s.on('error', () => {});
        const done = new Promise<void>((resolve) => s.once('close', () => { closed = true; resolve(); }));
        let sent = 0;
        for (const chunk of chunks) {
          if (closed) break;
          s.write(chunk);
          sent++;
          await new Promise((r) => setTimeout(r, everyMs));
        }
        const cut = closed;
        s.destroy();
        await done;
        return { answer, sent, cut };
      };

      // headers a byte at a time: 200 bytes at 20 ms each would take 4 s; the server must hang up near 0.4 s
      const header = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`;
      const slowHeaders = await trickle([...header], 20);
      assert.ok(slowHeaders.cut, 'the server cut the slowloris client off');
      assert.ok(slowHeaders.sent < header.length / 2, `it waited for ${slowHeaders.sent} bytes`);
      assert.match(slowHeaders.answer, /^(HTTP\/1\.1 408|$)/);

      // a body trickled after complete headers is cut by the request timeout
      const bodyHead = 'POST /v1/streams HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 300\r\n' + `Authorization: Bearer ${t.adminKey}\r\n\r\n`;
      const slowBody = await trickle([bodyHead, ...'{"name":"slow"'.padEnd(300, ' ')], 20);
      assert.ok(slowBody.cut, 'the server cut the slow body off');
      assert.ok(slowBody.sent < 150, `it waited for ${slowBody.sent} chunks`);

      // headers beyond Node's limit: 431, not a crash
      const big = await trickle([`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`], 50);
      assert.match(big.answer, /^HTTP\/1\.1 431/);
      const many = await trickle([`GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`], 50);
      assert.match(many.answer, /^HTTP\/1\.1 (431|400)/);

      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(res.status, 200, 'still serving');
      await res.text();
    } finally {
      await t.close();
    }
  });
});
