import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../support/test-app.js';
import { tempDir } from '../support/resources.js';

const JSON_UTF8 = 'application/json; charset=utf-8';

async function listen(t: TestApp): Promise<string> {
  return t.app.listen({ port: 0, host: '127.0.0.1' });
}

function basic(secret: string): string {
  return `Basic ${Buffer.from(`someone:${secret}`).toString('base64')}`;
}

function snickers(n: number): Record<string, unknown> {
  return {
    event: { name: 'Snickers', version: 1 },
    system: { id: 'alv123', name: 'codello alvine', time: '2017-09-06 13:58:12', timezone: 'Europe/Berlin' },
    trigger: { type: 'system', name: '/path/to/script.php' },
    payload: { n },
  };
}

function named(name: string, n: number): Record<string, unknown> {
  return { ...snickers(n), event: { name, version: 1 } };
}

class Client {
  constructor(
    readonly base: string,
    readonly auth: string,
  ) {}

  async produce(
    stream: string,
    producer: string,
    body: unknown,
    raw?: string,
  ): Promise<{ status: number; body: unknown; type: string | null }> {
    const res = await fetch(`${this.base}/api/v1/streams/${stream}/events`, {
      method: 'POST',
      headers: { accept: JSON_UTF8, 'content-type': JSON_UTF8, authorization: this.auth, 'x-producer-id': producer },
      body: raw ?? JSON.stringify(body),
    });
    return { status: res.status, body: await res.json(), type: res.headers.get('content-type') };
  }

  async get(
    stream: string,
    consumer: string,
    query: string,
  ): Promise<{ status: number; body: unknown; type: string | null }> {
    const res = await fetch(`${this.base}/api/v1/streams/${stream}/events?${query}`, {
      headers: { accept: JSON_UTF8, 'content-type': JSON_UTF8, authorization: this.auth, 'x-consumer-id': consumer },
    });
    return { status: res.status, body: await res.json(), type: res.headers.get('content-type') };
  }

  async ack(
    stream: string,
    consumer: string,
    eventId: string,
    body = 'action=ACK',
    type = 'application/x-www-form-urlencoded',
  ): Promise<{ status: number; body: unknown; type: string | null }> {
    const res = await fetch(`${this.base}/api/v1/streams/${stream}/events/${eventId}`, {
      method: 'POST',
      headers: { accept: JSON_UTF8, 'content-type': type, authorization: this.auth, 'x-consumer-id': consumer },
      body,
    });
    return { status: res.status, body: await res.json(), type: res.headers.get('content-type') };
  }
}

async function names(c: Client, stream: string, consumer: string, eventName: string, limit = 10): Promise<unknown[]> {
  const got = await c.get(stream, consumer, `eventName=${eventName}&limit=${limit}`);
  assert.equal(got.status, 200, JSON.stringify(got.body));
  return (got.body as { payload: { n: number } }[]).map((e) => e.payload.n);
}

describe('event server dialect (seed 002) over HTTP', () => {
  it('runs the worked example: GET does not advance, ACK in order, then nothing is left', async () => {
    const t = await buildTestApp();
    try {
      const c = new Client(await listen(t), basic(t.adminKey));
      const producer = randomUUID();
      const consumer = randomUUID();
      const ids: string[] = [];
      for (let n = 1; n <= 3; n++) {
        const res = await c.produce('candy', producer, snickers(n));
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.type, JSON_UTF8);
        assert.match(res.body as string, /^[0-9a-f-]{36}$/);
        ids.push(res.body as string);
      }
      const first = await c.get('candy', consumer, 'eventName=Snickers&limit=2');
      assert.equal(first.type, JSON_UTF8);
      assert.deepEqual(first.body, [
        { ...snickers(1), eventId: ids[0] },
        { ...snickers(2), eventId: ids[1] },
      ]);
      assert.deepEqual(await names(c, 'candy', consumer, 'Snickers', 2), [1, 2], 'GET does not advance');
      for (const id of ids.slice(0, 2)) {
        const res = await c.ack('candy', consumer, id);
        assert.deepEqual([res.status, res.body, res.type], [200, 'OK', JSON_UTF8]);
      }
      assert.deepEqual(await names(c, 'candy', consumer, 'Snickers', 2), [3]);
      assert.equal((await c.ack('candy', consumer, ids[2]!)).status, 200);
      assert.deepEqual(await names(c, 'candy', consumer, 'Snickers', 2), []);
      // an ordinary stream: readable through the native API, with the zone-converted time
      const native = await t.app.inject({ method: 'GET', url: '/v1/streams/candy/events', headers: t.admin });
      const events = native.json().events as { type: string; time: string; typeSeq: number }[];
      assert.deepEqual(
        events.map((e) => [e.type, e.typeSeq, e.time]),
        [1, 2, 3].map((n) => ['Snickers', n, '2017-09-06T11:58:12.000Z']),
      );
    } finally {
      await t.close();
    }
  });

  it('keeps positions per consumer and per event name, interleaved', async () => {
    const t = await buildTestApp();
    try {
      const c = new Client(await listen(t), basic(t.adminKey));
      const producer = randomUUID();
      const [a, b] = [randomUUID(), randomUUID()];
      const ids: Record<string, string[]> = { Snickers: [], Mars: [] };
      for (const [name, n] of [
        ['Snickers', 1],
        ['Mars', 1],
        ['Snickers', 2],
        ['Mars', 2],
        ['Snickers', 3],
      ] as const) {
        ids[name]!.push((await c.produce('candy', producer, named(name, n))).body as string);
      }
      assert.equal((await c.ack('candy', a, ids.Snickers![0]!)).status, 200);
      assert.equal((await c.ack('candy', a, ids.Mars![0]!)).status, 200);
      assert.equal((await c.ack('candy', a, ids.Snickers![1]!)).status, 200);
      assert.deepEqual(await names(c, 'candy', a, 'Snickers'), [3]);
      assert.deepEqual(await names(c, 'candy', a, 'Mars'), [2]);
      assert.deepEqual(await names(c, 'candy', b, 'Snickers'), [1, 2, 3], 'another consumer is unaffected');
      assert.deepEqual(await names(c, 'candy', b, 'Mars'), [1, 2]);
      const skip = await c.ack('candy', b, ids.Mars![1]!);
      assert.deepEqual([skip.status, skip.body], [400, 'Bad Request - Consumer offset mismatch: 0->2']);
      const again = await c.ack('candy', a, ids.Snickers![0]!);
      assert.deepEqual([again.status, again.body], [400, 'Bad Request - Consumer offset mismatch: 2->1']);
      const json = await c.ack('candy', b, ids.Mars![0]!, JSON.stringify({ action: 'ACK' }), JSON_UTF8);
      assert.deepEqual([json.status, json.body], [200, 'OK']);
      assert.deepEqual(await names(c, 'candy', b, 'Mars'), [2]);
    } finally {
      await t.close();
    }
  });

  it('locks a stream to its first producer: 423 for a second writer', async () => {
    const t = await buildTestApp();
    try {
      const c = new Client(await listen(t), basic(t.adminKey));
      const owner = randomUUID();
      assert.equal((await c.produce('mine', owner, snickers(1))).status, 200);
      const second = await c.produce('mine', randomUUID(), snickers(2));
      assert.deepEqual(
        [second.status, second.body, second.type],
        [423, 'Locked - Second writers not allowed', JSON_UTF8],
      );
      assert.equal((await c.produce('mine', owner, snickers(3))).status, 200, 'the owner keeps writing');
    } finally {
      await t.close();
    }
  });

  it('answers every error row of the seed tables in its format', async () => {
    const t = await buildTestApp();
    try {
      const base = await listen(t);
      const c = new Client(base, basic(t.adminKey));
      const anonymous = new Client(base, basic('not-a-key'));
      const producer = randomUUID();
      const consumer = randomUUID();
      const id = (await c.produce('s', producer, snickers(1))).body as string;
      const expect = async (
        res: Promise<{ status: number; body: unknown; type: string | null }>,
        status: number,
        body: string | RegExp,
      ) => {
        const got = await res;
        assert.equal(got.status, status, JSON.stringify(got.body));
        assert.equal(got.type, JSON_UTF8);
        if (typeof body === 'string') assert.equal(got.body, body);
        else assert.match(got.body as string, body);
      };
      // 401 on each endpoint, also with no credentials at all
      await expect(anonymous.produce('s', producer, snickers(2)), 401, 'Unauthorized');
      await expect(anonymous.get('s', consumer, 'eventName=Snickers&limit=1'), 401, 'Unauthorized');
      await expect(anonymous.ack('s', consumer, id), 401, 'Unauthorized');
      await expect(new Client(base, '').produce('s', producer, snickers(2)), 401, 'Unauthorized');
      // 400 on produce
      await expect(c.produce('s', 'not-a-uuid', snickers(2)), 400, /^Bad Request - x-producer-id must be a UUID/);
      await expect(c.produce('s', producer, null, '{"event":'), 400, /^Bad Request - /);
      await expect(
        c.produce('s', producer, {
          ...snickers(2),
          system: { ...(snickers(2).system as object), timezone: 'Mars/Olympus' },
        }),
        400,
        /^Bad Request - .*timezone/,
      );
      await expect(
        c.produce('s', producer, { ...snickers(2), event: { name: 'Snickers', version: 0 } }),
        400,
        /^Bad Request - .*version/,
      );
      await expect(
        c.produce('s', producer, { ...snickers(2), event: { name: '', version: 1 } }),
        400,
        /^Bad Request - .*name/,
      );
      await expect(c.produce('s', producer, { ...snickers(2), payload: [1] }), 400, /^Bad Request - .*payload/);
      await expect(c.produce('s', producer, { ...snickers(2), eventId: randomUUID() }), 400, /^Bad Request - .*id/);
      // 400 and 404 on GET
      await expect(c.get('s', 'nope', 'eventName=Snickers&limit=1'), 400, /^Bad Request - x-consumer-id/);
      await expect(c.get('s', consumer, 'limit=1'), 400, 'Bad Request - eventName is mandatory');
      await expect(c.get('s', consumer, 'eventName=Snickers'), 400, /^Bad Request - limit is mandatory/);
      await expect(c.get('s', consumer, 'eventName=Snickers&limit=0'), 400, /^Bad Request - limit must be/);
      await expect(c.get('unknown', consumer, 'eventName=Snickers&limit=1'), 404, 'Not Found');
      // 400 and 404 on ACK
      await expect(c.ack('s', consumer, id, 'action=NOPE'), 400, 'Bad Request - the body must be action=ACK');
      await expect(c.ack('s', 'nope', id), 400, /^Bad Request - x-consumer-id/);
      await expect(c.ack('unknown', consumer, id), 404, 'Not Found');
      await expect(c.ack('s', consumer, randomUUID()), 404, 'Not Found');
      // unknown routes under the mount
      const res = await fetch(`${base}/api/v1/streams/s/nothing`, { headers: { authorization: basic(t.adminKey) } });
      assert.deepEqual([res.status, await res.json(), res.headers.get('content-type')], [404, 'Not Found', JSON_UTF8]);
    } finally {
      await t.close();
    }
  });

  it('keeps positions across a restart', async () => {
    const dataDir = tempDir();
    const producer = randomUUID();
    const consumer = randomUUID();
    const first = await buildTestApp({ dataDir });
    const ids: string[] = [];
    try {
      const c = new Client(await listen(first), basic(first.adminKey));
      for (let n = 1; n <= 3; n++) ids.push((await c.produce('candy', producer, snickers(n))).body as string);
      assert.equal((await c.ack('candy', consumer, ids[0]!)).status, 200);
    } finally {
      await first.close();
    }
    const second = await buildTestApp({ dataDir });
    try {
      const c = new Client(await listen(second), basic(second.adminKey));
      assert.deepEqual(await names(c, 'candy', consumer, 'Snickers'), [2, 3]);
      assert.equal((await c.produce('candy', randomUUID(), snickers(4))).status, 423, 'the lock survives too');
    } finally {
      await second.close();
    }
  });
});
