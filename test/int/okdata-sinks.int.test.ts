/**
 * okdata's sinks (seed 000) and its processing step, with the delivery engine running:
 * - the seed's sink curl commands, run by the real curl binary (verbatim apart from host,
 *   token and the {dataset-id}/{version}/{sink_type} placeholders);
 * - an s3 sink enabled through this API writing real objects to a local S3-protocol server
 *   (s3rver, free port, temp dir), read back with the AWS SDK;
 * - an elasticsearch sink against test/support/bulk-endpoint.ts, a protocol-level DOUBLE of a
 *   node's _bulk API (no OpenSearch/Elasticsearch cluster can run here);
 * - the lifecycle and conflict rules with okdata's exact messages;
 * - the processing step: identity, a filter and transform, and events posted before it ran.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import S3rver from 's3rver';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { OkdataSinkOptions } from '../../src/dialects/okdata/okdata-sinks.js';
import { startBulkEndpoint } from '../support/bulk-endpoint.js';
import {
  FAST_POLICY,
  call,
  curl,
  expect,
  statusBecomes,
  until,
  withApp,
  type Listening,
} from '../support/okdata-app.js';
import { tempDir, track } from '../support/resources.js';

const BUCKET = 'okdata-lake';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

async function startS3(): Promise<{ endpoint: string; client: S3Client; close: () => Promise<void> }> {
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: tempDir('rivulet-s3'),
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = await server.run();
  let closed = false;
  track('s3rver', server, () => closed);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { ...CREDENTIALS },
    maxAttempts: 1,
  });
  return {
    endpoint,
    client,
    close: async () => {
      if (closed) return;
      closed = true;
      client.destroy();
      await server.close();
    },
  };
}

function s3Settings(endpoint: string, bucket = BUCKET): Partial<OkdataSinkOptions> {
  return {
    targets: { s3: { bucket, region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { ...CREDENTIALS } } },
    policies: {
      s3: { ...FAST_POLICY, batch: { maxAgeMs: 100 } },
      elasticsearch: { ...FAST_POLICY, batch: { maxAgeMs: 50 } },
    },
  };
}

/** every NDJSON line of every object under a prefix */
async function objects(
  client: S3Client,
  prefix: string,
): Promise<{ keys: string[]; lines: Record<string, unknown>[] }> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
  const lines: Record<string, unknown>[] = [];
  for (const key of keys) {
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const text = await got.Body!.transformToString();
    for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  }
  return { keys, lines };
}

const seq = (s: string) => s.replaceAll('{dataset-id}', 'renovasjonsbiler-status').replaceAll('{version}', '1');

async function configVersion(t: Listening, stream: string): Promise<number> {
  const res = await t.app.inject({ method: 'GET', url: `/v1/streams/${stream}`, headers: t.admin });
  return res.json().options.okdata.configVersion;
}

describe('okdata sinks (seed 000): the seed curl commands', () => {
  it('enables an s3 sink that writes real objects, lists it, reads it, and disables it', async () => {
    const s3 = await startS3();
    try {
      await withApp(
        async (t) => {
          const create = await curl(
            t,
            seq(
              `curl -H "Authorization: bearer $TOKEN" -H "Content-Type: application/json" --data '{}' -XPOST http://127.0.0.1:8080/{dataset-id}/{version}`,
            ),
          );
          expect(create, 201);
          await statusBecomes(t, '/renovasjonsbiler-status/1', 'ACTIVE');

          const enable = await curl(
            t,
            seq(
              `curl -H "Authorization: bearer $TOKEN" -H "Content-Type: application/json" --data '{"type":"s3"}' -XPOST http://127.0.0.1:8080/{dataset-id}/{version}/sinks`,
            ),
          );
          expect(enable, 201);
          const enabled = enable.body as Record<string, unknown>;
          assert.deepEqual(Object.keys(enabled).sort(), ['status', 'type', 'updated_at', 'updated_by']);
          assert.deepEqual([enabled.type, enabled.updated_by], ['s3', 'admin']);
          assert.ok(['CREATE_IN_PROGRESS', 'ACTIVE'].includes(String(enabled.status)), String(enabled.status));
          assert.ok(!Number.isNaN(Date.parse(String(enabled.updated_at))));

          const single = seq(
            `curl -H "Authorization: bearer $TOKEN" -XGET http://127.0.0.1:8080/{dataset-id}/{version}/sinks/{sink_type}`,
          ).replaceAll('{sink_type}', 's3');
          const active = await until('the s3 sink to be ACTIVE', async () => {
            const res = await curl(t, single);
            return res.status === 200 && (res.body as { status: string }).status === 'ACTIVE' ? res : undefined;
          });
          assert.equal((active.body as Record<string, unknown>).type, 's3');

          const all = await curl(
            t,
            seq(`curl -H "Authorization: bearer $TOKEN" -XGET http://127.0.0.1:8080/{dataset-id}/{version}/sinks`),
          );
          expect(all, 200, [active.body]);

          // events posted to the stream go raw → processed → s3
          const posted = [
            { timestamp: '2020-10-18T08:00:00Z', bil: 'A', fyllingsgrad: 0.4 },
            { timestamp: '2020-10-18T09:00:00Z', bil: 'B', fyllingsgrad: 0.9 },
          ];
          expect(await call(t, 'POST', '/renovasjonsbiler-status/1/events', { body: posted }), 200, null);
          const prefix = 'processed/red/renovasjonsbiler-status/version=1/';
          const written = await until('objects in the bucket', async () => {
            const found = await objects(s3.client, prefix);
            return found.lines.length === 2 ? found : undefined;
          });
          assert.deepEqual(
            written.lines.map((l) => l.data),
            posted,
          );
          assert.deepEqual(
            written.lines.map((l) => l.stream),
            ['okdata.renovasjonsbiler-status.processed.1', 'okdata.renovasjonsbiler-status.processed.1'],
          );
          for (const key of written.keys)
            assert.match(
              key,
              /^processed\/red\/renovasjonsbiler-status\/version=1\/okdata\.renovasjonsbiler-status\.processed\.1\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d+-\d+\.ndjson$/,
            );

          const disable = await curl(
            t,
            seq(
              `curl -H "Authorization: bearer $TOKEN" -H "Content-Type: application/json" -XDELETE http://127.0.0.1:8080/{dataset-id}/{version}/sinks/{sink_type}`,
            ).replaceAll('{sink_type}', 's3'),
          );
          expect(disable, 200, { message: 'Disabled sink of type s3 for stream renovasjonsbiler-status/1' });
          expect(
            await curl(
              t,
              seq(`curl -H "Authorization: bearer $TOKEN" -XGET http://127.0.0.1:8080/{dataset-id}/{version}/sinks`),
            ),
            200,
            [],
          );
          expect(await curl(t, single), 404, {
            message: 'Sink of type s3 does not exist on renovasjonsbiler-status/1',
          });
          // the Rivulet sink is gone with its consumer
          assert.equal(
            (
              await t.app.inject({
                method: 'GET',
                url: '/v1/sinks/okdata_renovasjonsbiler-status_1_s3',
                headers: t.admin,
              })
            ).statusCode,
            404,
          );
        },
        { okdata: s3Settings(s3.endpoint) },
      );
    } finally {
      await s3.close();
    }
  });
});

describe('okdata sinks: lifecycle and conflicts', () => {
  it("answers okdata's 404, 400, 409 and 422, and follows the real sink state", async () => {
    const s3 = await startS3();
    try {
      // the engine is not started: the sink stays CREATE_IN_PROGRESS until it is
      await withApp(
        async (t) => {
          const P = 'okdata.parkering-data.processed.1';
          expect(await call(t, 'POST', '/parkering-data/1/sinks', { body: { type: 's3' } }), 404, {
            message: 'Event stream parkering-data/1 does not exist',
          });
          expect(await call(t, 'GET', '/parkering-data/1/sinks'), 404, {
            message: 'Event stream with id parkering-data/1 does not exist',
          });
          expect(await call(t, 'GET', '/parkering-data/1/sinks/s3'), 404, {
            message: 'Event stream with id parkering-data/1 does not exist',
          });
          expect(await call(t, 'DELETE', '/parkering-data/1/sinks/s3'), 404, {
            message: 'Event stream with id parkering-data/1 does not exist',
          });

          // without a raw stream there is no processing step: ACTIVE at once
          const created = await call(t, 'POST', '/parkering-data/1', { body: { create_raw: false } });
          expect(created, 201);
          assert.equal((created.body as Record<string, unknown>).status, 'ACTIVE');
          expect(await call(t, 'GET', '/parkering-data/1/sinks'), 200, []);
          expect(await call(t, 'POST', '/parkering-data/1/sinks', { body: { type: 'kafka' } }), 400, {
            message: 'Invalid sink type: kafka',
          });
          expect(await call(t, 'GET', '/parkering-data/1/sinks/kafka'), 400, { message: 'Invalid sink type: kafka' });
          expect(await call(t, 'DELETE', '/parkering-data/1/sinks/kafka'), 400, {
            message: 'Invalid sink type: kafka',
          });
          expect(await call(t, 'GET', '/parkering-data/1/sinks/s3'), 404, {
            message: 'Sink of type s3 does not exist on parkering-data/1',
          });
          expect(await call(t, 'DELETE', '/parkering-data/1/sinks/s3'), 404, {
            message: 'Sink of type s3 does not exist on parkering-data/1',
          });
          // a number is read as its text, as okdata's framework did
          expect(await call(t, 'POST', '/parkering-data/1/sinks', { body: { type: 5 } }), 400, {
            message: 'Invalid sink type: 5',
          });
          for (const bad of [{ body: {} }, { body: { type: null } }, { body: [] }, { raw: '{"type":' }]) {
            const res = await call(t, 'POST', '/parkering-data/1/sinks', bad);
            expect(res, 422);
            assert.equal(typeof (res.body as { message: unknown }).message, 'string');
          }
          // a type the server has no configuration for
          expect(await call(t, 'POST', '/parkering-data/1/sinks', { body: { type: 'elasticsearch' } }), 400, {
            message: 'Sink type elasticsearch is not available on this server',
          });
          // okdata:dataset:update is manage on the processed stream
          const reader = await t.keyWith(['consume:okdata.parkering-data.processed.*']);
          expect(await call(t, 'POST', '/parkering-data/1/sinks', { body: { type: 's3' }, headers: reader }), 403, {
            message: 'Forbidden',
          });
          expect(await call(t, 'GET', '/parkering-data/1/sinks', { headers: reader }), 403, { message: 'Forbidden' });
          assert.equal(await configVersion(t, P), 1);

          const enabled = await call(t, 'POST', '/streams/parkering-data/1/sinks', { body: { type: 's3' } });
          expect(enabled, 201);
          assert.equal((enabled.body as Record<string, unknown>).status, 'CREATE_IN_PROGRESS');
          assert.equal(await configVersion(t, P), 2, "enabling a sink changes the stream's configuration");
          expect(await call(t, 'POST', '/parkering-data/1/sinks', { body: { type: 's3' } }), 409, {
            message: 'Sink: s3 already exists on parkering-data/1',
          });
          expect(await call(t, 'DELETE', '/parkering-data/1/sinks/s3'), 409, {
            message: 'Sink of type s3 cannot be disabled since it is being constructed',
          });
          expect(await call(t, 'DELETE', '/parkering-data/1'), 409, {
            message:
              'Event stream with id parkering-data/1 contains sub-resources. Delete all related event-sinks and disable event subscription',
          });

          // a process picks it up: ACTIVE
          t.engine.start();
          await statusBecomes(t, '/parkering-data/1/sinks/s3', 'ACTIVE');
          // secrets are in no answer, okdata's or the native API's
          const native = await t.app.inject({
            method: 'GET',
            url: '/v1/sinks/okdata_parkering-data_1_s3',
            headers: t.admin,
          });
          assert.equal(native.statusCode, 200);
          assert.equal(native.json().target.credentials.secretAccessKey, '[redacted]');
          assert.equal(native.json().deadLetterStream, 'okdata.parkering-data.failed.1');

          // paused through /v1: INACTIVE, still listed, and no longer in the way of deleting the stream
          assert.equal(
            (
              await t.app.inject({
                method: 'POST',
                url: '/v1/sinks/okdata_parkering-data_1_s3/pause',
                headers: t.admin,
              })
            ).statusCode,
            200,
          );
          const paused = await call(t, 'GET', '/parkering-data/1/sinks');
          expect(paused, 200);
          assert.deepEqual(
            (paused.body as { type: string; status: string }[]).map((s) => [s.type, s.status]),
            [['s3', 'INACTIVE']],
          );
          expect(await call(t, 'DELETE', '/parkering-data/1'), 200, {
            message: 'Deleted event stream with id parkering-data/1',
          });
          assert.equal(
            (await t.app.inject({ method: 'GET', url: '/v1/sinks/okdata_parkering-data_1_s3', headers: t.admin }))
              .statusCode,
            404,
            'removed with the stream',
          );
          expect(await call(t, 'GET', '/parkering-data/1/sinks'), 404, {
            message: 'Event stream with id parkering-data/1 does not exist',
          });
        },
        { okdata: s3Settings(s3.endpoint), engine: false },
      );
    } finally {
      await s3.close();
    }
  });

  it('hides a sink being deleted, refuses to re-create it meanwhile, and finishes an interrupted deletion', async () => {
    const s3 = await startS3();
    try {
      await withApp(
        async (t) => {
          expect(await call(t, 'POST', '/sensor-data/1', { body: { create_raw: false } }), 201);
          expect(await call(t, 'POST', '/sensor-data/1/sinks', { body: { type: 's3' } }), 201);
          await statusBecomes(t, '/sensor-data/1/sinks/s3', 'ACTIVE');
          // a deletion cut short after it was marked (as a crash would leave it)
          await t.services.sinks.mutate('okdata_sensor-data_1_s3', (sink) => ({
            ...sink,
            state: 'paused',
            labels: { okdata: { ...(sink.labels.okdata as Record<string, string>), deleting: true } },
          }));
          expect(await call(t, 'GET', '/sensor-data/1/sinks'), 200, []);
          expect(await call(t, 'GET', '/sensor-data/1/sinks/s3'), 404, {
            message: 'Sink of type s3 does not exist on sensor-data/1',
          });
          expect(await call(t, 'POST', '/sensor-data/1/sinks', { body: { type: 's3' } }), 409, {
            message: 'Cannot create sink since a sink of type s3 currently is being deleted',
          });
          expect(await call(t, 'DELETE', '/sensor-data/1/sinks/s3'), 404, {
            message: 'Sink of type s3 does not exist on sensor-data/1',
          });
          assert.equal(
            (await t.app.inject({ method: 'GET', url: '/v1/sinks/okdata_sensor-data_1_s3', headers: t.admin }))
              .statusCode,
            404,
            'the deletion was finished',
          );
          expect(await call(t, 'POST', '/sensor-data/1/sinks', { body: { type: 's3' } }), 201);
        },
        { okdata: s3Settings(s3.endpoint) },
      );
    } finally {
      await s3.close();
    }
  });

  it('reports OPERATION_FAILED when the bucket refuses, keeps the failed events, and can still be disabled', async () => {
    const s3 = await startS3();
    try {
      await withApp(
        async (t) => {
          expect(await call(t, 'POST', '/feilet/1', { body: {} }), 201);
          await statusBecomes(t, '/feilet/1', 'ACTIVE');
          expect(await call(t, 'POST', '/feilet/1/sinks', { body: { type: 's3' } }), 201);
          await statusBecomes(t, '/feilet/1/sinks/s3', 'ACTIVE');
          expect(
            await call(t, 'POST', '/feilet/1/events', { body: [{ timestamp: '2021-03-01T00:00:00Z', n: 1 }] }),
            200,
            null,
          );
          await statusBecomes(t, '/feilet/1/sinks/s3', 'OPERATION_FAILED');
          const failed = await until('the event in the failed stream', async () => {
            const res = await t.app.inject({
              method: 'GET',
              url: '/v1/streams/okdata.feilet.failed.1/events',
              headers: t.admin,
            });
            const events =
              res.statusCode === 200
                ? (res.json().events as { data: unknown; meta: { deadLetter: { sink: string; error: string } } }[])
                : [];
            return events.length === 1 ? events[0] : undefined;
          });
          assert.deepEqual(failed.data, { timestamp: '2021-03-01T00:00:00Z', n: 1 });
          assert.equal(failed.meta.deadLetter.sink, 'okdata_feilet_1_s3');
          assert.match(failed.meta.deadLetter.error, /NoSuchBucket/);
          expect(await call(t, 'DELETE', '/feilet/1/sinks/s3'), 200, {
            message: 'Disabled sink of type s3 for stream feilet/1',
          });
          expect(await call(t, 'DELETE', '/feilet/1'), 200);
          assert.equal(
            (await t.app.inject({ method: 'GET', url: '/v1/streams/okdata.feilet.failed.1', headers: t.admin }))
              .statusCode,
            404,
            'gone with the stream',
          );
        },
        { okdata: s3Settings(s3.endpoint, 'no-such-bucket') },
      );
    } finally {
      await s3.close();
    }
  });
});

describe('okdata sinks: elasticsearch', () => {
  it('indexes the processed events into monthly indices named by confidentiality and keeps refused documents', async () => {
    const es = await startBulkEndpoint(); // a protocol-level double of the _bulk API (see the file)
    es.rejectItem = (source) =>
      (source.data as { bad?: boolean } | undefined)?.bad === true
        ? { status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse field [bad]' }
        : undefined;
    try {
      await withApp(
        async (t) => {
          expect(await call(t, 'POST', '/bysykkel/V2', { body: { accessRights: 'public' } }), 201);
          expect(await call(t, 'POST', '/bysykkel/V2/sinks', { body: { type: 'elasticsearch' } }), 201);
          await statusBecomes(t, '/bysykkel/V2/sinks/elasticsearch', 'ACTIVE');
          const events = [
            { timestamp: '2020-10-31T23:59:59Z', stasjon: 'A' },
            { timestamp: '2020-11-01T00:00:00Z', stasjon: 'B' },
            { timestamp: '2020-11-02T10:00:00Z', stasjon: 'C', bad: true },
          ];
          expect(await call(t, 'POST', '/bysykkel/V2/events', { body: events }), 200, null);
          await until('two documents indexed', () => [...es.documents.values()].reduce((n, m) => n + m.size, 0) === 2);
          assert.deepEqual([...es.documents.keys()].sort(), [
            'processed-green-bysykkel-v2-2020.10',
            'processed-green-bysykkel-v2-2020.11',
          ]);
          const doc = [...es.documents.get('processed-green-bysykkel-v2-2020.10')!.values()][0] as { data: unknown };
          assert.deepEqual(doc.data, events[0]);
          const failed = await until('the refused document kept', async () => {
            const res = await t.app.inject({
              method: 'GET',
              url: '/v1/streams/okdata.bysykkel.failed.V2/events',
              headers: t.admin,
            });
            return res.statusCode === 200 && res.json().events.length === 1
              ? (res.json().events[0] as { data: unknown; meta: { deadLetter: { error: string } } })
              : undefined;
          });
          assert.deepEqual(failed.data, events[2]);
          assert.match(failed.meta.deadLetter.error, /mapper_parsing_exception/);
        },
        {
          okdata: {
            targets: { elasticsearch: { node: es.url } },
            policies: { elasticsearch: { ...FAST_POLICY, batch: { maxAgeMs: 50 } } },
          },
        },
      );
    } finally {
      await es.close();
    }
  });
});

describe('okdata processing step (raw → processed)', () => {
  it('filters and transforms as configured, and refuses a bad expression with 422', () =>
    withApp(async (t) => {
      const bad = await call(t, 'POST', '/filtrert/1', { body: { processing: { transform: '$merge([data,' } } });
      expect(bad, 422);
      expect(await call(t, 'GET', '/filtrert/1'), 404, { message: 'Could not find stream: filtrert/1' });

      expect(
        await call(t, 'POST', '/filtrert/1', {
          body: {
            processing: { filter: { condition: 'data.keep = true' }, transform: '$merge([data, {"processed": true}])' },
          },
        }),
        201,
      );
      await statusBecomes(t, '/filtrert/1', 'ACTIVE');
      const posted = [
        { timestamp: '2020-10-18T01:00:00Z', keep: true, n: 1 },
        { timestamp: '2020-10-18T02:00:00Z', keep: false, n: 2 },
        { timestamp: '2020-10-18T03:00:00Z', keep: true, n: 3 },
      ];
      expect(await call(t, 'POST', '/filtrert/1/events', { body: posted }), 200, null);
      const history = await until('history to see the processed events', async () => {
        const res = await call(t, 'GET', '/filtrert/1/events?from_date=2020-10-18&to_date=2020-10-18');
        return res.status === 200 && (res.body as { values: unknown[] }).values.length === 2 ? res.body : undefined;
      });
      assert.deepEqual(history, {
        values: [
          { ...posted[0], processed: true },
          { ...posted[2], processed: true },
        ],
        page: 1,
        total_pages: 1,
      });
    }));

  it('processes the events posted before any process ran it, and fails the stream while it is paused', () =>
    withApp(
      async (t) => {
        expect(await call(t, 'POST', '/tidlig/1', { body: {} }), 201);
        const posted = [
          { timestamp: '2020-10-18T01:00:00Z', n: 1 },
          { timestamp: '2020-10-18T02:00:00Z', n: 2 },
        ];
        expect(await call(t, 'POST', '/tidlig/1/events', { body: posted }), 200, null);
        assert.equal(
          ((await call(t, 'GET', '/tidlig/1')).body as Record<string, unknown>).status,
          'CREATE_IN_PROGRESS',
        );
        expect(await call(t, 'GET', '/tidlig/1/events?from_date=2020-10-18&to_date=2020-10-18'), 400, {
          message: 'Could not find event: tidlig/1',
        });
        t.engine.start();
        await statusBecomes(t, '/tidlig/1', 'ACTIVE');
        const history = await until('history to see the early events', async () => {
          const res = await call(t, 'GET', '/tidlig/1/events?from_date=2020-10-18&to_date=2020-10-18');
          return res.status === 200 ? res.body : undefined;
        });
        assert.deepEqual(history, { values: posted, page: 1, total_pages: 1 });
        // the processing step keeps the events' time and type
        const processed = (
          await t.app.inject({ method: 'GET', url: '/v1/streams/okdata.tidlig.processed.1/events', headers: t.admin })
        ).json().events as { time: string; type: string }[];
        assert.deepEqual(
          processed.map((e) => [e.time, e.type]),
          [
            ['2020-10-18T01:00:00.000Z', 'okdata.event'],
            ['2020-10-18T02:00:00.000Z', 'okdata.event'],
          ],
        );

        assert.equal(
          (await t.app.inject({ method: 'POST', url: '/v1/sinks/okdata_tidlig_1_processing/pause', headers: t.admin }))
            .statusCode,
          200,
        );
        await statusBecomes(t, '/tidlig/1', 'OPERATION_FAILED');
        expect(await call(t, 'PUT', '/tidlig/1/subscribable', { body: { enabled: true } }), 409, {
          message: 'Event stream with id tidlig/1 is not ready',
        });
        // deleting the stream takes its processing step with it
        expect(await call(t, 'DELETE', '/tidlig/1'), 200);
        assert.equal(
          (await t.app.inject({ method: 'GET', url: '/v1/sinks/okdata_tidlig_1_processing', headers: t.admin }))
            .statusCode,
          404,
        );
      },
      { engine: false },
    ));
});
