/**
 * Hostile input against every route of every API the app mounts (native, dialects, console):
 * requests generated with fast-check from the OpenAPI document and the route table (random
 * and invalid params, queries, bodies and content types; hostile strings, odd numbers, wrong
 * types, huge and deeply nested values) under keys of several owners, then a corpus of
 * known-nasty inputs (malformed JSON, invalid UTF-8, huge and deeply nested bodies,
 * prototype-poisoning keys), and, over a real socket, huge headers and slowloris clients.
 * Nothing may answer 5xx or crash the server; refusals are 4xx with a reason, in the format of
 * the API that answered; /healthz answers throughout; one owner never sees or changes
 * another's data; the heap does not grow without bound.
 *
 * `FUZZ_RUNS` sets how many generated requests the first test sends (spread over the routes;
 * a bounded default keeps `npm test` short) and `FUZZ_SEED` its seed: the same seed replays
 * the same requests. A long run prints every 5xx it met with the request that caused it.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createDelivery } from '../../src/delivery/delivery-setup.js';
import { declaredRoutes } from '../../src/http/plugins/auth.js';
import { apiOf, assertApiError, type Api } from '../support/api-format.js';
import { buildTestApp, type TestApp } from '../support/test-app.js';

const BODY_LIMIT = 64 * 1024;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface OpenApi {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string }[];
        requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
      }
    >
  >;
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

/** percent-encoded; a lone surrogate is sent as U+FFFD, the only way it can travel in a URL */
const encoded = (text: string) => encodeURIComponent(wellFormed(text));
const wellFormed = (text: string) =>
  text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** what an owner's key may aim at: its own names and the other owner's (the target of the test) */
const WORLD_NAMES = [
  'fz',
  'bob.orders',
  'alice.orders',
  'c1',
  'bob-hook',
  'alice-hook',
  'bob-rule',
  'bob-src',
  'bob-type',
  'bob-lamp',
  'bob-job',
  'bobset',
  'bob',
  'shop',
  '1',
  'latest',
  'order.placed',
];

/** a path param: sometimes a real name, mostly hostile text */
const paramArb = (live: boolean) =>
  fc.oneof(
    live ? fc.constant('no-such-stream') : fc.constantFrom(...WORLD_NAMES),
    fc.string({ maxLength: 40 }).map(encoded),
    fc.constantFrom(
      '..',
      '%2e%2e',
      '%00',
      '%ff%fe',
      '%zz',
      '%',
      'a'.repeat(600),
      '%3Cscript%3E',
      '-1',
      '1e999',
      '1e309',
      '-0',
      '1.5',
      '0x10',
      '9007199254740993',
      '%E2%80%AE',
      'x%0d%0aSet-Cookie:%20a=b',
      '_sink.bob-hook.attempts',
      '%F0%9F%92%A9',
    ),
  );

/** strings an attacker tries: control characters, huge, markup, paths, formats, injection */
const hostileString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    '${7*7}',
    '{{7*7}}',
    '%s%n',
    'a'.repeat(70_000),
    '1e309',
    '-1e309',
    'NaN',
    'Infinity',
    '-0',
    '9'.repeat(40),
    '2026-13-45T99:99:99Z',
    'http://169.254.169.254/',
    'file:///etc/passwd',
    '$..*',
    '(a+)+$',
  ),
);
/** numbers at the edges */
const oddNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1.5, 2 ** 53 + 1, -(2 ** 53) - 1, Number.MAX_VALUE, Number.MIN_VALUE, 1e308, -1e308),
);
const scalarArb = fc.oneof(hostileString, oddNumber, fc.boolean(), fc.constant(null));
/** values of any JSON type, some huge or deeply nested */
const valueArb = fc.oneof(
  { weight: 6, arbitrary: scalarArb },
  { weight: 2, arbitrary: fc.array(scalarArb, { maxLength: 4 }) },
  { weight: 2, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), scalarArb, { maxKeys: 4 }) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 50, max: 400 })
      .map((depth) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) as unknown),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => i)) },
);

const contentTypeArb = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/cloudevents+json',
  'application/cloudevents-batch+json',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'garbage/☃',
  'application/xml',
  'application/yaml',
);

type Who = 'admin' | 'alice' | 'none' | 'basic';

function requestArb(target: Target) {
  const params = (target.url.match(/:[^/]+/g) ?? []).map(() => paramArb(isLive(target.url)));
  const queryValue = fc.oneof(
    hostileString.map(wellFormed),
    fc.constantFrom('-1', '0', '1e9', '1e309', '-1e309', '1.5', 'true', '%ff', '%zz', 'NaN'),
  );
  const query = fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(...(target.queryNames.length ? target.queryNames : ['x'])),
        fc.string({ maxLength: 10 }).map(wellFormed),
      ),
      queryValue,
    ),
    { maxLength: 4 },
  );
  const fields = target.bodyFields.length ? target.bodyFields : ['type', 'name'];
  const body = fc.oneof(
    fc.dictionary(fc.constantFrom(...fields), valueArb, { maxKeys: fields.length }).map((o) => JSON.stringify(o)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc
      .array(fc.dictionary(fc.constantFrom(...fields), valueArb, { maxKeys: 3 }), { maxLength: 3 })
      .map((a) => JSON.stringify(a)),
    fc.string({ maxLength: 100 }),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  );
  return fc.record({
    params: fc.tuple(...params),
    query,
    body,
    contentType: contentTypeArb,
    who: fc.constantFrom<Who>('admin', 'alice', 'alice', 'alice', 'none', 'basic'),
  });
}

function urlOf(template: string, params: string[], query: [string, string][]): string {
  let i = 0;
  const path = template.replace(/:[^/]+/g, () => params[i++] ?? 'x').replace(/\*/g, 'x');
  const qs = query
    .map(([k, v]) => `${encodeURIComponent(k)}=${v.startsWith('%') ? v : encodeURIComponent(v)}`)
    .join('&');
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

async function seeded(): Promise<TestApp> {
  const t = await buildTestApp({ limits: { bodyLimit: BODY_LIMIT } });
  const res = await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'fz' } });
  assert.equal(res.statusCode, 201);
  return t;
}

function routable(path: string): boolean {
  try {
    return path.split('/').every((segment) => decodeURIComponent(segment).length <= 512);
  } catch {
    return false;
  }
}

/** the API a route pattern belongs to (the route that took the request) */
function apiOfRoute(pattern: string): Api {
  if (pattern.startsWith('/:dataset') || pattern.startsWith('/streams/:dataset')) return 'okdata';
  return apiOf(pattern.replace(/:[^/]+/g, 'x'));
}

/** the API that answers a request: the route that took it, or the mount whose path it hit */
function answeringApi(t: TestApp, method: string, sent: string): Api {
  // inject() sends the URL as a URL parser leaves it: dot segments (also %2e%2e) resolved
  const parsed = sent.startsWith('//') ? new URL(`http://rivulet.test${sent}`) : new URL(sent, 'http://rivulet.test');
  const url = parsed.pathname + parsed.search;
  // a path the router cannot decode or route (a bad escape, a segment too long) is answered by its mount
  if (!routable(parsed.pathname)) return apiOf(url, t.app.routeTable.lookup(url).routeUrl);
  const pattern = t.app.routeTable.routeFor(method, url);
  if (pattern) return apiOfRoute(pattern);
  return apiOf(url, t.app.routeTable.lookup(url).routeUrl);
}

interface World {
  t: TestApp;
  alice: Record<string, string>;
  bob: Record<string, string>;
  /** a string in every one of bob's resources; alice must never be shown it */
  bobMark: string;
}

const call = (t: TestApp, headers: Record<string, string>, method: string, url: string, payload?: unknown) =>
  t.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

/** two owners with a little of everything; bob's things carry a mark alice must never see */
async function world(): Promise<World> {
  const delivery = createDelivery({ allowLoopback: true });
  const t = await buildTestApp({
    limits: { bodyLimit: BODY_LIMIT },
    core: { sinkChecks: delivery.checks, rulesStream: 'iflux' },
  });
  const scopes = (who: string) => [`manage:${who}.*`, `manage:okdata.${who}set.*`, 'manage:iflux'];
  const alice = await t.keyWith(scopes('alice'), 'alice');
  const bob = await t.keyWith(scopes('bob'), 'bob');
  const bobMark = `bobmark${Math.random().toString(36).slice(2, 10)}`;
  const ok = async (key: Record<string, string>, method: string, url: string, payload?: unknown) => {
    const res = await call(t, key, method, url, payload);
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
  };
  assert.equal((await call(t, t.admin, 'POST', '/v1/streams', { name: 'fz' })).statusCode, 201);
  for (const [who, key, mark] of [
    ['bob', bob, bobMark],
    ['alice', alice, 'alicemark'],
  ] as const) {
    const s = `${who}.orders`;
    await ok(key, 'POST', '/v1/streams', { name: s, description: mark });
    await ok(key, 'POST', `/v1/streams/${s}/events`, [{ id: `${who}-e1`, type: 'order.placed', data: { note: mark } }]);
    await ok(key, 'POST', `/v1/streams/${s}/schemas/order.placed`, { schema: { type: 'object', description: mark } });
    await ok(key, 'POST', `/v1/streams/${s}/consumers`, { name: 'c1', start: { from: 'beginning' } });
    await ok(key, 'POST', '/v1/sinks', {
      id: `${who}-hook`,
      description: mark,
      streams: [s],
      target: { kind: 'http', url: `http://127.0.0.1:9/${mark}` },
      state: 'paused',
    });
    await ok(key, 'POST', '/v1/event-sources', { id: `${who}-src`, name: mark, publicId: `${who}-public` });
    await ok(key, 'POST', '/v1/event-types', { id: `${who}-type`, type: `/eventTypes/${who}Type`, name: mark });
    await ok(key, 'POST', '/v1/action-targets', { id: `${who}-lamp`, name: mark, url: `http://127.0.0.1:9/${mark}` });
    await ok(key, 'POST', '/v1/rules', {
      id: `${who}-rule`,
      name: mark,
      conditions: [{ eventTypeId: `${who}-type` }],
      actions: [{ actionTargetId: `${who}-lamp`, actionTypeId: 'blink' }],
    });
    await ok(key, 'POST', `/job/${who}-job`, {
      type: 'post',
      topic: [s],
      url: `http://127.0.0.1:9/${mark}/{id}`,
      datamap: { id: '$.msg.id' },
    });
    await ok(key, 'POST', `/streams/${who}set/1`, { confidentiality: 'green' });
    await ok(key, 'POST', `/${who}set/1/events`, [{ note: mark }]);
  }
  return { t, alice, bob, bobMark };
}

/** everything of bob's, as bob sees it: compared before and after the fuzzing */
async function bobsWorld(w: World): Promise<string> {
  const urls = [
    '/v1/streams/bob.orders',
    '/v1/streams/bob.orders/events?limit=1000',
    '/v1/streams/bob.orders/schemas/order.placed',
    '/v1/streams/bob.orders/consumers/c1',
    '/v1/sinks/bob-hook',
    '/v1/event-sources/bob-src',
    '/v1/event-types/bob-type',
    '/v1/action-targets/bob-lamp',
    '/v1/rules/bob-rule',
    '/job/bob-job',
    '/streams/bobset/1',
  ];
  const parts: string[] = [];
  for (const url of urls) {
    const res = await call(w.t, w.bob, 'GET', url);
    assert.equal(res.statusCode, 200, `bob reads ${url}: ${res.body.slice(0, 200)}`);
    // what changes by itself (stats, lag, timestamps of reads) is left out
    parts.push(
      `${url} ${JSON.stringify(JSON.parse(res.body), (k, v: unknown) => (['stats', 'lag', 'status', 'state', 'health', 'lastError', 'checkedAt'].includes(k) ? undefined : v))}`,
    );
  }
  return parts.join('\n');
}

interface Finding {
  /** a 5xx, an answer in another API's format, or another owner's data shown */
  kind: '5xx' | 'format' | 'leak';
  status: number;
  request: string;
  body: string;
}

describe('hostile input', () => {
  it("random requests generated from the OpenAPI document and route table, under several owners' keys: never a 5xx, each API's own error format, /healthz answers, owners stay apart", async (ctx) => {
    const w = await world();
    const { t } = w;
    try {
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as OpenApi;
      const targets = targetsOf(t, spec);
      assert.ok(targets.length >= 30, `only ${targets.length} routes`);
      const seed = Number(process.env.FUZZ_SEED ?? 20240601);
      const total = Number(process.env.FUZZ_RUNS ?? targets.length * 5);
      const perRoute = Math.max(1, Math.ceil(total / targets.length));
      const before = await bobsWorld(w);
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const basic = `Basic ${Buffer.from(`fuzz:${t.adminKey}`).toString('base64')}`;
      const findings: Finding[] = [];
      const started = performance.now();
      let sent = 0;
      for (const [n, target] of targets.entries()) {
        const samples = fc.sample(requestArb(target), { numRuns: perRoute, seed: seed + n });
        for (const r of samples) {
          // the admin key (also as a Basic password) may touch anything, so it aims only at the neutral stream; alice aims at bob's names too
          const params =
            r.who === 'admin' || r.who === 'basic'
              ? r.params.map((p) => (WORLD_NAMES.includes(p) ? 'fz' : p))
              : r.params;
          const url = urlOf(target.url, params, r.query);
          const headers: Record<string, string> =
            r.who === 'admin'
              ? { ...t.admin }
              : r.who === 'alice'
                ? { ...w.alice }
                : r.who === 'basic'
                  ? { authorization: basic }
                  : {};
          // a live route would stream forever once accepted: ask it for something it refuses
          if (isLive(target.url)) headers.accept = 'application/json';
          const withBody = BODY_METHODS.has(target.method);
          if (withBody) headers['content-type'] = r.contentType;
          const res = await t.app.inject({
            method: target.method as 'GET',
            url,
            headers,
            ...(withBody ? { payload: r.body } : {}),
          });
          sent++;
          const what = `${target.method} ${url.slice(0, 200)} as ${r.who}`;
          const reproduce = () => `${what} ${withBody ? `(${r.contentType}) ${String(r.body).slice(0, 300)}` : ''}`;
          const finding = (kind: Finding['kind'], why = '') =>
            findings.push({
              kind,
              status: res.statusCode,
              request: reproduce(),
              body: `${why}${res.body.slice(0, 300)}`,
            });
          if (res.statusCode >= 500 && !documented5xx(target.method, url, res.statusCode)) {
            finding('5xx');
            continue;
          }
          if (res.statusCode >= 400 && !documented5xx(target.method, url, res.statusCode)) {
            try {
              assert.ok(res.body.length > 2, 'no reason given');
              assertApiError(res, answeringApi(t, target.method, url), 'answer');
            } catch (err) {
              finding('format', `${(err as Error).message.slice(0, 200)} | `);
            }
          }
          if (r.who === 'alice' && res.body.includes(w.bobMark)) finding('leak');
          if (sent % 50 === 0)
            assert.equal(
              (await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode,
              200,
              `/healthz after ${sent} requests`,
            );
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const count = (kind: Finding['kind']) => findings.filter((f) => f.kind === kind).length;
      ctx.diagnostic(
        `fuzz: ${sent} requests over ${targets.length} routes, seed ${seed}, ${seconds.toFixed(1)} s: ${count('5xx')} answered 5xx, ${count('format')} in another format, ${count('leak')} showed another owner's data`,
      );
      for (const f of findings.slice(0, 60)) ctx.diagnostic(`${f.kind} ${f.status}: ${f.request} → ${f.body}`);
      assert.deepEqual(findings, [], `${findings.length} findings (seed ${seed})`);
      assert.equal(await bobsWorld(w), before, "bob's data is as it was");
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
        [
          'invalid UTF-8',
          Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]),
          'application/json',
        ],
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
      const targets = declaredRoutes(t.app).flatMap((r) =>
        ([r.method].flat() as string[])
          .filter((m) => BODY_METHODS.has(m))
          .map((m) => ({ method: m, url: r.url.replace(/:[^/]+/g, 'fz').replace(/\*/g, 'x') })),
      );
      assert.ok(targets.length >= 10);
      for (const target of targets) {
        for (const [what, payload, type] of nasty) {
          const res = await t.app.inject({
            method: target.method as 'POST',
            url: target.url,
            headers: { ...t.admin, 'content-type': type },
            payload,
          });
          assertSane(
            res,
            `${what} → ${target.method} ${target.url}`,
            documented5xx(target.method, target.url, res.statusCode),
          );
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
      const open = () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        });
      /** writes `chunks` one every `everyMs` until the server closes the socket; answers what it sent back and how many were written */
      const trickle = async (chunks: string[], everyMs: number) => {
        const s = await open();
        let answer = '';
        let closed = false;
        s.on('data', (d: Buffer) => {
          answer += d.toString('latin1');
        });
        s.on('error', () => {});
        const done = new Promise<void>((resolve) =>
          s.once('close', () => {
            closed = true;
            resolve();
          }),
        );
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
      const bodyHead =
        'POST /v1/streams HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 300\r\n' +
        `Authorization: Bearer ${t.adminKey}\r\n\r\n`;
      const slowBody = await trickle([bodyHead, ...'{"name":"slow"'.padEnd(300, ' ')], 20);
      assert.ok(slowBody.cut, 'the server cut the slow body off');
      assert.ok(slowBody.sent < 150, `it waited for ${slowBody.sent} chunks`);

      // headers beyond Node's limit: 431, not a crash
      const big = await trickle([`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`], 50);
      assert.match(big.answer, /^HTTP\/1\.1 431/);
      const many = await trickle(
        [
          `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
        ],
        50,
      );
      assert.match(many.answer, /^HTTP\/1\.1 (431|400)/);

      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(res.status, 200, 'still serving');
      await res.text();
    } finally {
      await t.close();
    }
  });
});
