/** /metrics, request ids, W3C trace context in logs and the onRequestSpan hook, and secrets kept out of logs. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/load-config.js';
import { RivuletMetrics } from '../../src/observability/metrics.js';
import { startServer } from '../../src/runtime/server.js';
import { startReceiver } from '../support/receiver.js';
import { tempDir } from '../support/resources.js';
import type { RequestSpanEnd, RequestSpanStart } from '../../src/observability/trace-context.js';
import { buildTestApp, type TestApp, type TestAppOptions } from '../support/test-app.js';

async function withApp(body: (t: TestApp) => Promise<void>, options?: TestAppOptions): Promise<void> {
  const t = await buildTestApp(options);
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

/** a real pino logger writing JSON lines into memory */
function capturedLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: pino({ level: 'trace' }, sink),
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** the value of one sample line of the exposition text */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe('/metrics', () => {
  it('needs the admin key by default, and serves requests, produced events, consumer lag, live and process metrics', () =>
    withApp(async (t) => {
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
      const reader = await t.keyWith(['consume:*']);
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics', headers: reader })).statusCode, 403);

      await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'orders' } });
      const produced = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/events',
        headers: t.admin,
        payload: [
          { type: 'a', id: 'e1' },
          { type: 'b', id: 'e2' },
          { type: 'a', id: 'e3' },
        ],
      });
      assert.equal(produced.statusCode, 201, produced.body);
      // a duplicate of e1 and one new event: only the new one is counted
      await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/events',
        headers: t.admin,
        payload: [
          { type: 'a', id: 'e1' },
          { type: 'a', id: 'e4' },
        ],
      });
      await t.app.inject({ method: 'POST', url: '/v1/streams/nope/events', headers: t.admin, payload: { type: 'a' } });
      const consumer = await t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/consumers',
        headers: t.admin,
        payload: { name: 'billing' },
      });
      assert.equal(consumer.statusCode, 201, consumer.body);

      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: t.admin });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const text = res.body;
      assert.equal(
        sample(text, 'rivulet_http_requests_total', {
          method: 'POST',
          route: '/v1/streams/:name/events',
          status: '201',
        }),
        2,
      );
      assert.equal(
        sample(text, 'rivulet_http_requests_total', {
          method: 'POST',
          route: '/v1/streams/:name/events',
          status: '404',
        }),
        1,
      );
      assert.equal(sample(text, 'rivulet_http_requests_total', { method: 'GET', route: '/metrics', status: '401' }), 1);
      assert.equal(
        sample(text, 'rivulet_http_request_duration_seconds_count', {
          method: 'POST',
          route: '/v1/streams/:name/events',
          status: '201',
        }),
        2,
      );
      assert.equal(sample(text, 'rivulet_events_produced_total', { stream: 'orders' }), 4);
      assert.equal(sample(text, 'rivulet_consumer_lag_events', { stream: 'orders', consumer: 'billing' }), 4);
      assert.ok(
        (sample(text, 'rivulet_consumer_oldest_unacked_seconds', { stream: 'orders', consumer: 'billing' }) ?? -1) >= 0,
      );
      assert.equal(sample(text, 'rivulet_live_subscriptions'), 0);
      assert.ok((sample(text, 'rivulet_process_resident_memory_bytes') ?? 0) > 0, 'process metrics are included');
      assert.ok(sample(text, 'rivulet_nodejs_heap_size_used_bytes') !== undefined);

      // the store's reader threads: the lag counts of the scrape above ran there
      const again = (await t.app.inject({ method: 'GET', url: '/metrics', headers: t.admin })).body;
      assert.equal(sample(again, 'rivulet_store_reader_threads'), 2);
      assert.equal(sample(again, 'rivulet_store_read_jobs_queued'), 0);
      assert.ok((sample(again, 'rivulet_store_read_jobs_total') ?? 0) >= 1, 'reads counted');
      assert.ok((sample(again, 'rivulet_store_read_wait_seconds_total') ?? -1) >= 0);
    }));

  it('is public with metricsPublic, and shows what the sink recorder was told', async () => {
    const metrics = new RivuletMetrics();
    await withApp(
      async (t) => {
        metrics.sinks.delivered('to-s3', 10, 120);
        metrics.sinks.failed('to-s3', 'http_503');
        metrics.sinks.retried('to-s3');
        metrics.sinks.deadLettered('to-s3', 2);
        metrics.commit({ durationMs: 3, requests: 7 });
        const res = await t.app.inject({ method: 'GET', url: '/metrics' });
        assert.equal(res.statusCode, 200);
        assert.equal(sample(res.body, 'rivulet_sink_events_delivered_total', { sink: 'to-s3' }), 10);
        assert.equal(sample(res.body, 'rivulet_sink_failures_total', { sink: 'to-s3', reason: 'http_503' }), 1);
        assert.equal(sample(res.body, 'rivulet_sink_retries_total', { sink: 'to-s3' }), 1);
        assert.equal(sample(res.body, 'rivulet_sink_dead_lettered_total', { sink: 'to-s3' }), 2);
        assert.equal(sample(res.body, 'rivulet_store_commit_batch_requests_sum'), 7);
        assert.equal(sample(res.body, 'rivulet_store_commit_seconds_count'), 1);
      },
      { observability: { metrics, metricsPublic: true } },
    );
  });

  it('keeps each app to its own registry', async () => {
    const a = await buildTestApp();
    const b = await buildTestApp();
    try {
      await a.app.inject({ method: 'GET', url: '/v1/streams', headers: a.admin });
      await a.app.inject({ method: 'GET', url: '/v1/streams', headers: a.admin });
      const textB = (await b.app.inject({ method: 'GET', url: '/metrics', headers: b.admin })).body;
      assert.equal(sample(textB, 'rivulet_http_requests_total', { route: '/v1/streams', status: '200' }), undefined);
      const textA = (await a.app.inject({ method: 'GET', url: '/metrics', headers: a.admin })).body;
      assert.equal(sample(textA, 'rivulet_http_requests_total', { route: '/v1/streams', status: '200' }), 2);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('the composition root', () => {
  it('wires store commits into the metrics, and --metrics-public opens /metrics', async () => {
    const adminKey = 'rvl_observability-test-admin-key';
    const config = loadConfig({
      flags: { port: 0, dataDir: tempDir(), metricsPublic: true, logLevel: 'silent', adminKey },
    });
    const server = await startServer(config);
    try {
      const key = { authorization: `Bearer ${adminKey}` };
      await fetch(`${server.url}/v1/streams`, {
        method: 'POST',
        headers: { ...key, 'content-type': 'application/json' },
        body: '{"name":"s"}',
      }).then((r) => r.text());
      await Promise.all(
        Array.from({ length: 5 }, () =>
          fetch(`${server.url}/v1/streams/s/events`, {
            method: 'POST',
            headers: { ...key, 'content-type': 'application/json' },
            body: '[{"type":"a"},{"type":"b"}]',
          }).then((r) => r.text()),
        ),
      );
      const res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(
        (sample(text, 'rivulet_store_commit_seconds_count') ?? 0) >= 1,
        `commits were observed: ${text
          .split('\n')
          .filter((l) => /commit|produced/.test(l))
          .join('\n')}`,
      );
      assert.ok((sample(text, 'rivulet_store_commit_batch_events_sum') ?? 0) >= 10);
      assert.equal(sample(text, 'rivulet_events_produced_total', { stream: 's' }), 10);
      assert.equal(sample(text, 'rivulet_produce_inflight'), 0);
    } finally {
      await server.close();
    }
  });

  it('counts what the running delivery engine delivers, fails and retries, per sink', async () => {
    const adminKey = 'rvl_observability-sink-admin-key';
    // the first two requests fail: one retried delivery, then every event arrives
    const receiver = await startReceiver((_req, res, n) => {
      res.statusCode = n <= 2 ? 503 : 200;
      res.end();
    });
    const config = loadConfig({
      flags: {
        port: 0,
        dataDir: tempDir(),
        metricsPublic: true,
        logLevel: 'silent',
        adminKey,
        sinkAllowLoopback: true,
      },
    });
    const server = await startServer(config);
    try {
      const post = (url: string, body: unknown) =>
        fetch(`${server.url}${url}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then(async (r) => {
          assert.ok(r.status < 300, `${url}: ${r.status} ${await r.text()}`);
        });
      await post('/v1/streams', { name: 'm' });
      await post('/v1/sinks', {
        id: 'hook',
        streams: ['m'],
        target: { kind: 'http', url: receiver.url },
        policy: {
          ordering: 'ordered',
          retry: { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 20, multiplier: 2, jitter: 'none' },
        },
      });
      await post('/v1/streams/m/events', [{ type: 'a' }, { type: 'b' }, { type: 'c' }]);
      let text = '';
      for (
        let i = 0;
        i < 200 && (sample(text, 'rivulet_sink_events_delivered_total', { sink: 'hook' }) ?? 0) < 3;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
        text = await (await fetch(`${server.url}/metrics`)).text();
      }
      assert.equal(
        sample(text, 'rivulet_sink_events_delivered_total', { sink: 'hook' }),
        3,
        text
          .split('\n')
          .filter((l) => l.includes('sink'))
          .join('\n'),
      );
      assert.equal(sample(text, 'rivulet_sink_failures_total', { sink: 'hook', reason: 'status_503' }), 2);
      assert.equal(sample(text, 'rivulet_sink_retries_total', { sink: 'hook' }), 2);
      assert.equal(sample(text, 'rivulet_sink_delivery_seconds_count', { sink: 'hook' }), 3);
    } finally {
      await server.close();
      await receiver.close();
    }
  });
});

describe('request ids and trace context', () => {
  it('echoes a plain X-Request-Id, replaces a hostile one, and puts it with the trace ids in every log line', async () => {
    const log = capturedLogger();
    const spans: { start: RequestSpanStart; end?: RequestSpanEnd }[] = [];
    await withApp(
      async (t) => {
        const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
        const res = await t.app.inject({
          method: 'GET',
          url: '/v1/streams/missing',
          headers: { ...t.admin, 'x-request-id': 'req-42.a', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        });
        assert.equal(res.statusCode, 404);
        assert.equal(res.headers['x-request-id'], 'req-42.a');
        assert.equal(res.json().instance, 'req-42.a');
        const mine = log.records().filter((r) => r.reqId === 'req-42.a');
        assert.ok(mine.length >= 2, `expected request lines, got ${JSON.stringify(log.records())}`);
        for (const r of mine) {
          assert.equal(r.trace_id, traceId);
          assert.match(String(r.span_id), /^[0-9a-f]{16}$/);
          assert.notEqual(r.span_id, '00f067aa0ba902b7', 'the request has its own span');
        }
        assert.equal(spans.length, 1);
        assert.equal(spans[0]!.start.trace.traceId, traceId);
        assert.equal(spans[0]!.start.trace.parentSpanId, '00f067aa0ba902b7');
        assert.equal(spans[0]!.start.trace.sampled, true);
        assert.equal(spans[0]!.start.requestId, 'req-42.a');
        assert.deepEqual(
          { ...spans[0]!.end, durationMs: 0 },
          { statusCode: 404, route: '/v1/streams/:name', durationMs: 0, errorCode: 'STREAM_NOT_FOUND' },
        );

        for (const hostile of ['a b', 'x'.repeat(129), 'line\nbreak', 'é', '']) {
          const r = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': hostile } });
          assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/, `${JSON.stringify(hostile)} was kept`);
        }
        // a malformed traceparent starts a new trace instead of failing the request
        const bad = await t.app.inject({
          method: 'GET',
          url: '/healthz',
          headers: { 'x-request-id': 'bad-trace', traceparent: '00-zz-00-01' },
        });
        assert.equal(bad.statusCode, 200);
        const badLine = log.records().find((r) => r.reqId === 'bad-trace');
        assert.match(String(badLine?.trace_id), /^[0-9a-f]{32}$/);
        const allZero = await t.app.inject({
          method: 'GET',
          url: '/healthz',
          headers: { 'x-request-id': 'zero-trace', traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` },
        });
        assert.equal(allZero.statusCode, 200);
        assert.notEqual(log.records().find((r) => r.reqId === 'zero-trace')?.trace_id, '0'.repeat(32));
      },
      {
        logger: log.logger,
        observability: {
          onRequestSpan: (start) => {
            if (start.path !== '/v1/streams/missing') return;
            const span: { start: RequestSpanStart; end?: RequestSpanEnd } = { start };
            spans.push(span);
            return (end) => {
              span.end = end;
            };
          },
        },
      },
    );
  });
});

describe('secrets stay out of the logs', () => {
  it('never logs a key sent as Bearer, Basic, Auth-Token, or a live token in the query', async () => {
    const log = capturedLogger();
    await withApp(
      async (t) => {
        await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'orders' } });
        const created = (
          await t.app.inject({
            method: 'POST',
            url: '/v1/keys',
            headers: t.admin,
            payload: { owner: 'bob', scopes: ['consume:orders'] },
          })
        ).json() as { secret: string };
        const bob = created.secret;
        const wrong = 'rvl_this-is-not-a-key-but-still-a-secret';
        const basic = (s: string) => `Basic ${Buffer.from(`user:${s}`).toString('base64')}`;
        for (const headers of [
          { authorization: `Bearer ${bob}` },
          { authorization: basic(bob) },
          { 'auth-token': bob },
          { authorization: `Bearer ${wrong}` },
          { authorization: basic(wrong) },
          { 'auth-token': wrong },
        ]) {
          await t.app.inject({ method: 'GET', url: '/v1/streams/orders', headers });
          await t.app.inject({ method: 'POST', url: '/v1/streams/orders/events', headers, payload: { type: 't' } });
          await t.app.inject({ method: 'GET', url: '/v1/nothing', headers });
        }
        const token = (
          await t.app.inject({
            method: 'POST',
            url: '/v1/live-tokens',
            headers: { authorization: `Bearer ${bob}` },
            payload: { stream: 'orders' },
          })
        ).json().token as string;
        assert.ok(token);
        // a live token in the query of a request that fails before it is used, and of one that never matches a route
        await t.app.inject({
          method: 'GET',
          url: `/v1/streams/orders/live?token=${token}&after=x`,
          headers: { accept: 'text/event-stream' },
        });
        await t.app.inject({ method: 'GET', url: `/v1/unknown?token=${token}` });
        await t.app.inject({
          method: 'POST',
          url: '/v1/keys',
          headers: t.admin,
          payload: { owner: 'x', scopes: ['nonsense'] },
        });
        const all = log.lines.join('\n');
        assert.ok(log.lines.length > 20, 'the requests were logged');
        for (const secret of [bob, wrong, token, t.adminKey, Buffer.from(`user:${bob}`).toString('base64')]) {
          assert.ok(!all.includes(secret), `a secret reached the log: ${secret.slice(0, 8)}…`);
        }
        assert.ok(all.includes('token=[redacted]'));
      },
      { logger: log.logger },
    );
  });
});
