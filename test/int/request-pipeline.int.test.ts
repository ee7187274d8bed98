/**
 * One request pipeline: every global request hook of the app is a named step
 * (request-pipeline.ts), and for each step there is a check here that the produce lane applies
 * it, by sending the same request to an app with the lane and to one without and comparing
 * what came back (status, headers, body, log lines, spans, metrics). A hook registered
 * without a step, or with a step this file has no check for, fails the first test: whoever
 * adds a hook must say what the lane does about it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { declaredRoutes } from '../../src/http/plugins/auth.js';
import { requestHooksOf, STEPS, type Step } from '../../src/http/request-pipeline.js';
import { laneCount, openSide, send, type Sent, type Side } from '../support/produce-sides.js';
import type { TestAppOptions } from '../support/test-app.js';

const PATH = '/v1/streams/plain/events';
const ROUTE = '/v1/streams/:name/events';
const ORIGIN = 'https://app.example';
const json = { 'content-type': 'application/json' };
const event = () => JSON.stringify({ type: 'reading', data: { v: 1 } });

/** one drain flag per app, raised by the app's own produce when a check asks for it */
interface Drain {
  on: boolean;
  onNextProduce: boolean;
}

const sides: { laned?: Side; plain?: Side } = {};
const drains = new Map<Side, Drain>();

async function open(options: TestAppOptions): Promise<Side> {
  const drain: Drain = { on: false, onNextProduce: false };
  const side = await openSide({ ...options, isShuttingDown: () => drain.on });
  side.t.services.produce.onProduced(() => {
    if (drain.onNextProduce) drain.on = true;
  });
  drains.set(side, drain);
  return side;
}

const OPTIONS: TestAppOptions = {
  cors: { origins: [ORIGIN] },
  // a rate the checks never reach (the rate limit's own check opens an app with a small one)
  protection: {
    admission: { maxInflightProduce: 1, maxEventLoopDelayMs: 0 },
    rateLimit: { perSecond: 1000, burst: 100_000 },
  },
  trustProxy: true,
};

/** the same request to both apps: the answers must match; answers the lane's, and how many requests each lane took */
async function both(
  headers: (side: Side) => Record<string, string>,
  body = event(),
  path = PATH,
): Promise<{ sent: Sent; taken: [number, number] }> {
  const answers: Sent[] = [];
  const taken: number[] = [];
  for (const side of [sides.laned!, sides.plain!]) {
    const before = await laneCount(side);
    answers.push(await send(side, path, headers(side), body));
    taken.push((await laneCount(side)) - before);
  }
  assert.deepEqual(answers[0], answers[1], 'the lane answered otherwise than the route');
  return { sent: answers[0]!, taken: taken as [number, number] };
}

const admin =
  (extra: Record<string, string> = {}) =>
  (side: Side) => ({ ...side.t.admin, ...json, ...extra });

async function sample(side: Side, pattern: RegExp): Promise<number> {
  const text = await side.metrics.text();
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** a produce request whose body never arrives: it holds its place in flight until the client goes */
async function hold(side: Side, requestId: string): Promise<() => Promise<void>> {
  const { port } = side.t.app.server.address() as { port: number };
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `POST ${PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${side.t.adminKey}\r\ncontent-type: application/json\r\ncontent-length: 100\r\nx-request-id: ${requestId}\r\n\r\n{"type":`,
  );
  await until('the held request is in flight', async () => (await sample(side, /^rivulet_produce_inflight /)) === 1);
  return async () => {
    socket.destroy();
    await until('the held request is released', async () => (await sample(side, /^rivulet_produce_inflight /)) === 0);
  };
}

/** for each step: the lane applies it (or cannot meet it), shown on both apps */
const CHECKS: Record<Step, () => Promise<void>> = {
  async 'answer headers'() {
    const { sent, taken } = await both(admin({ 'x-request-id': 'caller-7' }));
    assert.equal(sent.status, 201);
    assert.deepEqual(taken, [1, 0]);
    // draining: a request taken before the drain began is answered with Connection: close
    for (const side of [sides.laned!, sides.plain!]) drains.get(side)!.onNextProduce = true;
    try {
      const drained = await both(admin());
      assert.equal(drained.sent.status, 201);
      assert.equal(drained.sent.headers.connection, 'close');
      assert.deepEqual(drained.taken, [1, 0]);
    } finally {
      for (const side of [sides.laned!, sides.plain!])
        Object.assign(drains.get(side)!, { on: false, onNextProduce: false });
    }
  },
  async cors() {
    const { sent, taken } = await both(admin({ origin: ORIGIN }));
    assert.equal(sent.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(sent.headers['access-control-allow-credentials'], 'true');
    assert.deepEqual(taken, [1, 0]);
    const foreign = await both(admin({ origin: 'https://elsewhere.example' }));
    assert.equal(foreign.sent.headers['access-control-allow-origin'], undefined);
  },
  async admission() {
    const releases = [await hold(sides.laned!, 'held-a'), await hold(sides.plain!, 'held-a')];
    try {
      const { sent, taken } = await both(admin());
      assert.equal(sent.status, 503);
      assert.match(sent.body, /OVERLOADED/);
      assert.equal(sent.headers['retry-after'], '1');
      assert.deepEqual(taken, [1, 0]);
    } finally {
      for (const release of releases) await release();
    }
    assert.equal((await both(admin())).sent.status, 201);
  },
  async tracing() {
    const { sent } = await both(admin({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }));
    assert.equal(sent.spans.length, 1);
    assert.equal(sent.spans[0]!.statusCode, 201);
    assert.equal(sent.spans[0]!.route, ROUTE);
    // a client gone before its answer: the span ends with 499, on both
    const spans = [];
    for (const side of [sides.laned!, sides.plain!]) {
      const release = await hold(side, 'cut-off-1');
      await release();
      await until('the span ends', async () => side.spans.some((s) => s.requestId === 'cut-off-1'));
      spans.push(side.spans.filter((s) => s.requestId === 'cut-off-1'));
    }
    assert.deepEqual(spans[0], spans[1]);
    assert.equal(spans[0]![0]!.statusCode, 499);
  },
  async auth() {
    // two Authorization headers, or two keys: refused by fastify, never taken by the lane
    const twice = await both(
      (side) => ({ ...json, authorization: [side.t.admin.authorization!, side.t.admin.authorization!] }) as never,
    );
    assert.equal(twice.sent.status, 400);
    assert.match(twice.sent.body, /AMBIGUOUS_CREDENTIALS/);
    assert.deepEqual(twice.taken, [0, 0]);
    const two = await both((side) => ({ ...json, ...side.t.admin, 'auth-token': 'rk_other' }));
    assert.match(two.sent.body, /AMBIGUOUS_CREDENTIALS/);
    assert.deepEqual(two.taken, [0, 0]);
    const unscoped = await both((side) => ({ ...json, ...side.scoped }));
    assert.equal(unscoped.sent.status, 403);
    assert.deepEqual(unscoped.taken, [0, 0]);
    const none = await both(() => json);
    assert.equal(none.sent.status, 401);
    assert.deepEqual(none.taken, [0, 0]);
  },
  async 'rate limit'() {
    // test/int/produce-lane.int.test.ts shows refusals alike; here: the lane spends the key's own bucket
    const laned = await open({ protection: { rateLimit: { perSecond: 1, burst: 2, now: () => 0 } } });
    try {
      // opening spent one token; the lane spends the other, and fastify's hook then refuses
      const ok = await send(laned, PATH, admin()(laned), event());
      assert.equal(ok.status, 201);
      assert.equal(await laneCount(laned), 1);
      const res = await laned.pool.request({ method: 'GET', path: '/v1/streams', headers: laned.t.admin });
      await res.body.text();
      assert.equal(res.statusCode, 429);
    } finally {
      await laned.pool.close();
      await laned.t.close();
    }
  },
  async 'numbers in URLs'() {
    // the hook parses a route's numeric query and path parameters: the produce route has none,
    // and the lane takes no query string
    const route = declaredRoutes(sides.laned!.t.app).find((r) => r.url === ROUTE && r.method === 'POST') as
      { schema?: { params?: unknown; querystring?: unknown } } | undefined;
    assert.ok(route, 'the produce route is declared');
    const numeric = JSON.stringify([route.schema?.params ?? {}, route.schema?.querystring ?? {}]).match(
      /"type":"(integer|number)"/g,
    );
    assert.equal(
      numeric,
      null,
      'the produce route declares a numeric parameter: the lane must parse it as the hook does',
    );
    const { taken } = await both(admin(), event(), `${PATH}?limit=1e309`);
    assert.deepEqual(taken, [0, 0]);
  },
  async 'request metrics'() {
    const counted = (side: Side) =>
      sample(
        side,
        new RegExp(
          `^rivulet_http_requests_total\\{.*method="POST".*route="${ROUTE.replace(/[/:]/g, '\\$&')}".*status="201"`,
        ),
      );
    const before = [await counted(sides.laned!), await counted(sides.plain!)];
    const { taken } = await both(admin());
    assert.deepEqual(taken, [1, 0]);
    assert.deepEqual([(await counted(sides.laned!)) - before[0]!, (await counted(sides.plain!)) - before[1]!], [1, 1]);
  },
  async websocket() {
    // upgrades arrive on the server's 'upgrade' event, which the lane (a 'request' listener) never sees
    const statuses = [];
    for (const side of [sides.laned!, sides.plain!]) {
      assert.ok(side.t.app.server.listenerCount('upgrade') > 0);
      const before = await laneCount(side);
      const { port } = side.t.app.server.address() as { port: number };
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: PATH,
        headers: {
          ...side.t.admin,
          ...json,
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.end(event());
      const timeout = new Promise<[undefined]>((resolve) => setTimeout(() => resolve([undefined]), 5000).unref());
      const [res] = (await Promise.race([once(req, 'response'), once(req, 'upgrade'), timeout])) as [
        { statusCode?: number; resume?: () => void } | undefined,
      ];
      statuses.push(res?.statusCode);
      res?.resume?.();
      req.destroy();
      assert.equal(await laneCount(side), before);
    }
    assert.equal(statuses[0], statuses[1]);
  },
};

describe('one request pipeline', () => {
  it('has a step for every global request hook, and a check for every step', async () => {
    const side = await open(OPTIONS);
    try {
      const hooks = requestHooksOf(side.t.app);
      assert.ok(hooks.length >= 10, `the app's hooks were read (${hooks.length})`);
      const unnamed = hooks
        .filter((h) => h.step === undefined)
        .map((h) => `${h.hook}: ${h.fn.name || h.fn.toString().slice(0, 80)}`);
      assert.deepEqual(
        unnamed,
        [],
        'hooks registered without a pipeline step (register them with step() or registerSteps(), and check the produce lane applies them)',
      );
      assert.deepEqual(
        [...new Set(hooks.map((h) => h.step))].sort(),
        [...STEPS].sort(),
        'with every feature on, each step has a hook',
      );
      assert.deepEqual(Object.keys(CHECKS).sort(), [...STEPS].sort());
    } finally {
      await side.pool.close();
      await side.t.close();
    }
  });

  it('applies every step on the produce lane as fastify does', async () => {
    sides.laned = await open(OPTIONS);
    sides.plain = await open({ ...OPTIONS, produceLane: false });
    try {
      for (const name of STEPS) {
        // one test: the apps are tracked per test, and opening them per step would take long
        await CHECKS[name]().catch((err: Error) => {
          throw new Error(`step "${name}": ${err.message}`, { cause: err });
        });
      }
    } finally {
      for (const side of [sides.laned, sides.plain]) {
        await side.pool.close();
        await side.t.close();
      }
    }
  });
});
