/**
 * Specs over a real SQLite store: the specstore dialect (seed 003) and /v1/specs, with the
 * applier running in the background as in `serve`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecApplier } from '../../src/core/specs/spec-applier.js';
import { buildTestApp, type TestApp } from '../support/test-app.js';

interface Ctx {
  t: TestApp;
  applier: SpecApplier;
  /** Auth-Token headers of a key of `owner` that may manage every stream */
  token(owner: string): Promise<Record<string, string>>;
}

async function withSpecs(fn: (c: Ctx) => Promise<void>, planLimit = 0): Promise<void> {
  const t = await buildTestApp({ core: { specPlanLimit: planLimit } });
  const applier = new SpecApplier(t.services.specs);
  applier.start();
  try {
    await fn({
      t,
      applier,
      token: async (owner) => {
        const { secret } = await t.services.keys.create({ owner, scopes: ['manage:*'] });
        return { 'auth-token': secret };
      },
    });
  } finally {
    await applier.close();
    await t.close();
  }
}

const spec = (owner: string, dataset: string, more: Record<string, unknown> = {}) => ({
  meta: { owner, dataset },
  ...more,
});
const orderSchema = { type: 'object', properties: { total: { type: 'number' } }, required: ['total'] };

async function upload(c: Ctx, headers: Record<string, string>, body: unknown) {
  const res = await c.t.app.inject({
    method: 'POST',
    url: '/source/upload',
    headers: { ...headers, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { success: boolean; dataset_id: string | null; flow_id: string | null; errors: string[] };
}

async function revision(c: Ctx, headers: Record<string, string>, path: string) {
  return c.t.app.inject({ method: 'GET', url: `/source/${path}`, headers });
}

async function produce(c: Ctx, stream: string, n: number) {
  const res = await c.t.app.inject({
    method: 'POST',
    url: `/v1/streams/${stream}/events`,
    headers: c.t.admin,
    payload: Array.from({ length: n }, (_, i) => ({ type: 'order.created', data: { total: i } })),
  });
  assert.equal(res.statusCode, 201, res.body);
}

describe('specstore dialect (seed 003)', () => {
  it('upload → revision 1 queued, applied in the background: streams and schemas made real, stats of the dataset', () =>
    withSpecs(async (c) => {
      const alice = await c.token('alice');
      const body = spec('alice', 'shop', {
        streams: [{ name: 'orders', retention: { maxEvents: 1000 } }],
        schemas: [{ stream: 'orders', type: 'order.created', schema: orderSchema }],
      });
      const answer = await upload(c, alice, body);
      assert.deepEqual(answer, { success: true, dataset_id: 'alice/shop', flow_id: 'alice/shop/1', errors: [] });
      await c.applier.idle();
      const res = await revision(c, alice, 'alice/shop/1');
      assert.equal(res.statusCode, 200, res.body);
      const r = res.json();
      assert.deepEqual(
        Object.keys(r).sort(),
        ['error_log', 'id', 'logs', 'modified', 'pipelines', 'spec_contents', 'state', 'stats'].sort(),
      );
      assert.equal(r.id, 'alice/shop/1');
      assert.equal(r.state, 'SUCCEEDED');
      assert.deepEqual(r.spec_contents, body);
      assert.deepEqual(r.error_log, []);
      assert.deepEqual(Object.keys(r.stats).sort(), ['bytes', 'count_of_rows', 'dataset_name', 'hash']);
      assert.equal(r.stats.dataset_name, 'shop');
      assert.match(r.stats.hash, /^[0-9a-f]{64}$/);
      assert.deepEqual(
        Object.entries(r.pipelines).map(([id, p]) => [
          id,
          (p as { title: string; status: string }).title,
          (p as { status: string }).status,
        ]),
        [
          ['alice/shop/1/streams/orders', 'Creating stream orders', 'SUCCEEDED'],
          ['alice/shop/1/schemas/orders/order.created', 'Creating schema orders/order.created', 'SUCCEEDED'],
        ],
      );
      assert.ok(r.logs.some((l: string) => l.includes('created stream "orders"')));
      const stream = (await c.t.app.inject({ method: 'GET', url: '/v1/streams/orders', headers: c.t.admin })).json();
      assert.equal(stream.owner, 'alice');
      assert.equal(stream.retention.maxEvents, 1000);
      // the schema is enforced at ingest now
      const refused = await c.t.app.inject({
        method: 'POST',
        url: '/v1/streams/orders/events',
        headers: c.t.admin,
        payload: { type: 'order.created', data: { total: 'x' } },
      });
      assert.equal(refused.statusCode, 422);

      // revision 2: a changed retention, the same schema; count_of_rows = events in the dataset's streams
      await produce(c, 'orders', 3);
      const second = await upload(
        c,
        alice,
        spec('alice', 'shop', {
          streams: [{ name: 'orders', retention: { maxEvents: 50 } }],
          schemas: [{ stream: 'orders', type: 'order.created', schema: orderSchema }],
        }),
      );
      assert.equal(second.flow_id, 'alice/shop/2');
      await c.applier.idle();
      const r2 = (await revision(c, alice, 'alice/shop/latest')).json();
      assert.equal(r2.id, 'alice/shop/2');
      assert.deepEqual(Object.keys(r2.pipelines), ['alice/shop/2/streams/orders']);
      assert.equal(r2.pipelines['alice/shop/2/streams/orders'].title, 'Updating stream orders');
      assert.equal(r2.stats.count_of_rows, 3);
      assert.ok(r2.stats.bytes > 0);
      assert.equal(
        (await c.t.app.inject({ method: 'GET', url: '/v1/streams/orders', headers: c.t.admin })).json().retention
          .maxEvents,
        50,
      );
    }));

  it('the reference’s refusals: empty body, missing owner, another owner, no token, bad spec, schedule', () =>
    withSpecs(async (c) => {
      const bob = await c.token('bob');
      const empty = await c.t.app.inject({ method: 'POST', url: '/source/upload', headers: bob });
      assert.deepEqual(empty.json(), {
        success: false,
        dataset_id: null,
        flow_id: null,
        errors: ['Received empty contents (make sure your content-type is correct)'],
      });
      const wrongType = await c.t.app.inject({
        method: 'POST',
        url: '/source/upload',
        headers: { ...bob, 'content-type': 'text/plain' },
        payload: 'meta',
      });
      assert.equal(wrongType.statusCode, 200);
      assert.deepEqual(wrongType.json().errors, ['Received empty contents (make sure your content-type is correct)']);
      assert.deepEqual((await upload(c, bob, { meta: { dataset: 'x' } })).errors, ['Missing owner in spec']);
      assert.deepEqual(await upload(c, bob, spec('alice', 'shop')), {
        success: false,
        dataset_id: null,
        flow_id: null,
        errors: ['No token or token not authorised for owner'],
      });
      // without a valid key: 401 (as every Rivulet route), the seed's body
      for (const headers of [{}, { 'auth-token': 'not-a-key' }]) {
        const res = await c.t.app.inject({
          method: 'POST',
          url: '/source/upload',
          headers,
          payload: spec('alice', 'shop'),
        });
        assert.equal(res.statusCode, 401);
        assert.deepEqual(res.json(), {
          success: false,
          dataset_id: null,
          flow_id: null,
          errors: ['No token or token not authorised for owner'],
        });
      }
      const invalid = await upload(c, bob, spec('bob', 'shop', { streams: [{ name: 'a/b' }] }));
      assert.equal(invalid.success, false);
      assert.equal(invalid.errors[0], 'Validation failed for contents');
      assert.match(invalid.errors[1]!, /\/streams\/0\/name/);
      assert.deepEqual(
        (await upload(c, bob, { meta: { owner: 'bob', dataset: 'shop', schedule: 'every 10s' } })).errors,
        ["Can't schedule tasks for less than one minute"],
      );
      assert.deepEqual(
        (await upload(c, bob, spec('bob', 'shop', { pipelines: [] }))).errors[0],
        'Validation failed for contents',
      );
      // nothing was stored by any of them
      assert.equal((await revision(c, c.t.admin, 'bob/shop/latest')).statusCode, 404);
      // an admin key may upload for any owner
      assert.equal((await upload(c, { 'auth-token': c.t.adminKey }, spec('alice', 'shop'))).flow_id, 'alice/shop/1');
      // reading another owner's revision is refused; unknown revisions and words are 404
      assert.equal((await revision(c, bob, 'alice/shop/1')).statusCode, 403);
      for (const path of ['alice/shop/2', 'alice/none/latest', 'alice/shop/newest', 'alice/shop/0']) {
        const res = await revision(c, c.t.admin, path);
        assert.equal(res.statusCode, 404, path);
        assert.ok(Array.isArray(res.json().errors));
      }
    }));

  it('numbering: concurrent uploads take 1..N, each once', () =>
    withSpecs(async (c) => {
      const alice = await c.token('alice');
      const answers = await Promise.all(Array.from({ length: 12 }, () => upload(c, alice, spec('alice', 'busy'))));
      assert.deepEqual(
        answers.map((a) => a.flow_id).sort(),
        Array.from({ length: 12 }, (_, i) => `alice/busy/${i + 1}`).sort(),
      );
      await c.applier.idle();
      assert.equal((await revision(c, alice, 'alice/busy/latest')).json().id, 'alice/busy/12');
    }));

  it('plan limit: counts an owner’s datasets, applies only to new ones', () =>
    withSpecs(async (c) => {
      const alice = await c.token('alice');
      assert.equal((await upload(c, alice, spec('alice', 'one'))).success, true);
      assert.equal((await upload(c, alice, spec('alice', 'two'))).success, true);
      assert.deepEqual(await upload(c, alice, spec('alice', 'three')), {
        success: false,
        dataset_id: null,
        flow_id: null,
        errors: ['Max datasets for user exceeded plan limit (2)'],
      });
      assert.equal((await upload(c, alice, spec('alice', 'one'))).flow_id, 'alice/one/2');
      const bob = await c.token('bob');
      assert.equal((await upload(c, bob, spec('bob', 'three'))).success, true);
      const native = await c.t.app.inject({
        method: 'POST',
        url: '/v1/specs',
        headers: alice,
        payload: spec('alice', 'four'),
      });
      assert.equal(native.statusCode, 403);
      assert.equal(native.json().code, 'PLAN_LIMIT');
    }, 2));

  it('latest vs successful with mixed states; a failed pipeline fails its dependents; /source/update', () =>
    withSpecs(async (c) => {
      const alice = await c.token('alice');
      const v1 = spec('alice', 'shop', {
        streams: [{ name: 'orders' }],
        schemas: [{ stream: 'orders', type: 'order.created', schema: orderSchema }],
        external: [{ id: 'export', title: 'Creating CSV', dependencies: ['schemas/orders/order.created'] }],
      });
      await upload(c, alice, v1);
      await c.applier.idle();
      let latest = (await revision(c, alice, 'alice/shop/latest')).json();
      // Rivulet's pipelines done, the external one still queued: some pending, some finished
      assert.equal(latest.state, 'INPROGRESS');
      assert.equal(latest.pipelines['alice/shop/1/external/export'].status, 'QUEUED');
      assert.equal((await revision(c, alice, 'alice/shop/successful')).statusCode, 404);

      const update = async (body: unknown, headers = alice) =>
        (await c.t.app.inject({ method: 'POST', url: '/source/update', headers, payload: body as object })).json();
      assert.deepEqual(await update({ pipeline: 'alice/shop/1/external/export', event: 'start' }), {
        success: 'pending',
        id: 'alice/shop/1',
        errors: [],
      });
      assert.equal(
        (await revision(c, alice, 'alice/shop/1')).json().pipelines['alice/shop/1/external/export'].status,
        'INPROGRESS',
      );
      assert.deepEqual(await update({ pipeline: 'alice/shop/9/external/export', event: 'start' }), {
        success: 'fail',
        id: null,
        errors: ['pipeline not found'],
      });
      assert.deepEqual(
        await update(
          { pipeline: 'alice/shop/1/external/export', event: 'finish', success: true },
          await c.token('bob'),
        ),
        { success: 'fail', id: null, errors: ['No token or token not authorised for owner'] },
      );
      assert.match(
        (await update({ pipeline: 'alice/shop/1/streams/orders', event: 'finish', success: true })).errors[0],
        /run by Rivulet/,
      );
      assert.deepEqual(
        await update({
          pipeline: 'alice/shop/1/external/export',
          event: 'finish',
          success: true,
          log: ['42 rows'],
          stats: { rows: 42 },
        }),
        { success: 'success', id: 'alice/shop/1', errors: [] },
      );
      latest = (await revision(c, alice, 'alice/shop/1')).json();
      assert.equal(latest.state, 'SUCCEEDED');
      assert.deepEqual(latest.pipelines['alice/shop/1/external/export'].stats, { rows: 42 });
      assert.ok(latest.logs.some((l: string) => l.endsWith('alice/shop/1/external/export: 42 rows')));

      // revision 2: an incompatible schema change fails its pipeline, and the external one that needs it
      const v2 = {
        ...v1,
        schemas: [
          { stream: 'orders', type: 'order.created', schema: { ...orderSchema, required: ['total', 'currency'] } },
        ],
      };
      await upload(c, alice, v2);
      await c.applier.idle();
      const failed = (await revision(c, alice, 'alice/shop/latest')).json();
      assert.equal(failed.id, 'alice/shop/2');
      assert.equal(failed.state, 'FAILED');
      const schemaPipeline = failed.pipelines['alice/shop/2/schemas/orders/order.created'];
      assert.equal(schemaPipeline.status, 'FAILED');
      assert.match(schemaPipeline.error_log[0], /BACKWARD/);
      assert.deepEqual(failed.pipelines['alice/shop/2/external/export'], {
        title: 'Creating CSV',
        status: 'FAILED',
        stats: null,
        error_log: [
          'Dependency unsuccessful. Cannot run until dependency "alice/shop/2/schemas/orders/order.created" is successfully executed',
        ],
      });
      assert.equal(failed.error_log.length, 2);
      assert.equal((await revision(c, alice, 'alice/shop/successful')).json().id, 'alice/shop/1');

      // revision 3: nothing for Rivulet to change, only the external pipeline, pending → QUEUED; successful stays
      await upload(c, alice, v1);
      await c.applier.idle();
      const third = (await revision(c, alice, 'alice/shop/latest')).json();
      assert.deepEqual(Object.keys(third.pipelines), ['alice/shop/3/external/export']);
      assert.equal(third.state, 'QUEUED');
      assert.equal((await revision(c, alice, 'alice/shop/successful')).json().id, 'alice/shop/1');
    }));

  it('a Flow-Spec (inputs, processing, outputs) is kept verbatim; each output is a pipeline its runner drives through /source/update', () =>
    withSpecs(async (c) => {
      const alice = await c.token('alice');
      const flow = {
        meta: { owner: 'alice', ownerid: 'u-7f3a', dataset: 'gdp', version: 1, findability: 'published' },
        inputs: [
          {
            kind: 'datapackage',
            url: 'https://pkgstore.example.com/alice/gdp/datapackage.json',
            parameters: { 'resource-mapping': { gdp: 'https://data.example.com/gdp.csv' } },
          },
        ],
        processing: [{ input: 'gdp', tabulator: { headers: 2 }, output: 'gdp', schema: { primaryKey: ['year'] } }],
        outputs: [{ kind: 'csv' }, { kind: 'json' }, { kind: 'zip', parameters: { 'out-file': 'gdp.zip' } }],
      };
      assert.deepEqual(await upload(c, alice, flow), {
        success: true,
        dataset_id: 'alice/gdp',
        flow_id: 'alice/gdp/1',
        errors: [],
      });
      await c.applier.idle();
      const ids = ['alice/gdp/1/outputs/csv', 'alice/gdp/1/outputs/json', 'alice/gdp/1/outputs/zip'];
      let r = (await revision(c, alice, 'alice/gdp/latest')).json();
      assert.deepEqual(r.spec_contents, flow);
      assert.equal(r.state, 'QUEUED');
      assert.deepEqual(Object.keys(r.pipelines), ids);
      assert.deepEqual(
        Object.values(r.pipelines).map((p) => (p as { title: string }).title),
        ['Creating CSV', 'Creating JSON', 'Creating ZIP'],
      );
      assert.deepEqual(r.pipelines[ids[0]!], { title: 'Creating CSV', status: 'QUEUED', stats: null, error_log: [] });

      const update = async (body: object) =>
        (await c.t.app.inject({ method: 'POST', url: '/source/update', headers: alice, payload: body })).json();
      const states = async () => {
        const doc = (await revision(c, alice, 'alice/gdp/1')).json();
        return [doc.state, ...ids.map((id) => doc.pipelines[id].status)];
      };
      assert.deepEqual(await update({ pipeline: ids[0], event: 'start' }), {
        success: 'pending',
        id: 'alice/gdp/1',
        errors: [],
      });
      assert.deepEqual(await states(), ['INPROGRESS', 'INPROGRESS', 'QUEUED', 'QUEUED']);
      await update({ pipeline: ids[0], event: 'finish', success: true, stats: { count_of_rows: 40 } });
      assert.deepEqual(await states(), ['INPROGRESS', 'SUCCEEDED', 'QUEUED', 'QUEUED']);
      await update({ pipeline: ids[1], event: 'queue' });
      await update({ pipeline: ids[1], event: 'finish', success: true });
      await update({ pipeline: ids[2], event: 'progress', log: ['zipped 2 files'] });
      assert.equal((await revision(c, alice, 'alice/gdp/successful')).statusCode, 404);
      assert.deepEqual(await update({ pipeline: ids[2], event: 'finish', success: true }), {
        success: 'success',
        id: 'alice/gdp/1',
        errors: [],
      });
      assert.deepEqual(await states(), ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      r = (await revision(c, alice, 'alice/gdp/successful')).json();
      assert.equal(r.id, 'alice/gdp/1');
      assert.equal(r.stats.dataset_name, 'gdp');
      assert.match(r.stats.hash, /^[0-9a-f]{64}$/);
      assert.deepEqual(r.pipelines[ids[0]!].stats, { count_of_rows: 40 });
      assert.ok(r.logs.some((l: string) => l.endsWith('alice/gdp/1/outputs/zip: zipped 2 files')));

      // revision 2: Rivulet's own sections beside the Flow-Spec's; a failed output fails the revision
      const both = {
        ...flow,
        inputs: [{ kind: 'datapackage', url: 'https://alice:hunter2@pkgstore.example.com/gdp/datapackage.json' }],
        outputs: [{ kind: 'csv' }, { kind: 'csv', parameters: { delimiter: ';' } }],
        streams: [{ name: 'gdp-events' }],
      };
      assert.equal((await upload(c, alice, both)).flow_id, 'alice/gdp/2');
      await c.applier.idle();
      r = (await revision(c, alice, 'alice/gdp/2')).json();
      assert.deepEqual(Object.keys(r.pipelines), [
        'alice/gdp/2/streams/gdp-events',
        'alice/gdp/2/outputs/csv',
        'alice/gdp/2/outputs/csv-2',
      ]);
      assert.equal(r.pipelines['alice/gdp/2/streams/gdp-events'].status, 'SUCCEEDED');
      assert.equal(r.state, 'INPROGRESS');
      // a password in an input's URL is not answered; the rest is as uploaded
      assert.equal(r.spec_contents.inputs[0].url, 'https://alice:[redacted]@pkgstore.example.com/gdp/datapackage.json');
      assert.ok(!JSON.stringify(r).includes('hunter2'));
      assert.deepEqual({ ...r.spec_contents, inputs: both.inputs }, both);
      assert.equal(
        (await c.t.app.inject({ method: 'GET', url: '/v1/streams/gdp-events', headers: c.t.admin })).statusCode,
        200,
      );
      await update({ pipeline: 'alice/gdp/2/outputs/csv', event: 'finish', success: true });
      assert.deepEqual(
        await update({
          pipeline: 'alice/gdp/2/outputs/csv-2',
          event: 'finish',
          success: false,
          errors: ['bad delimiter'],
        }),
        { success: 'fail', id: 'alice/gdp/2', errors: ['bad delimiter'] },
      );
      r = (await revision(c, alice, 'alice/gdp/latest')).json();
      assert.equal(r.state, 'FAILED');
      assert.deepEqual(r.pipelines['alice/gdp/2/outputs/csv-2'].error_log, ['bad delimiter']);
      assert.deepEqual(r.error_log, ['bad delimiter']);
      assert.equal((await revision(c, alice, 'alice/gdp/successful')).json().id, 'alice/gdp/1');

      // a Flow-Spec that does not hold together: the seed's sentence, then the field at fault
      for (const [bad, field] of [
        [{ ...flow, outputs: [{ kind: 'csv' }, { kind: 5 }] }, '/outputs/1/kind'],
        [{ ...flow, outputs: [{ kind: 'csv', format: 'tsv' }] }, '/outputs/0/format'],
        [{ ...flow, inputs: { kind: 'datapackage' } }, '/inputs'],
        [{ ...flow, inputs: [{ kind: 'datapackage', parameters: [] }] }, '/inputs/0/parameters'],
        [{ ...flow, processing: ['tabulate'] }, '/processing/0'],
      ] as const) {
        const answer = await upload(c, alice, bad);
        assert.equal(answer.success, false, field);
        assert.equal(answer.errors[0], 'Validation failed for contents');
        assert.ok(answer.errors[1]!.startsWith(`${field}:`), `${field}: ${answer.errors[1]}`);
      }
      assert.equal((await revision(c, alice, 'alice/gdp/latest')).json().id, 'alice/gdp/2');
    }));

  it('a stream failing (another owner’s) fails the schema and the external pipeline depending on it, transitively', () =>
    withSpecs(async (c) => {
      const bob = await c.token('bob');
      assert.equal(
        (
          await c.t.app.inject({
            method: 'POST',
            url: '/v1/streams',
            headers: { authorization: `Bearer ${bob['auth-token']}` },
            payload: { name: 'shared' },
          })
        ).statusCode,
        201,
      );
      await produce(c, 'shared', 2);
      const alice = await c.token('alice');
      await upload(
        c,
        alice,
        spec('alice', 'grab', {
          streams: [{ name: 'shared', description: 'mine now' }, { name: 'own' }],
          schemas: [{ stream: 'shared', type: 't', schema: { type: 'object' } }],
          external: [
            { id: 'a', dependencies: ['schemas/shared/t'] },
            { id: 'b', dependencies: ['external/a'] },
          ],
        }),
      );
      await c.applier.idle();
      const r = (await revision(c, alice, 'alice/grab/1')).json();
      assert.equal(r.state, 'FAILED');
      const status = Object.fromEntries(
        Object.entries(r.pipelines).map(([id, p]) => [id, (p as { status: string }).status]),
      );
      assert.deepEqual(status, {
        'alice/grab/1/streams/shared': 'FAILED',
        'alice/grab/1/streams/own': 'SUCCEEDED',
        'alice/grab/1/schemas/shared/t': 'FAILED',
        'alice/grab/1/external/a': 'FAILED',
        'alice/grab/1/external/b': 'FAILED',
      });
      assert.match(r.pipelines['alice/grab/1/streams/shared'].error_log[0], /belongs to owner "bob"/);
      assert.match(r.pipelines['alice/grab/1/external/b'].error_log[0], /dependency "alice\/grab\/1\/external\/a"/);
      // bob's stream is untouched
      const shared = (await c.t.app.inject({ method: 'GET', url: '/v1/streams/shared', headers: c.t.admin })).json();
      assert.equal(shared.description, '');
      assert.equal(shared.stats.count, 2);
    }));
});

describe('/v1/specs: plan, apply, re-apply, prune', () => {
  it('dry run shows the plan and changes nothing; apply is idempotent; prune deletes only when asked', () =>
    withSpecs(async (c) => {
      const alice = await c.token('alice');
      const auth = { authorization: `Bearer ${alice['auth-token']}` };
      const full = spec('alice', 'shop', {
        streams: [{ name: 'orders' }, { name: 'returns', retention: { maxAgeMs: 60_000 } }],
        schemas: [{ stream: 'orders', type: 'order.created', schema: orderSchema }],
      });
      const plan = await c.t.app.inject({ method: 'POST', url: '/v1/specs/plan', headers: auth, payload: full });
      assert.equal(plan.statusCode, 200, plan.body);
      assert.deepEqual(
        plan.json().changes.map((ch: { action: string; ref: string }) => `${ch.action} ${ch.ref}`),
        ['create streams/orders', 'create streams/returns', 'create schemas/orders/order.created'],
      );
      assert.deepEqual(plan.json().changes[2].after, ['streams/orders']);
      assert.equal(
        (await c.t.app.inject({ method: 'GET', url: '/v1/streams/orders', headers: c.t.admin })).statusCode,
        404,
      );
      assert.equal(
        (await c.t.app.inject({ method: 'GET', url: '/v1/specs/alice/shop/revisions/latest', headers: auth }))
          .statusCode,
        404,
      );

      const applied = await c.t.app.inject({ method: 'POST', url: '/v1/specs', headers: auth, payload: full });
      assert.equal(applied.statusCode, 201, applied.body);
      assert.equal(applied.headers.location, '/v1/specs/alice/shop/revisions/1');
      assert.equal(applied.json().state, 'QUEUED');
      await c.applier.idle();
      await produce(c, 'orders', 5);

      // re-applying the same spec: nothing to do, the events stay
      const again = await c.t.app.inject({ method: 'POST', url: '/v1/specs/plan', headers: auth, payload: full });
      assert.deepEqual(again.json().changes, []);
      assert.deepEqual(again.json().unchanged, ['streams/orders', 'streams/returns', 'schemas/orders/order.created']);
      await c.t.app.inject({ method: 'POST', url: '/v1/specs', headers: auth, payload: full });
      await c.applier.idle();
      const r2 = (
        await c.t.app.inject({ method: 'GET', url: '/v1/specs/alice/shop/revisions/2', headers: auth })
      ).json();
      assert.equal(r2.state, 'SUCCEEDED');
      assert.deepEqual(r2.pipelines, []);
      assert.equal(r2.stats.countOfRows, 5);

      // remove "returns", change "orders": without prune "returns" is kept as an orphan
      const smaller = spec('alice', 'shop', {
        streams: [{ name: 'orders', description: 'web shop' }],
        schemas: [{ stream: 'orders', type: 'order.created', schema: orderSchema }],
      });
      const kept = (
        await c.t.app.inject({ method: 'POST', url: '/v1/specs/plan', headers: auth, payload: smaller })
      ).json();
      assert.deepEqual(
        kept.changes.map((ch: { action: string; ref: string }) => `${ch.action} ${ch.ref}`),
        ['update streams/orders'],
      );
      assert.deepEqual(kept.changes[0].changes, [{ path: '/description', from: '', to: 'web shop' }]);
      assert.deepEqual(kept.orphans, ['streams/returns']);
      await c.t.app.inject({ method: 'POST', url: '/v1/specs', headers: auth, payload: smaller });
      await c.applier.idle();
      assert.equal(
        (await c.t.app.inject({ method: 'GET', url: '/v1/streams/returns', headers: c.t.admin })).statusCode,
        200,
      );
      const orders = (await c.t.app.inject({ method: 'GET', url: '/v1/streams/orders', headers: c.t.admin })).json();
      assert.equal(orders.description, 'web shop');
      assert.equal(orders.stats.count, 5, 'an update keeps the stream and its events');

      // with prune: the plan says delete, and applying deletes
      const pruned = (
        await c.t.app.inject({ method: 'POST', url: '/v1/specs/plan?prune=true', headers: auth, payload: smaller })
      ).json();
      assert.deepEqual(
        pruned.changes.map((ch: { action: string; ref: string }) => `${ch.action} ${ch.ref}`),
        ['delete streams/returns'],
      );
      const r4 = await c.t.app.inject({ method: 'POST', url: '/v1/specs?prune=true', headers: auth, payload: smaller });
      assert.equal(r4.json().revision, 4);
      await c.applier.idle();
      assert.equal(
        (await c.t.app.inject({ method: 'GET', url: '/v1/streams/returns', headers: c.t.admin })).statusCode,
        404,
      );
      assert.equal(
        (await c.t.app.inject({ method: 'GET', url: '/v1/specs/alice/shop/revisions/4', headers: auth })).json().state,
        'SUCCEEDED',
      );

      // roll back to revision 1 (prune not needed: it only adds) and list
      const back = await c.t.app.inject({
        method: 'POST',
        url: '/v1/specs/alice/shop/revisions/1/apply',
        headers: auth,
      });
      assert.equal(back.statusCode, 201);
      await c.applier.idle();
      assert.equal(
        (await c.t.app.inject({ method: 'GET', url: '/v1/streams/returns', headers: c.t.admin })).statusCode,
        200,
      );
      const list = (
        await c.t.app.inject({ method: 'GET', url: '/v1/specs/alice/shop/revisions', headers: auth })
      ).json();
      assert.deepEqual(
        list.revisions.map((r: { revision: number; state: string }) => `${r.revision} ${r.state}`),
        ['1 SUCCEEDED', '2 SUCCEEDED', '3 SUCCEEDED', '4 SUCCEEDED', '5 SUCCEEDED'],
      );
      const datasets = (await c.t.app.inject({ method: 'GET', url: '/v1/specs', headers: auth })).json().datasets;
      assert.deepEqual(
        datasets.map((d: { owner: string; dataset: string; latest: number }) => `${d.owner}/${d.dataset} ${d.latest}`),
        ['alice/shop 5'],
      );
    }));

  it('problem+json refusals; YAML bodies; a dataset cannot take another dataset’s stream', () =>
    withSpecs(async (c) => {
      const alice = await c.token('alice');
      const auth = { authorization: `Bearer ${alice['auth-token']}` };
      const other = await c.t.app.inject({
        method: 'POST',
        url: '/v1/specs',
        headers: auth,
        payload: spec('bob', 'x'),
      });
      assert.equal(other.statusCode, 403);
      assert.match(String(other.headers['content-type']), /^application\/problem\+json/);
      assert.equal(other.json().code, 'FORBIDDEN');
      const bad = await c.t.app.inject({
        method: 'POST',
        url: '/v1/specs',
        headers: auth,
        payload: spec('alice', 'x', { streams: [{ name: 'a', retention: { maxEvents: -1 } }] }),
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'SPEC_INVALID');
      assert.equal(bad.json().pointer, '/streams/0/retention/maxEvents');
      const narrow = await c.t.app.inject({
        method: 'POST',
        url: '/v1/specs',
        headers: await c.t.keyWith(['manage:mine.*'], 'alice'),
        payload: spec('alice', 'x', { streams: [{ name: 'theirs' }] }),
      });
      assert.equal(narrow.statusCode, 403);
      assert.equal(narrow.json().needs, 'manage:theirs');

      const yaml = 'meta:\n  owner: alice\n  dataset: a\nstreams:\n  - name: first\n';
      const fromYaml = await c.t.app.inject({
        method: 'POST',
        url: '/v1/specs',
        headers: { ...auth, 'content-type': 'application/yaml' },
        payload: yaml,
      });
      assert.equal(fromYaml.statusCode, 201, fromYaml.body);
      await c.applier.idle();
      const badYaml = await c.t.app.inject({
        method: 'POST',
        url: '/v1/specs',
        headers: { ...auth, 'content-type': 'application/yaml' },
        payload: 'meta: [',
      });
      assert.equal(badYaml.statusCode, 400);
      assert.equal(badYaml.json().code, 'SPEC_INVALID');

      // dataset b declares the stream dataset a manages: its pipeline fails, the stream stays a's
      await c.t.app.inject({
        method: 'POST',
        url: '/v1/specs',
        headers: auth,
        payload: spec('alice', 'b', { streams: [{ name: 'first', description: 'b' }] }),
      });
      await c.applier.idle();
      const b = (
        await c.t.app.inject({ method: 'GET', url: '/v1/specs/alice/b/revisions/latest', headers: auth })
      ).json();
      assert.equal(b.state, 'FAILED');
      assert.match(b.pipelines[0].errors[0], /managed by dataset alice\/a/);
    }));
});
