/**
 * The aether REST consumer dialect (seed 001) over the real app, a real SQLite store, the
 * delivery engine and real HTTP receivers on 127.0.0.1 (the URL guard lets loopback through
 * explicitly here). Retries are made fast through the dialect's default policy.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/load-config.js';
import { loadAetherJobsDir } from '../../src/runtime/aether-jobs-dir.js';
import { startDeliveryApp, until, type DeliveryApp } from '../support/delivery-app.js';
import type { TestApp } from '../support/test-app.js';
import { tempDir } from '../support/resources.js';
import { startReceiver } from '../support/receiver.js';

const FAST_RETRY = { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 50, multiplier: 2, jitter: 'none' as const };

interface Harness extends DeliveryApp {
  /** Basic auth with the admin key as password, as aether clients send it */
  basic: Record<string, string>;
}

const basicOf = (secret: string) => ({ authorization: `Basic ${Buffer.from(`aether:${secret}`).toString('base64')}` });

async function start(): Promise<Harness> {
  const h = await startDeliveryApp('aether harness', { dialects: { aether: { policy: { retry: FAST_RETRY } } } });
  return Object.assign(h, { basic: basicOf(h.t.adminKey) });
}

async function produce(t: TestApp, stream: string, events: unknown[]): Promise<void> {
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/streams/${stream}/events`,
    headers: t.admin,
    payload: events,
  });
  assert.equal(res.statusCode, 201, res.body);
}

const order = (n: number) => ({ type: 'order.placed', data: { id: `o${n}`, n, customer: { name: `c${n}` } } });

describe('aether dialect: jobs', () => {
  it('upserts, reads and lists jobs; hash and modified are generated; secrets never answered', async () => {
    const h = await start();
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      const job = {
        owner: 'admin',
        type: 'post',
        topic: ['orders'],
        url: 'https://hooks.example.com/orders/{id}',
        datamap: { id: '$.msg.id', name: '$.msg.customer.name' },
        json_body: ['name'],
        token: 's3cret-token',
        basic_auth: { user: 'u', pw: 'p4ss' },
      };
      const created = await h.t.app.inject({ method: 'POST', url: '/job/j1', headers: h.basic, payload: job });
      assert.equal(created.statusCode, 201, created.body);
      const view = created.json();
      assert.equal(view.id, 'j1');
      assert.equal(view.type, 'POST');
      assert.match(view.hash, /^[0-9a-f]{64}$/);
      assert.ok(!Number.isNaN(Date.parse(view.modified)));
      assert.equal(view.token, '[redacted]');
      assert.deepEqual(view.basic_auth, { user: 'u', pw: '[redacted]' });
      assert.ok(!created.body.includes('s3cret') && !created.body.includes('p4ss'));

      // the same job again: nothing changes
      const same = await h.t.app.inject({
        method: 'POST',
        url: '/job/j1',
        headers: h.basic,
        payload: { ...job, id: 'j1', datamap: { name: '$.msg.customer.name', id: '$.msg.id' } },
      });
      assert.equal(same.statusCode, 200, same.body);
      assert.equal(same.json().hash, view.hash);
      assert.equal(same.json().modified, view.modified);

      // posted back as read (secrets redacted): the stored secrets are kept, so still no change
      const got = await h.t.app.inject({ method: 'GET', url: '/job/j1', headers: h.basic });
      assert.equal(got.statusCode, 200);
      const roundTrip = await h.t.app.inject({ method: 'POST', url: '/job/j1', headers: h.basic, payload: got.json() });
      assert.equal(roundTrip.json().hash, view.hash);
      assert.equal((await h.t.services.sinks.get('aether-j1')).target['token'], 's3cret-token');

      // a changed secret changes the hash (it is keyed, so it reveals nothing of the secret)
      await new Promise((r) => setTimeout(r, 5));
      const rotated = await h.t.app.inject({
        method: 'POST',
        url: '/job/j1',
        headers: h.basic,
        payload: { ...job, token: 'rotated-secret' },
      });
      assert.notEqual(rotated.json().hash, view.hash);
      assert.ok(rotated.json().modified > view.modified);

      const list = await h.t.app.inject({ method: 'GET', url: '/jobs/admin', headers: h.basic });
      assert.deepEqual(
        list.json().map((j: { id: string }) => j.id),
        ['j1'],
      );
      // a job is a sink: visible (redacted) in the native API
      const sink = await h.t.app.inject({ method: 'GET', url: '/v1/sinks/aether-j1', headers: h.t.admin });
      assert.equal(sink.statusCode, 200);
      assert.deepEqual(sink.json().streams, ['orders']);
      assert.equal(sink.json().policy.ordering, 'ordered');
      assert.ok(!sink.body.includes('rotated-secret'));
      assert.equal(sink.json().target.token, '[redacted]');

      // another owner's key: cannot see, list or take the job
      const other = await h.t.keyWith(['manage:*', 'produce:*', 'consume:*'], 'someone');
      const hidden = await h.t.app.inject({ method: 'GET', url: '/job/j1', headers: other });
      assert.equal(hidden.statusCode, 404);
      assert.equal(hidden.json().code, 'NOT_FOUND');
      assert.equal((await h.t.app.inject({ method: 'GET', url: '/jobs/admin', headers: other })).statusCode, 403);
      assert.deepEqual((await h.t.app.inject({ method: 'GET', url: '/jobs/someone', headers: other })).json(), []);
      const taken = await h.t.app.inject({
        method: 'POST',
        url: '/job/j1',
        headers: other,
        payload: { ...job, owner: 'someone' },
      });
      assert.equal(taken.statusCode, 409, taken.body);
      const foreign = await h.t.app.inject({ method: 'POST', url: '/job/j2', headers: other, payload: job });
      assert.equal(foreign.statusCode, 403, foreign.body);
      // without an owner the key's own is used
      const own = await h.t.app.inject({
        method: 'POST',
        url: '/job/j2',
        headers: other,
        payload: { ...job, owner: undefined },
      });
      assert.equal(own.statusCode, 201, own.body);
      assert.equal(own.json().owner, 'someone');
    } finally {
      await h.close();
    }
  });

  it('delivers mapped requests in order; start, stop and set_offset control it', async () => {
    const h = await start();
    const rx = await startReceiver();
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await produce(h.t, 'orders', [order(1), order(2), order(3)]);
      const res = await h.t.app.inject({
        method: 'POST',
        url: '/job/ctl',
        headers: h.basic,
        payload: {
          owner: 'admin',
          type: 'PUT',
          topic: ['orders'],
          url: `${rx.url}/orders/{id}`,
          datamap: {
            id: '$.msg.id',
            name: '$.msg.customer.name',
            n: '$.msg.n',
            schema: '$.schema.name',
            env: '$.constant.env',
          },
          constant: { env: 'test' },
          query_params: ['schema', 'env'],
          json_body: ['name', 'n'],
          basic_auth: { user: 'u', pw: 'p' },
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      // a new job reads its topics from the beginning
      await until('3 delivered', () => rx.requests.length === 3);
      const first = rx.requests[0]!;
      assert.equal(first.method, 'PUT');
      assert.equal(first.url, '/orders/o1?schema=order.placed&env=test');
      assert.deepEqual(JSON.parse(first.body), { name: 'c1', n: 1 });
      assert.equal(first.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
      assert.deepEqual(
        rx.requests.map((r) => r.url.split('?')[0]),
        ['/orders/o1', '/orders/o2', '/orders/o3'],
      );

      const stopped = await h.t.app.inject({ method: 'POST', url: '/job/ctl/stop', headers: h.basic });
      assert.equal(stopped.statusCode, 200, stopped.body);
      assert.equal(stopped.json().status, 'paused');
      await until('engine let go', () => !h.engine.owned().includes('aether-ctl'));
      await produce(h.t, 'orders', [order(4), order(5)]);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(rx.requests.length, 3, 'a stopped job sends nothing');

      // GET works too, as the original's routes did
      const started = await h.t.app.inject({ method: 'GET', url: '/job/ctl/start', headers: h.basic });
      assert.equal(started.statusCode, 200, started.body);
      await until('resumed', () => rx.requests.length === 5);

      // offsets are Kafka's: 1 is the second event (seq 2), 0 the first
      const offset = await h.t.app.inject({ method: 'POST', url: '/job/ctl/set_offset/1', headers: h.basic });
      assert.equal(offset.statusCode, 200, offset.body);
      await until('seq 2..5 again', () => rx.requests.length === 9);
      assert.deepEqual(
        rx.requests.slice(5).map((r) => r.url.split('?')[0]),
        ['/orders/o2', '/orders/o3', '/orders/o4', '/orders/o5'],
      );
      const zero = await h.t.app.inject({ method: 'GET', url: '/job/ctl/set_offset/0', headers: h.basic });
      assert.equal(zero.statusCode, 200, zero.body);
      await until('all again', () => rx.requests.length === 14);
      assert.deepEqual(
        rx.requests.slice(9).map((r) => r.url.split('?')[0]),
        ['/orders/o1', '/orders/o2', '/orders/o3', '/orders/o4', '/orders/o5'],
      );
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('spaces requests by rate_limit and retries 5xx until success', async () => {
    const h = await start();
    const slow = await startReceiver();
    const flaky = await startReceiver((_req, res, n) => {
      res.statusCode = n <= 2 ? 503 : 200;
      res.end();
    });
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await produce(h.t, 'orders', [order(1), order(2), order(3), order(4)]);
      const limited = await h.t.app.inject({
        method: 'POST',
        url: '/job/slow',
        headers: h.basic,
        payload: { owner: 'admin', type: 'POST', topic: ['orders'], url: slow.url, rate_limit: 0.2 },
      });
      assert.equal(limited.statusCode, 201, limited.body);
      assert.equal(limited.json().rate_limit, 0.2);
      assert.deepEqual((await h.t.services.sinks.get('aether-slow')).policy.rateLimit, { perSecond: 5, burst: 1 });
      await until('4 delivered', () => slow.requests.length === 4);
      const gaps = slow.requests.slice(1).map((r, i) => r.at - slow.requests[i]!.at);
      // loosely: 200 ms apart each (timers may fire a little early or late)
      for (const gap of gaps) assert.ok(gap >= 150, `requests ${gaps.join(', ')} ms apart; rate_limit asks for 200`);

      const retried = await h.t.app.inject({
        method: 'POST',
        url: '/job/flaky',
        headers: h.basic,
        payload: {
          owner: 'admin',
          type: 'POST',
          topic: ['orders'],
          url: flaky.url,
          datamap: { id: '$.msg.id' },
          json_body: ['id'],
        },
      });
      assert.equal(retried.statusCode, 201, retried.body);
      await until('all 4 accepted', () => flaky.requests.filter((_r, i) => i >= 2).length === 4);
      // the two 503s were for o1, retried in order before anything else was sent
      assert.deepEqual(
        flaky.requests.map((r) => JSON.parse(r.body).id),
        ['o1', 'o1', 'o1', 'o2', 'o3', 'o4'],
      );
      const attempts = await until('attempt log', async () => {
        const list = await h.t.services.sinks.attempts('aether-flaky', { limit: 100 });
        return list.length === 6 ? list : undefined;
      });
      assert.equal(attempts.filter((a) => a.status === 503).length, 2);
    } finally {
      await slow.close();
      await flaky.close();
      await h.close();
    }
  });

  it('a job may name topics that do not exist yet: it waits for them and reads each from its first event', async () => {
    const h = await start();
    const rx = await startReceiver();
    const paths = () => rx.requests.map((r) => r.url);
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await produce(h.t, 'orders', [order(1)]);
      const job = {
        owner: 'admin',
        type: 'POST',
        topic: ['orders', 'refunds'],
        url: `${rx.url}/{topic}/{id}`,
        datamap: { id: '$.msg.id', topic: '$.event.stream' },
      };
      const created = await h.t.app.inject({ method: 'POST', url: '/job/early', headers: h.basic, payload: job });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().status, 'waiting');
      assert.deepEqual(created.json().waiting_for, ['refunds']);
      await until('the existing topic is delivered meanwhile', () => rx.requests.length === 1);
      assert.deepEqual(paths(), ['/orders/o1']);
      const shown = (await h.t.app.inject({ method: 'GET', url: '/job/early', headers: h.basic })).json();
      assert.equal(shown.status, 'waiting');
      assert.deepEqual(shown.waiting_for, ['refunds']);
      // an offset on a topic that is not there yet: it will be read from its first event anyway
      const early = await h.t.app.inject({
        method: 'POST',
        url: '/job/early/set_offset/0?topic=refunds',
        headers: h.basic,
      });
      assert.equal(early.statusCode, 404, early.body);
      assert.equal(early.json().code, 'STREAM_NOT_FOUND');
      // without a topic, the offset moves the topics that exist
      assert.equal(
        (await h.t.app.inject({ method: 'POST', url: '/job/early/set_offset/0', headers: h.basic })).statusCode,
        200,
      );
      await until('orders again', () => rx.requests.length === 2);

      // the topic appears with events already in it: all of them are delivered, first to last
      assert.equal(
        (await h.t.app.inject({ method: 'POST', url: '/v1/streams', headers: h.t.admin, payload: { name: 'refunds' } }))
          .statusCode,
        201,
      );
      await produce(h.t, 'refunds', [order(7), order(8)]);
      await until('the new topic is delivered', () => rx.requests.length === 4);
      assert.deepEqual(paths().slice(2), ['/refunds/o7', '/refunds/o8']);
      const now = await until('no longer waiting', async () => {
        const view = (await h.t.app.inject({ method: 'GET', url: '/job/early', headers: h.basic })).json();
        return view.waiting_for === undefined ? view : undefined;
      });
      assert.equal(now.status, 'running');

      // a topic added by a change that does not exist yet is waited for in the same way
      const changed = await h.t.app.inject({
        method: 'POST',
        url: '/job/early',
        headers: h.basic,
        payload: { ...job, topic: ['orders', 'refunds', 'returns'] },
      });
      assert.equal(changed.statusCode, 200, changed.body);
      assert.deepEqual(changed.json().waiting_for, ['returns']);
      assert.equal(changed.json().status, 'waiting');
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('loads a jobs folder at start-up; an existing job with the same id wins', async () => {
    const h = await start();
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      const existing = await h.t.app.inject({
        method: 'POST',
        url: '/job/kept',
        headers: h.basic,
        payload: { owner: 'admin', type: 'POST', topic: ['orders'], url: 'https://api.example.com/original' },
      });
      assert.equal(existing.statusCode, 201);
      const dir = tempDir('rivulet-aether-jobs');
      writeFileSync(
        join(dir, '01-kept.json'),
        JSON.stringify({
          id: 'kept',
          owner: 'admin',
          type: 'POST',
          topic: ['orders'],
          url: 'https://api.example.com/from-file',
        }),
      );
      writeFileSync(
        join(dir, '02-more.yaml'),
        '- id: fresh\n  owner: team\n  type: GET\n  topic: [orders]\n  url: "https://api.example.com/x/{id}"\n  datamap: {id: $.msg.id}\n',
      );
      writeFileSync(join(dir, 'ignored.txt'), 'not a job');
      const outcomes = await loadAetherJobsDir(dir, { ...h.t.services, documents: h.t.store.documents });
      assert.deepEqual(outcomes, [
        { file: '01-kept.json', job: 'kept', outcome: 'kept' },
        { file: '02-more.yaml', job: 'fresh', outcome: 'created' },
      ]);
      assert.equal(
        (await h.t.app.inject({ method: 'GET', url: '/job/kept', headers: h.basic })).json().url,
        'https://api.example.com/original',
      );
      const fresh = (await h.t.app.inject({ method: 'GET', url: '/job/fresh', headers: h.basic })).json();
      assert.equal(fresh.owner, 'team');
      assert.equal(fresh.type, 'GET');
      // loading again changes nothing
      assert.deepEqual(
        (await loadAetherJobsDir(dir, { ...h.t.services, documents: h.t.store.documents })).map((o) => o.outcome),
        ['kept', 'kept'],
      );

      // a job whose topic does not exist yet is loaded, and waits for it
      writeFileSync(
        join(dir, '03-later.json'),
        JSON.stringify({
          id: 'later',
          owner: 'admin',
          type: 'POST',
          topic: ['not-yet'],
          url: 'https://api.example.com',
        }),
      );
      assert.deepEqual(
        (await loadAetherJobsDir(dir, { ...h.t.services, documents: h.t.store.documents })).map((o) => o.outcome),
        ['kept', 'kept', 'created'],
      );
      const later = (await h.t.app.inject({ method: 'GET', url: '/job/later', headers: h.basic })).json();
      assert.equal(later.status, 'waiting');
      assert.deepEqual(later.waiting_for, ['not-yet']);

      writeFileSync(
        join(dir, '04-bad.json'),
        JSON.stringify({
          id: 'bad',
          owner: 'admin',
          type: 'POST',
          topic: ['orders'],
          url: 'https://api.example.com',
          datamap: { nope: '$.msg[' },
        }),
      );
      await assert.rejects(
        loadAetherJobsDir(dir, { ...h.t.services, documents: h.t.store.documents }),
        (err: unknown) => err instanceof ConfigError && /04-bad\.json/.test(err.message) && /nope/.test(err.message),
      );
      writeFileSync(join(dir, '04-bad.json'), '{ not json');
      await assert.rejects(
        loadAetherJobsDir(dir, { ...h.t.services, documents: h.t.store.documents }),
        (err: unknown) => err instanceof ConfigError && /does not parse/.test(err.message),
      );
    } finally {
      await h.close();
    }
  });

  it("accepts the original implementation's routes", async () => {
    const h = await start();
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      const job = {
        id: 'legacy',
        owner: 'admin',
        type: 'POST',
        topic: ['orders'],
        url: 'https://api.example.com/in',
        datamap: { a: '$.msg.a' },
        json_body: ['a'],
      };
      const added = await h.t.app.inject({ method: 'POST', url: '/jobs/add', headers: h.basic, payload: job });
      assert.equal(added.statusCode, 200, added.body);
      assert.equal(added.json(), true);
      const updated = await h.t.app.inject({
        method: 'POST',
        url: '/jobs/update',
        headers: h.basic,
        payload: { ...job, url: 'https://api.example.com/v2' },
      });
      assert.equal(updated.json(), true);
      const got = await h.t.app.inject({ method: 'GET', url: '/jobs/get?id=legacy', headers: h.basic });
      assert.equal(got.json().url, 'https://api.example.com/v2');
      assert.deepEqual((await h.t.app.inject({ method: 'GET', url: '/jobs/list', headers: h.basic })).json(), [
        'legacy',
      ]);
      const valid = await h.t.app.inject({ method: 'POST', url: '/jobs/validate', headers: h.basic, payload: job });
      assert.deepEqual(valid.json(), { valid: true });
      const invalid = await h.t.app.inject({
        method: 'POST',
        url: '/jobs/validate',
        headers: h.basic,
        payload: { ...job, datamap: { a: '$.msg[' } },
      });
      assert.equal(invalid.json().valid, false);
      assert.equal(invalid.json().field, '/datamap/a');
      const deleted = await h.t.app.inject({ method: 'GET', url: '/jobs/delete?id=legacy', headers: h.basic });
      assert.equal(deleted.json(), true);
      assert.equal((await h.t.app.inject({ method: 'GET', url: '/job/legacy', headers: h.basic })).statusCode, 404);
      assert.equal((await h.t.app.inject({ method: 'GET', url: '/jobs/get', headers: h.basic })).statusCode, 400);
    } finally {
      await h.close();
    }
  });
});

describe('aether dialect: mapping dry-run', () => {
  const msg = {
    id: 'A-1',
    tags: ['red', 'big'],
    items: [
      { sku: 'k1', name: 'kettle', price: 25 },
      { sku: 'k2', name: 'cup', price: 4 },
      { sku: 'k3', name: 'teapot', price: 40 },
    ],
    shipping: { address: { sku: 'none', city: 'Oslo' } },
  };

  it('renders the request for RFC 9535 filters, slices, wildcards and descendants', async () => {
    const h = await start();
    try {
      const job = {
        type: 'post',
        url: 'https://api.example.com/orders/{id}',
        token: 'tok-123',
        datamap: {
          id: '$.msg.id',
          expensive: '$.msg.items[?@.price > 10].name',
          first_two: '$.msg.items[0:2].sku',
          last: '$.msg.items[-1:].name',
          tags: '$.msg.tags[*]',
          skus: '$..sku',
          city: '$.msg.shipping..city',
          schema: '$.schema.name',
          missing: '$.msg.nothing',
        },
        query_params: ['tags', 'schema', 'missing'],
        json_body: ['expensive', 'first_two', 'last', 'skus', 'city', 'missing'],
      };
      const res = await h.t.app.inject({
        method: 'POST',
        url: '/jobs/dry-run',
        headers: h.basic,
        payload: { job, event: { type: 'order.placed', data: msg }, schema: 'Order' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const { request, mapped, notes } = res.json();
      assert.equal(request.method, 'POST');
      assert.equal(request.url, 'https://api.example.com/orders/A-1?tags=red&tags=big&schema=Order');
      assert.equal(request.headers.authorization, '[redacted]');
      assert.ok(!res.body.includes('tok-123'));
      assert.deepEqual(JSON.parse(request.body), {
        expensive: ['kettle', 'teapot'],
        first_two: ['k1', 'k2'],
        last: 'teapot',
        skus: ['k1', 'k2', 'k3', 'none'],
        city: 'Oslo',
      });
      assert.equal(mapped.id, 'A-1');
      assert.ok(!Object.hasOwn(mapped, 'missing'));
      assert.ok(notes.some((n: string) => n.includes('"missing"')));

      // only a datamap: the mapped values
      const onlyMap = await h.t.app.inject({
        method: 'POST',
        url: '/jobs/dry-run',
        headers: h.basic,
        payload: { datamap: { cheap: '$.msg.items[?@.price < 10].sku', c: '$.constant.k' }, constant: { k: 1 }, msg },
      });
      assert.equal(onlyMap.statusCode, 200, onlyMap.body);
      assert.deepEqual(onlyMap.json().mapped, { cheap: 'k2', c: 1 });

      // a stored job, tried on a sample: its secrets stay redacted
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      await h.t.app.inject({
        method: 'POST',
        url: '/job/stored',
        headers: h.basic,
        payload: { ...job, owner: 'admin', topic: ['orders'], basic_auth: { user: 'u', pw: 'hidden-pw' } },
      });
      const stored = await h.t.app.inject({
        method: 'POST',
        url: '/job/stored/dry-run',
        headers: h.basic,
        payload: { msg },
      });
      assert.equal(stored.statusCode, 200, stored.body);
      assert.equal(stored.json().request.headers.authorization, '[redacted]');
      assert.ok(!stored.body.includes('hidden-pw'));
      assert.match(stored.json().request.url, /schema=sample/);
    } finally {
      await h.close();
    }
  });

  it("refuses bad input with 4xx in the dialect's format", async () => {
    const h = await start();
    try {
      await h.t.services.streams.create({ name: 'orders' }, 'admin');
      const base = { owner: 'admin', type: 'POST', topic: ['orders'], url: 'https://api.example.com/x' };
      const noKey = await h.t.app.inject({ method: 'GET', url: '/job/x' });
      assert.equal(noKey.statusCode, 401);
      assert.equal(noKey.body, 'Bad Credentials');
      assert.match(String(noKey.headers['www-authenticate']), /^Basic/);
      assert.equal(
        (await h.t.app.inject({ method: 'GET', url: '/jobs/admin', headers: basicOf('wrong') })).statusCode,
        401,
      );

      const cases: Array<
        [
          string,
          { method: 'POST' | 'GET'; url: string; payload?: unknown; headers?: Record<string, string> },
          number,
          string,
          string?,
        ]
      > = [
        [
          'malformed JSON',
          { method: 'POST', url: '/job/x', payload: '{"id":', headers: { 'content-type': 'application/json' } },
          400,
          'INVALID_JSON',
        ],
        [
          'a bad JSONPath',
          { method: 'POST', url: '/job/x', payload: { ...base, datamap: { a: '$.msg[?' } } },
          400,
          'VALIDATION_FAILED',
          '/datamap/a',
        ],
        [
          'an unknown method',
          { method: 'POST', url: '/job/x', payload: { ...base, type: 'FETCH' } },
          400,
          'VALIDATION_FAILED',
          '/type',
        ],
        [
          'no url',
          { method: 'POST', url: '/job/x', payload: { ...base, url: undefined } },
          400,
          'VALIDATION_FAILED',
          '/url',
        ],
        [
          'an unknown field',
          { method: 'POST', url: '/job/x', payload: { ...base, retries: 3 } },
          400,
          'VALIDATION_FAILED',
          '/retries',
        ],
        [
          'a bad rate_limit',
          { method: 'POST', url: '/job/x', payload: { ...base, rate_limit: -1 } },
          400,
          'VALIDATION_FAILED',
          '/rate_limit',
        ],
        [
          'a body id unlike the path',
          { method: 'POST', url: '/job/x', payload: { ...base, id: 'y' } },
          400,
          'VALIDATION_FAILED',
          '/id',
        ],
        ['a bad job id', { method: 'POST', url: '/job/a.b', payload: base }, 400, 'VALIDATION_FAILED', '/id'],
        [
          'a placeholder without a datamap',
          { method: 'POST', url: '/job/x', payload: { ...base, url: 'https://api.example.com/{id}' } },
          400,
          'VALIDATION_FAILED',
          '/url',
        ],
        [
          'a redacted secret with nothing stored',
          { method: 'POST', url: '/job/x', payload: { ...base, token: '[redacted]' } },
          400,
          'VALIDATION_FAILED',
          '/token',
        ],
        ['an unknown job', { method: 'GET', url: '/job/nope' }, 404, 'NOT_FOUND'],
        ['a bad offset', { method: 'POST', url: '/job/nope/set_offset/-3' }, 400, 'VALIDATION_FAILED', '/offset'],
        [
          'an offset with a leading zero',
          { method: 'POST', url: '/job/nope/set_offset/01' },
          400,
          'VALIDATION_FAILED',
          '/offset',
        ],
        [
          'a dry-run without a sample',
          { method: 'POST', url: '/jobs/dry-run', payload: { job: base } },
          400,
          'VALIDATION_FAILED',
          '/event',
        ],
        [
          'a dry-run without a job',
          { method: 'POST', url: '/jobs/dry-run', payload: { msg: {} } },
          400,
          'VALIDATION_FAILED',
          '/job',
        ],
      ];
      for (const [what, req, status, code, field] of cases) {
        const res = await h.t.app.inject({ ...req, headers: { ...h.basic, ...req.headers } } as never);
        assert.equal(res.statusCode, status, `${what}: ${res.body}`);
        const body = res.json();
        assert.equal(body.code, code, `${what}: ${res.body}`);
        assert.equal(typeof body.error, 'string');
        if (field !== undefined) assert.equal(body.field, field, `${what}: ${res.body}`);
      }
      // an offset on a job, with a topic it does not read
      await h.t.app.inject({ method: 'POST', url: '/job/ok', headers: h.basic, payload: base });
      const wrongTopic = await h.t.app.inject({
        method: 'POST',
        url: '/job/ok/set_offset/1?topic=other',
        headers: h.basic,
      });
      assert.equal(wrongTopic.statusCode, 400, wrongTopic.body);
    } finally {
      await h.close();
    }
  });
});
