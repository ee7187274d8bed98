/**
 * Secrets are never answered nor logged. Every kind of secret Rivulet keeps is configured with a
 * distinctive value: an http sink (basic_auth password, token, signing secret, a secret-looking
 * header), an s3 sink (secret access key, session token), an action target (basic password), an
 * aether job (basic_auth and token), okdata's s3 settings (server configuration), and a spec
 * whose sink and action target carry tokens. The delivery engine runs and uses them against a
 * real receiver (which fails the first requests, so failures are logged too). Then every GET
 * route the app registered is called with every plausible parameter value (native API and
 * dialects), and no answer — nor any line of the real pino log of the whole run — may contain a
 * secret value (or the Basic credentials built from one).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { SpecApplier } from '../../src/core/specs/spec-applier.js';
import { createDelivery } from '../../src/delivery/delivery-setup.js';
import { generateWebhookSecret } from '../../src/delivery/signing.js';
import { declaredRoutes } from '../../src/http/plugins/auth.js';
import { startReceiver } from '../support/receiver.js';
import { buildTestApp, type TestApp } from '../support/test-app.js';

const S = {
  sinkPw: 'sinkpw-7f3a9c51e2',
  sinkToken: 'sinktoken-3b8e1d77aa',
  sinkHeader: 'hdrsecret-91ab40cd',
  s3Secret: 's3secret-5d2c77e10f',
  s3Session: 's3session-88aa61b3c2',
  actionPw: 'actionpw-c0ffee1234',
  jobPw: 'jobpw-4e4e4e9a8b',
  jobToken: 'jobtoken-abab12cd34',
  okdataS3Secret: 'okdatas3secret-1234fe',
  specSinkToken: 'spectoken-9999aa77',
  specActionToken: 'specaction-7777bb66',
};
const FAST_RETRY = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 30, multiplier: 2, jitter: 'none' as const };

function capturedLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), lines };
}

async function until(what: string, probe: () => boolean, timeoutMs = 8000, seen = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${seen()})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** every secret value, and the forms it travels in (Basic credentials) */
function forbidden(signing: string): string[] {
  const basic = (user: string, pw: string) => Buffer.from(`${user}:${pw}`).toString('base64');
  return [
    ...Object.values(S),
    signing,
    signing.replace(/^whsec_/, ''),
    basic('hook', S.sinkPw),
    basic('lamp', S.actionPw),
    basic('job', S.jobPw),
  ];
}

function assertClean(where: string, text: string, secrets: string[]): void {
  for (const secret of secrets)
    assert.ok(!text.includes(secret), `${where} contains the secret ${secret.slice(0, 10)}…: ${text.slice(0, 400)}`);
}

/** GET urls for every declared GET route, each parameter filled with every candidate value */
function getUrls(t: TestApp, candidates: Record<string, string[]>): string[] {
  const urls = new Set<string>();
  for (const route of declaredRoutes(t.app)) {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('GET') || route.config?.access?.scope === 'public') continue;
    // a live subscription stays open (inject() would wait for its end); set_offset moves a job
    if (route.url.endsWith('/live') || route.url.includes('set_offset')) continue;
    let filled = [''];
    for (const segment of route.url.split('/').slice(1)) {
      const param = /^:(\w+)/.exec(segment)?.[1];
      const values = param === undefined ? [segment] : (candidates[param] ?? []);
      filled = filled.flatMap((prefix) => values.map((v) => `${prefix}/${encodeURIComponent(v)}`));
    }
    for (const url of filled) urls.add(url);
  }
  return [...urls];
}

describe('secrets in answers and logs', () => {
  it('no configured secret appears in any GET answer, creation answer or log line', async () => {
    const log = capturedLogger();
    const rx = await startReceiver((_req, res, n) => {
      res.statusCode = n <= 2 ? 500 : 200;
      res.end();
    });
    const delivery = createDelivery({ allowLoopback: true });
    const t = await buildTestApp({
      logger: log.logger,
      core: {
        sinkChecks: delivery.checks,
        rulesStream: 'iflux',
      },
      dialects: {
        iflux: { stream: 'iflux', anonymous: false },
        aether: { policy: { retry: FAST_RETRY } },
        okdata: {
          targets: {
            s3: {
              bucket: 'okdata',
              region: 'us-east-1',
              endpoint: 'http://127.0.0.1:9',
              forcePathStyle: true,
              credentials: { accessKeyId: 'AKIAOKDATA', secretAccessKey: S.okdataS3Secret },
            },
          },
        },
      },
    });
    const engine = delivery.engine(t.services, t.store, log.logger, {
      scanIntervalMs: 100,
      idlePollMs: 20,
      flushIntervalMs: 50,
      ownerLeaseMs: 3000,
      closeGraceMs: 500,
    });
    engine.start();
    const applier = new SpecApplier(t.services.specs);
    applier.start();
    const signing = generateWebhookSecret();
    const secrets = forbidden(signing);
    const answered: string[] = [];
    const post = async (url: string, payload: unknown) => {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: t.admin,
        payload: payload as Record<string, unknown>,
      });
      assert.ok(res.statusCode < 300, `${url}: ${res.statusCode} ${res.body}`);
      answered.push(`POST ${url}`);
      assertClean(`POST ${url}`, res.body, secrets);
      return res;
    };
    try {
      await post('/v1/streams', { name: 'orders' });
      await post('/v1/sinks', {
        id: 'hook-http',
        streams: ['orders'],
        start: { from: 'beginning' },
        policy: { retry: FAST_RETRY },
        target: {
          kind: 'http',
          url: `${rx.url}/hook`,
          basic_auth: { user: 'hook', pw: S.sinkPw },
          token: S.sinkToken,
          headers: { 'x-api-key': S.sinkHeader },
          signing: { secrets: [signing] },
        },
      });
      await post('/v1/sinks', {
        id: 'hook-s3',
        streams: ['orders'],
        start: { from: 'beginning' },
        policy: { retry: FAST_RETRY, batch: { maxAgeMs: 10 } },
        target: {
          kind: 's3',
          bucket: 'sink-bucket',
          region: 'us-east-1',
          endpoint: 'http://127.0.0.1:9',
          forcePathStyle: true,
          credentials: { accessKeyId: 'AKIASINK', secretAccessKey: S.s3Secret, sessionToken: S.s3Session },
        },
      });
      await post('/v1/action-targets', {
        id: 'lamp',
        name: 'lamp',
        url: `${rx.url}/lamp`,
        auth: { type: 'basic', user: 'lamp', password: S.actionPw },
      });
      await post('/job/job-1', {
        type: 'post',
        topic: ['orders'],
        url: `${rx.url}/job/{n}`,
        datamap: { n: '$.msg.n' },
        basic_auth: { user: 'job', pw: S.jobPw },
        token: S.jobToken,
      });
      await post('/streams/okset/1', { confidentiality: 'green' });
      await post('/okset/1/sinks', { type: 's3' });
      const spec = {
        meta: { owner: 'admin', dataset: 'shop' },
        streams: [{ name: 'shop.orders' }],
        actionTargets: [
          {
            id: 'spec-lamp',
            name: 'Lamp',
            url: `${rx.url}/spec-lamp`,
            auth: { type: 'bearer', token: S.specActionToken },
          },
        ],
        sinks: [
          {
            id: 'spec-hook',
            streams: ['shop.orders'],
            target: { kind: 'http', url: `${rx.url}/spec-hook`, token: S.specSinkToken },
            policy: { retry: FAST_RETRY },
            start: { from: 'beginning' },
          },
        ],
      };
      await post('/v1/specs/plan', spec);
      await post('/v1/specs', spec);
      // the applier runs in the background: wait for the spec's sink
      for (
        let i = 0;
        i < 100 &&
        (await t.app.inject({ method: 'GET', url: '/v1/sinks/spec-hook', headers: t.admin })).statusCode !== 200;
        i++
      )
        await new Promise((r) => setTimeout(r, 50));

      // deliveries that carry the secrets, failing first
      await post('/v1/streams/orders/events', [
        { id: 'e1', type: 'order.placed', data: { n: 1 } },
        { id: 'e2', type: 'order.placed', data: { n: 2 } },
      ]);
      await post('/v1/streams/shop.orders/events', [{ id: 's1', type: 'order.placed', data: { n: 1 } }]);
      await post('/okset/1/events', [{ n: 1 }]);
      await until(
        'the http sink and the job delivered with their secrets',
        () =>
          rx.requests.some((r) => r.url === '/hook' && r.headers['x-api-key'] === S.sinkHeader) &&
          rx.requests.some(
            (r) =>
              r.url.startsWith('/job/') &&
              r.headers.authorization === `Basic ${Buffer.from(`job:${S.jobPw}`).toString('base64')}`,
          ) &&
          rx.requests.some((r) => r.url === '/spec-hook' && String(r.headers.authorization).includes(S.specSinkToken)),
        8000,
        () => rx.requests.map((r) => `${r.url} ${String(r.headers.authorization)}`).join('; '),
      );

      const sinkIds = (
        (await t.app.inject({ method: 'GET', url: '/v1/sinks?limit=1000', headers: t.admin })).json().sinks as {
          id: string;
        }[]
      ).map((s) => s.id);
      const streams = (
        (await t.app.inject({ method: 'GET', url: '/v1/streams?limit=1000', headers: t.admin })).json().streams as {
          name: string;
        }[]
      ).map((s) => s.name);
      assert.ok(sinkIds.length >= 5, sinkIds.join(', '));
      const candidates: Record<string, string[]> = {
        name: streams,
        stream: ['orders', 'shop.orders'],
        consumer: sinkIds.map((s) => `sink.${s}`).filter((c) => c.includes('hook')),
        id: [...sinkIds, 'lamp', 'spec-lamp', 'job-1', 'e1'],
        owner: ['admin'],
        dataset: ['shop', 'okset'],
        revision: ['latest', '1'],
        version: ['1'],
        sinkType: ['s3'],
        type: ['order.placed'],
        eventId: ['e1'],
      };
      const urls = [
        ...getUrls(t, candidates),
        '/jobs/get?id=job-1',
        '/v1/streams/orders/events?after=0',
        '/v1/sinks?limit=1000',
        '/v1/sinks/hook-http/attempts?limit=100',
      ];
      let okAnswers = 0;
      for (const url of urls) {
        const res = await t.app.inject({ method: 'GET', url, headers: t.admin });
        assert.ok(res.statusCode < 500, `GET ${url}: ${res.statusCode} ${res.body}`);
        if (res.statusCode < 300) okAnswers++;
        assertClean(`GET ${url}`, res.body, secrets);
      }
      // the walk reached the places that hold secrets, and the redactions show
      for (const must of [
        '/v1/sinks/hook-http',
        '/v1/sinks/hook-s3',
        '/v1/action-targets/lamp',
        '/job/job-1',
        '/okset/1/sinks/s3',
        '/v1/specs/admin/shop/revisions/latest',
        '/source/admin/shop/latest',
      ]) {
        assert.ok(urls.includes(must), `the walk covers ${must}`);
      }
      const view = (await t.app.inject({ method: 'GET', url: '/v1/sinks/hook-http', headers: t.admin })).json()
        .target as Record<string, unknown>;
      assert.equal(view.token, '[redacted]');
      assert.ok(okAnswers > 60, `the walk got real answers (${okAnswers} of ${urls.length})`);
    } finally {
      await applier.close();
      await engine.close();
      await t.close();
      await rx.close();
    }
    assert.ok(log.lines.length > 50, 'the run was logged');
    assert.ok(
      log.lines.some((l) => l.includes('hook-http') || l.includes('/v1/sinks')),
      'the sinks appear in the log',
    );
    assertClean('the log', log.lines.join('\n'), secrets);
  });
});
