/**
 * The `s3` target against a real S3-protocol server (s3rver, on a free port with a temp dir):
 * objects are written with the AWS SDK and read back with it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import S3rver from 's3rver';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { s3Target } from '../../src/delivery/targets/s3-target.js';
import type { S3TargetConfig } from '../../src/delivery/targets/s3-target.js';
import type { DeliveryItem, DeliveryTarget } from '../../src/delivery/targets/target.js';
import type { JsonValue, StoredEvent } from '../../src/kernel/envelope.js';
import { createUrlGuard } from '../../src/delivery/url-guard.js';
import { tempDir, track } from '../support/resources.js';

const BUCKET = 'events';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const loopbackGuard = createUrlGuard({ allowLoopback: true });

async function startS3(): Promise<{ endpoint: string; close: () => Promise<void> }> {
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
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      if (!closed) await server.close();
      closed = true;
    },
  };
}

function readerFor(endpoint: string): S3Client {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { ...CREDENTIALS },
    maxAttempts: 1,
  });
  let closed = false;
  track('s3 reader', client, () => closed);
  const destroy = client.destroy.bind(client);
  client.destroy = () => {
    closed = true;
    destroy();
  };
  return client;
}

function target(config: Record<string, unknown>, guard = loopbackGuard): DeliveryTarget {
  const t = s3Target.create(
    s3Target.check({ bucket: BUCKET, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS, ...config }),
    { urlGuard: guard },
  );
  let closed = false;
  track('s3 target', t, () => closed);
  return {
    ...t,
    close: async () => {
      closed = true;
      await t.close();
    },
  };
}

function item(stream: string, seq: number, received: string, data: JsonValue): DeliveryItem {
  const event: StoredEvent = {
    id: `0190-${stream}-${seq}`,
    stream,
    seq,
    typeSeq: seq,
    type: 'order.created',
    source: '/shop',
    time: '2026-11-23T08:59:00.000Z',
    received,
    producer: null,
    data,
    meta: {},
    schemaVersion: null,
  };
  return { event, payload: { mapped: data }, deliveryId: `sink-1:${stream}:${seq}`, attempt: 1 };
}

const context = (signal = new AbortController().signal) => ({ signal, sinkId: 'sink-1' });

async function readObject(
  client: S3Client,
  key: string,
): Promise<{ bytes: Buffer; encoding: string | undefined; type: string | undefined }> {
  const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.ok(got.Body !== undefined);
  return {
    bytes: Buffer.from(await got.Body.transformToByteArray()),
    encoding: got.ContentEncoding,
    type: got.ContentType,
  };
}

async function listKeys(client: S3Client): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
}

const lines = (text: string): unknown[] => {
  assert.ok(text.endsWith('\n'), 'NDJSON ends with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
};

describe('s3 target (s3rver)', () => {
  it('writes one NDJSON object per stream, partitioned by stream and hour, holding the event envelopes', async () => {
    const s3 = await startS3();
    const t = target({ endpoint: s3.endpoint, prefix: 'raw/' });
    const reader = readerFor(s3.endpoint);
    const batch = [
      item('orders', 7, '2026-11-23T09:15:00.000Z', { n: 1 }),
      item('payments', 3, '2026-11-23T23:59:59.999Z', { n: 2 }),
      item('orders', 8, '2026-11-23T10:01:00.000Z', { n: 3, text: 'ünïcode ✓' }),
      item('orders', 9, '2026-11-23T10:02:00.000Z', { n: 4 }),
    ];
    const result = await t.deliver(batch, context());
    assert.deepEqual(
      result.items,
      batch.map(() => ({ outcome: 'success' })),
    );
    assert.equal(result.status, 200);
    assert.ok(result.bytes > 0);
    assert.deepEqual(result.detail, {
      bucket: BUCKET,
      keys: ['raw/orders/2026/11/23/09/7-9.ndjson', 'raw/payments/2026/11/23/23/3-3.ndjson'],
    });

    assert.deepEqual(await listKeys(reader), [
      'raw/orders/2026/11/23/09/7-9.ndjson',
      'raw/payments/2026/11/23/23/3-3.ndjson',
    ]);
    const orders = await readObject(reader, 'raw/orders/2026/11/23/09/7-9.ndjson');
    assert.equal(orders.type, 'application/x-ndjson');
    assert.equal(orders.encoding, undefined);
    assert.deepEqual(lines(orders.bytes.toString('utf8')), [batch[0]?.event, batch[2]?.event, batch[3]?.event]);
    const payments = await readObject(reader, 'raw/payments/2026/11/23/23/3-3.ndjson');
    assert.deepEqual(lines(payments.bytes.toString('utf8')), [batch[1]?.event]);
    assert.equal(result.bytes, orders.bytes.length + payments.bytes.length);

    reader.destroy();
    await t.close();
    await s3.close();
  });

  it('gzips objects and writes the mapped payloads when asked; a retried batch overwrites its own object', async () => {
    const s3 = await startS3();
    const t = target({ endpoint: s3.endpoint, gzip: true, body: 'payload' });
    const reader = readerFor(s3.endpoint);
    const batch = [
      item('clicks', 1, '2026-01-02T03:04:05.000Z', { a: 1 }),
      item('clicks', 2, '2026-01-02T03:05:00.000Z', { a: 2 }),
    ];
    for (let attempt = 1; attempt <= 2; attempt++) {
      const result = await t.deliver(
        batch.map((i) => ({ ...i, attempt })),
        context(),
      );
      assert.deepEqual(
        result.items.map((o) => o.outcome),
        ['success', 'success'],
      );
    }
    assert.deepEqual(await listKeys(reader), ['clicks/2026/01/02/03/1-2.ndjson.gz']);
    const object = await readObject(reader, 'clicks/2026/01/02/03/1-2.ndjson.gz');
    assert.equal(object.encoding, 'gzip');
    assert.deepEqual(lines(gunzipSync(object.bytes).toString('utf8')), [{ mapped: { a: 1 } }, { mapped: { a: 2 } }]);
    reader.destroy();
    await t.close();
    await s3.close();
  });

  it('an unknown bucket or refused credentials are permanent', async () => {
    const s3 = await startS3();
    const noBucket = target({ endpoint: s3.endpoint, bucket: 'no-such-bucket' });
    const result = await noBucket.deliver([item('orders', 1, '2026-11-23T09:00:00Z', 1)], context());
    const [outcome] = result.items;
    assert.equal(outcome?.outcome, 'permanent');
    assert.equal(outcome.status, 404);
    assert.match(outcome.error, /NoSuchBucket/);
    assert.equal(result.status, 404);

    const badKey = target({
      endpoint: s3.endpoint,
      credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'wrong' },
    });
    const [denied] = (await badKey.deliver([item('orders', 1, '2026-11-23T09:00:00Z', 1)], context())).items;
    assert.equal(denied?.outcome, 'permanent');
    assert.equal(denied.status, 403);
    await noBucket.close();
    await badKey.close();
    await s3.close();
  });

  it('a stopped server means retry', async () => {
    const s3 = await startS3();
    const t = target({ endpoint: s3.endpoint });
    const batch = [item('orders', 1, '2026-11-23T09:00:00Z', 1)];
    assert.equal((await t.deliver(batch, context())).items[0]?.outcome, 'success');
    await s3.close();
    const result = await t.deliver(batch, context());
    const [outcome] = result.items;
    assert.equal(outcome?.outcome, 'retry');
    assert.match(outcome.error, /ECONNREFUSED|ECONNRESET|socket hang up/);
    await t.close();
  });

  it('gives up promptly when the attempt is aborted', async () => {
    // A real server that takes the request and never answers, so only the abort can end it.
    const sockets = new Set<Socket>();
    const silent = createServer(() => undefined);
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    let silentClosed = false;
    track('silent server', silent, () => silentClosed);
    const t = target({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` });
    const batch = [item('orders', 1, '2026-11-23T09:00:00Z', 1), item('orders', 2, '2026-11-23T09:00:01Z', 2)];

    const controller = new AbortController();
    const pending = t.deliver(batch, context(controller.signal));
    setTimeout(() => controller.abort(), 50);
    const result = await pending;
    assert.deepEqual(result.items, [
      { outcome: 'retry', error: 'attempt aborted' },
      { outcome: 'retry', error: 'attempt aborted' },
    ]);
    const before = AbortSignal.abort();
    assert.deepEqual(
      (await t.deliver(batch, context(before))).items.map((o) => o.outcome),
      ['retry', 'retry'],
    );

    await t.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    silentClosed = true;
  });

  it('refuses an endpoint the URL guard forbids, without calling it', async () => {
    const s3 = await startS3();
    const t = target({ endpoint: s3.endpoint }, createUrlGuard());
    const reader = readerFor(s3.endpoint);
    const [outcome] = (await t.deliver([item('orders', 1, '2026-11-23T09:00:00Z', 1)], context())).items;
    assert.equal(outcome?.outcome, 'permanent');
    assert.match(outcome.error, /^TARGET_URL_FORBIDDEN: .*loopback/);
    assert.deepEqual(await listKeys(reader), []);
    reader.destroy();
    await t.close();
    await s3.close();
  });

  it('normalises its configuration and redacts the secret', () => {
    const config: S3TargetConfig = s3Target.check({
      kind: 's3',
      bucket: BUCKET,
      region: 'eu-west-1',
      prefix: '/a/b/',
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'very-secret' },
    });
    assert.deepEqual(config, {
      kind: 's3',
      bucket: BUCKET,
      region: 'eu-west-1',
      prefix: 'a/b',
      forcePathStyle: false,
      gzip: false,
      body: 'event',
      maxBatchEvents: 500,
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'very-secret' },
    });
    const shown = s3Target.redact(config);
    assert.ok(!JSON.stringify(shown).includes('very-secret'));
    assert.deepEqual(shown['credentials'], { accessKeyId: 'AKIA1', secretAccessKey: '[redacted]' });
  });
});
