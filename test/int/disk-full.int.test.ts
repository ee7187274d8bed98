/**
 * A full disk: the data directory is a real 2 MiB tmpfs, filled up with a ballast file.
 * Writes are refused with 507 STORAGE_FULL before any acknowledgement, every event that was
 * acknowledged is still there, and once space returns writes succeed again without a restart.
 * Every write route of every API (native and the five dialects) answers the full disk in its
 * own format with 507, never 500; /readyz is 503 while writes fail and 200 once space returns.
 * Needs root (mount); where mounting is refused the test is skipped and says why.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDelivery } from '../../src/delivery/delivery-setup.js';
import { assertApiError, type Api } from '../support/api-format.js';
import { tempDir } from '../support/resources.js';
import { buildTestApp, type TestApp } from '../support/test-app.js';

function tryMount(dir: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a small tmpfs here (${String((err as Error).message).split('\n')[0]}); a real full filesystem is needed`;
  }
}

/** writes until the filesystem refuses; answers the ballast's path */
function fillUp(dir: string): string {
  const path = join(dir, 'ballast');
  // appends: SQLite may give space back (a failed write truncating what it grew), so it is filled again
  const fd = openSync(path, 'a');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  return path;
}

const mountDir = tempDir('rivulet-full');
const unmountable = tryMount(mountDir);
if (!unmountable) execFileSync('umount', [mountDir]);

describe('disk full', () => {
  it(
    'refuses writes with 507 STORAGE_FULL, loses nothing acknowledged, and writes again once space returns',
    { skip: unmountable ?? false },
    async () => {
      const dir = tempDir('rivulet-full');
      assert.equal(tryMount(dir), null);
      try {
        const t = await buildTestApp({ dataDir: dir });
        try {
          const produce = (id: string) =>
            t.app.inject({
              method: 'POST',
              url: '/v1/streams/orders/events',
              headers: t.admin,
              payload: { type: 't', id, data: { pad: 'x'.repeat(2000) } },
            });
          assert.equal(
            (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'orders' } }))
              .statusCode,
            201,
          );
          const acked: string[] = [];
          for (let i = 0; i < 20; i++) {
            const res = await produce(`before-${i}`);
            assert.equal(res.statusCode, 201, res.body);
            acked.push(`before-${i}`);
          }
          const ballast = fillUp(dir);
          let refusal:
            { statusCode: number; headers: Record<string, unknown>; json(): Record<string, unknown> } | undefined;
          for (let i = 0; i < 500 && !refusal; i++) {
            const res = await produce(`full-${i}`);
            if (res.statusCode === 201) acked.push(`full-${i}`);
            else refusal = res;
          }
          assert.ok(refusal, 'a write was refused once the disk filled up');
          assert.equal(refusal.statusCode, 507);
          assert.equal(refusal.json().code, 'STORAGE_FULL');
          assert.equal(refusal.headers['retry-after'], '5');
          // still refused while full, and reads keep working
          assert.equal((await produce('still-full')).statusCode, 507);
          const readAll = async () => {
            const res = await t.app.inject({
              method: 'GET',
              url: '/v1/streams/orders/events?limit=10000',
              headers: t.admin,
            });
            assert.equal(res.statusCode, 200);
            return (res.json() as { events: { id: string; seq: number }[] }).events;
          };
          const whileFull = await readAll();
          assert.deepEqual(
            whileFull.map((e) => e.id),
            acked,
            'every acknowledged event is there, nothing refused is',
          );

          rmSync(ballast);
          const again = await produce('after');
          assert.equal(again.statusCode, 201, again.body);
          acked.push('after');
          const after = await readAll();
          assert.deepEqual(
            after.map((e) => e.id),
            acked,
          );
          assert.deepEqual(
            after.map((e) => e.seq),
            acked.map((_, i) => i + 1),
            'seqs have no gap',
          );
        } finally {
          await t.close();
        }
      } finally {
        execFileSync('umount', [dir]);
      }
    },
  );

  it(
    'every write route of every API answers a full disk with 507 in its own format; /readyz follows; all comes back by itself',
    { skip: unmountable ?? false },
    async () => {
      const dir = tempDir('rivulet-full');
      assert.equal(tryMount(dir), null);
      try {
        const delivery = createDelivery({ allowLoopback: true });
        const t = await buildTestApp({ dataDir: dir, core: { sinkChecks: delivery.checks, rulesStream: 'iflux' } });
        try {
          await fullDiskOnEveryRoute(t, dir);
        } finally {
          await t.close();
        }
      } finally {
        execFileSync('umount', [dir]);
      }
    },
  );
});

type Res = { statusCode: number; headers: Record<string, unknown>; body: string; json(): Record<string, unknown> };

interface WriteRoute {
  api: Api;
  what: string;
  send(i: number): Promise<Res>;
  /** a write that changes rows in place needs no new space and may well succeed on a full disk */
  inPlace?: boolean;
  /** after space returned: what a 2xx of `send(i)` made must be there */
  check?(i: number): Promise<void>;
}

async function fullDiskOnEveryRoute(t: TestApp, dir: string): Promise<void> {
  const basic = { authorization: `Basic ${Buffer.from(`x:${t.adminKey}`).toString('base64')}` };
  const call = (
    method: 'POST' | 'PATCH' | 'PUT',
    url: string,
    payload: unknown,
    headers: Record<string, string> = t.admin,
  ) =>
    t.app.inject({
      method,
      url,
      headers: { ...headers, 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    }) as Promise<Res>;
  const exists = async (url: string, headers: Record<string, string> = t.admin) => {
    const res = await t.app.inject({ method: 'GET', url, headers });
    assert.equal(res.statusCode, 200, `${url} is there: ${res.body.slice(0, 200)}`);
  };
  const ok = async (method: 'POST' | 'PUT', url: string, payload: unknown) => {
    const res = await call(method, url, payload);
    assert.ok(res.statusCode < 300, `${url}: ${res.statusCode} ${res.body}`);
  };
  // what the routes below build on, made while there is room
  await ok('POST', '/v1/streams', { name: 'orders' });
  for (let i = 0; i < 30; i++) await ok('POST', '/v1/streams/orders/events', { type: 't', data: { i } });
  await ok('POST', '/v1/streams/orders/consumers', { name: 'worker' });
  await ok('POST', '/v1/event-types', { id: 'et0', type: '/eventTypes/t0', name: 'x' });
  await ok('POST', '/v1/action-targets', { id: 'at0', name: 'x', url: 'http://127.0.0.1:9/x' });
  await ok('POST', '/api/v1/streams/es/events', {
    event: { name: 'n', version: 1 },
    system: { id: 'a', name: 'a', time: '2017-09-06 13:58:12', timezone: 'Europe/Berlin' },
    trigger: {},
    payload: {},
  }).catch(() => undefined);

  const producer = randomUUID();
  const routes: WriteRoute[] = [
    {
      api: 'native',
      what: 'create a stream',
      send: (i) => call('POST', '/v1/streams', { name: `s${i}` }),
      check: (i) => exists(`/v1/streams/s${i}`),
    },
    {
      api: 'native',
      what: 'change a stream',
      send: (i) => call('PATCH', '/v1/streams/orders', { description: `d${i}` }),
    },
    {
      api: 'native',
      what: 'produce',
      send: (i) =>
        call('POST', '/v1/streams/orders/events', { type: 't', id: `full-${i}`, data: { pad: 'x'.repeat(500) } }),
      check: (i) => exists(`/v1/streams/orders/events/full-${i}`),
    },
    {
      api: 'native',
      what: 'create a consumer',
      send: (i) => call('POST', '/v1/streams/orders/consumers', { name: `c${i}` }),
      check: (i) => exists(`/v1/streams/orders/consumers/c${i}`),
    },
    {
      api: 'native',
      what: 'receive',
      send: () => call('POST', '/v1/streams/orders/consumers/worker/receive', { max: 1, leaseMs: 600_000 }),
    },
    {
      api: 'native',
      what: 'commit',
      inPlace: true,
      send: (i) => call('POST', '/v1/streams/orders/consumers/worker/commit', { seq: (i % 30) + 1 }),
    },
    {
      api: 'native',
      what: 'seek',
      inPlace: true,
      send: (i) =>
        call('POST', '/v1/streams/orders/consumers/worker/seek', i % 2 ? { from: 'beginning' } : { from: 'end' }),
    },
    {
      api: 'native',
      what: 'create a schema',
      send: (i) => call('POST', `/v1/streams/orders/schemas/type${i}`, { schema: { type: 'object' } }),
      check: (i) => exists(`/v1/streams/orders/schemas/type${i}`),
    },
    {
      api: 'native',
      what: 'create a sink',
      send: (i) =>
        call('POST', '/v1/sinks', {
          id: `k${i}`,
          streams: ['orders'],
          target: { kind: 'http', url: 'http://127.0.0.1:9/x' },
          state: 'paused',
        }),
      check: (i) => exists(`/v1/sinks/k${i}`),
    },
    {
      api: 'native',
      what: 'upload a spec',
      send: (i) => call('POST', '/v1/specs', { meta: { owner: 'admin', dataset: `ds${i}` } }),
    },
    {
      api: 'native',
      what: 'create an event source',
      send: (i) => call('POST', '/v1/event-sources', { id: `src${i}`, name: 'x', publicId: `pub${i}` }),
      check: (i) => exists(`/v1/event-sources/src${i}`),
    },
    {
      api: 'native',
      what: 'create an event type',
      send: (i) => call('POST', '/v1/event-types', { id: `et${i + 1}`, type: `/eventTypes/t${i + 1}`, name: 'x' }),
    },
    {
      api: 'native',
      what: 'create an action target',
      send: (i) => call('POST', '/v1/action-targets', { id: `at${i + 1}`, name: 'x', url: 'http://127.0.0.1:9/x' }),
    },
    {
      api: 'native',
      what: 'create a rule',
      send: (i) =>
        call('POST', '/v1/rules', {
          id: `r${i}`,
          name: 'x',
          conditions: [{ eventTypeId: 'et0' }],
          actions: [{ actionTargetId: 'at0', actionTypeId: 'blink' }],
        }),
      check: (i) => exists(`/v1/rules/r${i}`),
    },
    {
      api: 'native',
      what: 'create a key',
      send: (i) =>
        call('POST', '/v1/keys', {
          owner: `o${i}`,
          name: 'k'.repeat(200),
          scopes: Array.from({ length: 100 }, (_, n) => `consume:orders-${n}-${'x'.repeat(40)}`),
        }),
      check: async (i) => {
        const keys = (await t.app.inject({ method: 'GET', url: '/v1/keys', headers: t.admin })).json().keys as {
          owner: string;
        }[];
        assert.ok(
          keys.some((k) => k.owner === `o${i}`),
          `key of o${i} is there`,
        );
      },
    },
    {
      api: 'aether',
      what: 'create a job',
      send: (i) =>
        call(
          'POST',
          `/job/j${i}`,
          { type: 'post', topic: ['orders'], url: 'http://127.0.0.1:9/x/{id}', datamap: { id: '$.msg.id' } },
          basic,
        ),
      check: (i) => exists(`/job/j${i}`, basic),
    },
    {
      api: 'okdata',
      what: 'create a stream',
      send: (i) => call('POST', `/streams/dsx${i}/1`, {}),
      check: (i) => exists(`/streams/dsx${i}/1`),
    },
    {
      api: 'eventserver',
      what: 'produce',
      send: (i) =>
        call(
          'POST',
          '/api/v1/streams/es/events',
          {
            event: { name: 'n', version: 1 },
            system: { id: 'a', name: 'a', time: '2017-09-06 13:58:12', timezone: 'Europe/Berlin' },
            trigger: {},
            payload: { i },
          },
          { ...basic, 'x-producer-id': producer },
        ),
    },
    {
      api: 'iflux',
      what: 'produce',
      send: (i) =>
        call('POST', '/events', [
          {
            timestamp: '2015-01-12T05:21:07Z',
            source: '/x',
            type: '/eventTypes/t',
            properties: { i, pad: 'x'.repeat(500) },
          },
        ]),
    },
    {
      api: 'specstore',
      what: 'upload a spec',
      send: (i) => call('POST', '/source/upload', { meta: { owner: 'admin', dataset: `sx${i}` } }),
    },
  ];

  const ballast = fillUp(dir);
  const made = new Map<WriteRoute, number[]>(routes.map((r) => [r, []]));
  let i = 0;
  for (const route of routes) {
    const what = `${route.api}: ${route.what}`;
    fillUp(dir);
    const accepted: number[] = [];
    let refusal: Res | undefined;
    // a write may still fit in space SQLite freed inside its files; each one fills more, so refusal comes
    for (let tries = 0; tries < (route.inPlace ? 20 : 400) && !refusal; tries++) {
      const res = await route.send(++i);
      if (res.statusCode < 300) accepted.push(i);
      else refusal = res;
    }
    if (!refusal && route.inPlace) continue;
    assert.ok(refusal, `${what}: a write was refused once the disk filled up`);
    assert.equal(refusal.statusCode, 507, `${what}: ${refusal.statusCode} ${refusal.body.slice(0, 300)}`);
    assertApiError(refusal, route.api, what);
    assert.match(refusal.body, /full|STORAGE_FULL/i, `${what} says why`);
    if (route.api === 'native' || route.api === 'aether') assert.equal(refusal.json().code, 'STORAGE_FULL', what);
    made.get(route)!.push(...accepted);
  }

  // while writes fail the server is not ready, yet alive, and reads work
  const notReady = await t.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(notReady.statusCode, 503, notReady.body);
  assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  assert.equal((await t.app.inject({ method: 'GET', url: '/v1/streams/orders', headers: t.admin })).statusCode, 200);

  // space returns: readiness comes back without a write from any client, then every route writes again
  rmSync(ballast);
  const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(ready.statusCode, 200, ready.body);
  for (const route of routes) {
    const res = await route.send(++i);
    assert.ok(
      res.statusCode < 300,
      `${route.api}: ${route.what} after space returned: ${res.statusCode} ${res.body.slice(0, 300)}`,
    );
    made.get(route)!.push(i);
  }
  // nothing acknowledged was lost
  for (const route of routes) for (const n of made.get(route)!) await route.check?.(n);
}
