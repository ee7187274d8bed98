/**
 * Secrets inside URLs: a userinfo password and query parameters whose names the secret-name
 * rule calls secret (`api_key`, `token`, …). Sinks, action targets, aether jobs and specs
 * configured with such URLs never answer or log them (POST, GET, list, PATCH, plans,
 * revisions, a real pino log at trace level), the rest of the URL shows as written, and a URL
 * sent back with `[redacted]` in those places keeps the stored secrets, which a real receiver
 * then gets; a placeholder with no stored secret behind it is refused.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { SpecApplier } from '../../src/core/specs/spec-applier.js';
import { startDeliveryApp, until } from '../support/delivery-app.js';
import { startReceiver } from '../support/receiver.js';

const PW = 'hunter2-url-pw-51c9';
const KEY = 'tok-url-key-7aa31d';
const ACTION_TOKEN = 'tok-url-action-93bd0e';
const JOB_PW = 'hunter2-job-url-2f6a';
const SPEC_KEY = 'tok-url-spec-c4e812';
const SECRETS = [PW, KEY, ACTION_TOKEN, JOB_PW, SPEC_KEY];

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

describe('secrets in URLs', () => {
  it('are redacted in every answer and log, and kept when sent back redacted', async () => {
    const log = capturedLogger();
    const rx = await startReceiver();
    const h = await startDeliveryApp('url secrets', { logger: log.logger });
    const applier = new SpecApplier(h.t.services.specs);
    applier.start();
    const { t } = h;
    const answers: string[] = [];
    const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) => {
      const res = await t.app.inject({
        method,
        url,
        headers: t.admin,
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      answers.push(`${method} ${url}: ${res.body}`);
      return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) as Record<string, unknown> };
    };
    try {
      const host = rx.url.slice('http://'.length);
      const url = `http://hook:${PW}@${host}/x?api_key=${KEY}&n=1`;
      const shownUrl = `http://hook:[redacted]@${host}/x?api_key=[redacted]&n=1`;
      await t.services.streams.create({ name: 'orders' }, 'admin');

      // a sink: POST, GET, list and PATCH answer the URL redacted
      const created = await call('POST', '/v1/sinks', {
        id: 'hook',
        streams: ['orders'],
        state: 'paused',
        target: { kind: 'http', url },
      });
      assert.equal(created.status, 201, created.body);
      assert.equal((created.json().target as { url: string }).url, shownUrl);
      const got = await call('GET', '/v1/sinks/hook');
      assert.equal((got.json().target as { url: string }).url, shownUrl);
      const listed = (await call('GET', '/v1/sinks')).json().sinks as { target: { url: string } }[];
      assert.deepEqual(
        listed.map((s) => s.target.url),
        [shownUrl],
      );
      // sent back as answered: the stored URL keeps its secrets, and deliveries carry them
      const patched = await call('PATCH', '/v1/sinks/hook', { description: 'edited', target: got.json().target });
      assert.equal(patched.status, 200, patched.body);
      assert.equal((patched.json().target as { url: string }).url, shownUrl);
      assert.equal((await t.services.sinks.getDocument('hook')).value.target['url'], url);
      assert.equal((await call('POST', '/v1/sinks/hook/resume')).status, 200);
      assert.equal((await call('POST', '/v1/streams/orders/events', { type: 't', data: {} })).status, 201);
      const delivered = await until('the delivery', () => rx.requests.find((q) => q.url.startsWith('/x')));
      assert.equal(delivered.url, `/x?api_key=${KEY}&n=1`);
      // a dry run of the sink as answered: the request it would make, its URL redacted too
      const dry = await call('POST', '/v1/sinks/dry-run', {
        id: 'hook',
        streams: ['orders'],
        target: got.json().target,
      });
      assert.equal(dry.status, 200, dry.body);
      assert.equal((dry.json().delivery as { url: string }).url, shownUrl, dry.body);
      // a new secret replaces the stored one; a placeholder where none is stored is refused
      const moved = await call('PATCH', '/v1/sinks/hook', {
        target: { kind: 'http', url: `http://${host}/y?token=[redacted]` },
      });
      assert.equal(moved.status, 400, moved.body);
      assert.equal(moved.json().pointer, '/target/url');

      // a refused URL is quoted back without its secrets
      const bad = await call('POST', '/v1/sinks', {
        id: 'bad',
        streams: ['orders'],
        target: { kind: 'http', url: `http://hook:${PW}@${host}/x?api_key=${KEY}&{oops` },
      });
      assert.equal(bad.status, 400, bad.body);

      // an action target
      const lamp = `${rx.url}/lamp?access_token=${ACTION_TOKEN}&room=2`;
      const target = await call('POST', '/v1/action-targets', { id: 'lamp', name: 'lamp', url: lamp });
      assert.equal(target.status, 201, target.body);
      assert.equal(target.json().url, `${rx.url}/lamp?access_token=[redacted]&room=2`);
      const renamed = await call('PATCH', '/v1/action-targets/lamp', { name: 'lamp 2', url: target.json().url });
      assert.equal(renamed.status, 200, renamed.body);
      assert.equal((await t.services.actionTargets.get('lamp', { owner: 'admin', admin: true })).url, lamp);
      await call('GET', '/v1/action-targets');

      // an aether job (the seed's view of a sink)
      const job = await call('POST', '/job/job-1', {
        type: 'post',
        topic: ['orders'],
        url: `http://job:${JOB_PW}@${host}/job/{n}`,
        datamap: { n: '$.msg.n' },
      });
      assert.ok(job.status < 300, job.body);
      const jobView = await call('GET', '/job/job-1');
      assert.equal(jobView.json().url, `http://job:[redacted]@${host}/job/{n}`);
      await call('GET', '/jobs/admin');

      // a spec: its plan and its revision
      const spec = {
        meta: { owner: 'admin', dataset: 'shop' },
        streams: [{ name: 'shop.orders' }],
        sinks: [
          {
            id: 'spec-hook',
            streams: ['shop.orders'],
            target: { kind: 'http', url: `${rx.url}/spec?api_key=${SPEC_KEY}` },
          },
        ],
      };
      assert.equal((await call('POST', '/v1/specs/plan', spec)).status, 200);
      assert.equal((await call('POST', '/v1/specs', spec)).status, 201);
      await until("the spec's sink", async () =>
        (await call('GET', '/v1/sinks/spec-hook')).status === 200 ? true : undefined,
      );
      const revision = await call('GET', '/v1/specs/admin/shop/revisions/latest');
      assert.match(revision.body, /\/spec\?api_key=\[redacted\]/);

      for (const answer of answers)
        for (const secret of SECRETS)
          assert.ok(!answer.includes(secret), `an answer shows ${secret}: ${answer.slice(0, 300)}`);
      for (const line of log.lines)
        for (const secret of SECRETS)
          assert.ok(!line.includes(secret), `a log line shows ${secret}: ${line.slice(0, 300)}`);
    } finally {
      await applier.close();
      await h.close();
      await rx.close();
    }
  });
});
