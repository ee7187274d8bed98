/**
 * `meta.schedule` over a real SQLite store: a due check re-applies the latest revision only
 * when the world drifted from it, and of two schedulers checking at once only one acts.
 * The clock is the test's own, so an hour passes at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecApplier } from '../../src/core/specs/spec-applier.js';
import { SpecScheduler } from '../../src/core/specs/spec-scheduler.js';
import type { RevisionDoc } from '../../src/core/specs/revision-model.js';
import { buildTestApp } from '../support/test-app.js';

const silent = { info: () => {}, error: () => {} };
const MINUTE = 60_000;

describe('scheduled specs', () => {
  it('re-applies the latest revision when due and drifted, records a check when not, and leaves unscheduled specs alone', async () => {
    let nowMs = Date.parse('2026-03-01T08:00:00Z');
    const t = await buildTestApp({ core: { clock: { now: () => new Date(nowMs) } } });
    const applier = new SpecApplier(t.services.specs);
    applier.start();
    const scheduler = new SpecScheduler(t.services.specs, silent);
    const upload = async (body: unknown) => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/specs', headers: t.admin, payload: body as object });
      assert.equal(res.statusCode, 201, res.body);
      await applier.idle();
    };
    const latest = async (dataset: string) => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/specs/acme/${dataset}/revisions/latest`,
        headers: t.admin,
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as RevisionDoc & { state: string };
    };
    const checks = async () =>
      Object.fromEntries((await scheduler.checkAll()).map((c) => [c.dataset, c.check.outcome]));
    try {
      await upload({
        meta: { owner: 'acme', dataset: 'shop', schedule: 'every 1h' },
        streams: [{ name: 'orders', description: 'web orders' }],
      });
      await upload({ meta: { owner: 'acme', dataset: 'plain' }, streams: [{ name: 'ledger' }] });
      assert.equal((await latest('shop')).revision, 1);

      nowMs += 30 * MINUTE;
      assert.deepEqual(await checks(), { 'acme/plain': 'not-scheduled', 'acme/shop': 'not-due' });

      // drift: the stream is changed and another is deleted behind the spec's back
      await t.services.streams.update('orders', { description: 'changed by hand' });
      await t.services.streams.delete('ledger');
      nowMs += 31 * MINUTE;
      assert.deepEqual(await checks(), { 'acme/plain': 'not-scheduled', 'acme/shop': 'queued' });
      await applier.idle();
      const second = await latest('shop');
      assert.equal(second.revision, 2);
      assert.equal(second.trigger, 'schedule');
      assert.equal(second.state, 'SUCCEEDED');
      assert.deepEqual(
        second.spec,
        (await t.services.specs.get('acme', 'shop', 1)).spec,
        'the same document, applied again',
      );
      assert.equal((await t.services.streams.describe('orders')).description, 'web orders');
      // the unscheduled spec's stream stays deleted
      await assert.rejects(t.services.streams.describe('ledger'));

      // checked just now: not due again for an hour; then due, and nothing drifted
      assert.equal((await checks())['acme/shop'], 'not-due');
      nowMs += 61 * MINUTE;
      assert.equal((await checks())['acme/shop'], 'unchanged');
      assert.equal((await latest('shop')).revision, 2);
      assert.equal((await checks())['acme/shop'], 'not-due');
    } finally {
      await scheduler.close();
      await applier.close();
      await t.close();
    }
  });

  it('lets one of two schedulers act on a due check', async () => {
    let nowMs = Date.parse('2026-03-01T08:00:00Z');
    const t = await buildTestApp({ core: { clock: { now: () => new Date(nowMs) } } });
    const applier = new SpecApplier(t.services.specs);
    applier.start();
    const schedulers = [new SpecScheduler(t.services.specs, silent), new SpecScheduler(t.services.specs, silent)];
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/specs',
        headers: t.admin,
        payload: { meta: { owner: 'acme', dataset: 'shop', schedule: 'every 5m' }, streams: [{ name: 'orders' }] },
      });
      assert.equal(res.statusCode, 201, res.body);
      await applier.idle();
      await t.services.streams.delete('orders');
      nowMs += 6 * MINUTE;
      const outcomes = (await Promise.all(schedulers.map((s) => s.checkAll())))
        .map((found) => found[0]!.check.outcome)
        .sort();
      assert.equal(outcomes.filter((o) => o === 'queued').length, 1, outcomes.join(', '));
      assert.ok(
        outcomes.every((o) => o === 'queued' || o === 'checked-elsewhere' || o === 'not-due'),
        outcomes.join(', '),
      );
      await applier.idle();
      assert.equal((await t.services.specs.get('acme', 'shop', 'latest')).revision, 2);
      assert.ok(await t.services.streams.describe('orders'));
    } finally {
      for (const s of schedulers) await s.close();
      await applier.close();
      await t.close();
    }
  });
});
