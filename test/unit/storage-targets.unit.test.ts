/** Naming, configuration checking and outcome rules of the `s3` and `opensearch` targets. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRivuletError } from '../../src/kernel/errors.js';
import type { StoredEvent } from '../../src/kernel/envelope.js';
import type { DeliveryItem } from '../../src/delivery/targets/target.js';
import { groupByStream, hourPartition, objectKey } from '../../src/delivery/targets/s3-object-key.js';
import { s3Outcome, s3Target } from '../../src/delivery/targets/s3-target.js';
import { dateSuffix, indexName, indexTemplateProblem } from '../../src/delivery/targets/opensearch-index-name.js';
import { itemOutcome, opensearchTarget, requestOutcome } from '../../src/delivery/targets/opensearch-target.js';
import { createUrlGuard } from '../../src/delivery/url-guard.js';

function item(stream: string, seq: number, received: string): DeliveryItem {
  const event: StoredEvent = {
    id: `e${seq}`,
    stream,
    seq,
    typeSeq: seq,
    type: 't',
    source: 's',
    time: received,
    received,
    producer: null,
    data: null,
    meta: {},
    schemaVersion: null,
  };
  return { event, payload: null, deliveryId: `d${seq}`, attempt: 1 };
}

function refusedAt(fn: () => unknown, pointer: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isRivuletError(err), String(err));
    assert.equal(err.code, 'VALIDATION_FAILED');
    assert.equal(err.details?.pointer, pointer);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

describe('s3 object keys', () => {
  it('partitions by stream and the UTC hour of the first event, named by first and last seq', () => {
    const group = {
      stream: 'orders',
      items: [item('orders', 12, '2026-03-01T00:30:00+01:00'), item('orders', 40, '2026-03-01T02:00:00Z')],
      indexes: [0, 1],
    };
    assert.equal(objectKey(group, { gzip: false }), 'orders/2026/02/28/23/12-40.ndjson');
    assert.equal(objectKey(group, { prefix: 'lake/raw', gzip: true }), 'lake/raw/orders/2026/02/28/23/12-40.ndjson.gz');
    assert.equal(hourPartition('0999-01-02T03:04:05Z'), '0999/01/02/03');
  });

  it('groups a batch by stream, keeping batch positions', () => {
    const groups = groupByStream([
      item('a', 1, '2026-01-01T00:00:00Z'),
      item('b', 1, '2026-01-01T00:00:00Z'),
      item('a', 2, '2026-01-01T00:00:00Z'),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.stream, g.indexes]),
      [
        ['a', [0, 2]],
        ['b', [1]],
      ],
    );
  });
});

describe('opensearch index names', () => {
  it('suffixes the UTC date of the event time: monthly by default, daily, yearly or none', () => {
    const event = { stream: 'Orders', time: '2026-12-31T23:30:00-02:00' };
    assert.equal(dateSuffix(event.time, 'monthly'), '-2027.01');
    assert.equal(indexName('events', 'daily', event), 'events-2027.01.01');
    assert.equal(indexName('events', 'yearly', event), 'events-2027');
    assert.equal(indexName('events', 'none', event), 'events');
    assert.equal(indexName('rivulet-{stream}', 'monthly', event), 'rivulet-orders-2027.01');
  });

  it('knows which templates can never name an index', () => {
    assert.equal(indexTemplateProblem('events'), undefined);
    assert.equal(indexTemplateProblem('logs-{stream}'), undefined);
    assert.match(indexTemplateProblem('Events') ?? '', /lower case/);
    assert.match(indexTemplateProblem('a b') ?? '', /spaces/);
    assert.match(indexTemplateProblem('_hidden') ?? '', /start/);
    assert.match(indexTemplateProblem('x-{type}') ?? '', /braces/);
    assert.match(indexTemplateProblem('x'.repeat(201)) ?? '', /200 bytes/);
  });
});

describe('s3 target configuration', () => {
  const base = { bucket: 'my-bucket', region: 'eu-west-1' };
  it('refuses bad settings with a pointer under /target', () => {
    refusedAt(() => s3Target.check('s3://bucket'), '/target');
    refusedAt(() => s3Target.check({ region: 'eu-west-1' }), '/target/bucket', /required/);
    refusedAt(() => s3Target.check({ ...base, bucket: 'My_Bucket' }), '/target/bucket');
    refusedAt(() => s3Target.check({ ...base, region: undefined }), '/target/region');
    refusedAt(() => s3Target.check({ ...base, gzip: 'yes' }), '/target/gzip');
    refusedAt(() => s3Target.check({ ...base, body: 'data' }), '/target/body', /"event", "payload"/);
    refusedAt(() => s3Target.check({ ...base, maxBatchEvents: 0 }), '/target/maxBatchEvents');
    refusedAt(() => s3Target.check({ ...base, endpoint: 'ftp://store' }), '/target/endpoint');
    refusedAt(
      () => s3Target.check({ ...base, endpoint: 'http://key:secret@store' }),
      '/target/endpoint',
      /credentials/,
    );
    refusedAt(
      () => s3Target.check({ ...base, credentials: { accessKeyId: 'A' } }),
      '/target/credentials/secretAccessKey',
    );
    refusedAt(() => s3Target.check({ ...base, prefix: 'a//b' }), '/target/prefix');
    refusedAt(() => s3Target.check({ ...base, prefix: 'a{b}' }), '/target/prefix');
    refusedAt(() => s3Target.check({ ...base, buckett: 'x' }), '/target/buckett', /not a setting/);
    refusedAt(() => s3Target.check({ ...base, kind: 'http' }), '/target/kind');
  });

  it('fills defaults', () => {
    assert.deepEqual(s3Target.check(base), {
      kind: 's3',
      ...base,
      forcePathStyle: false,
      gzip: false,
      body: 'event',
      maxBatchEvents: 500,
    });
  });
});

describe('opensearch target configuration', () => {
  const base = { node: 'https://search.example:9200', index: 'events' };
  it('refuses bad settings with a pointer under /target', () => {
    refusedAt(() => opensearchTarget.check({ index: 'events' }), '/target/node');
    refusedAt(() => opensearchTarget.check({ ...base, node: ['https://a.example', 'nope'] }), '/target/node/1');
    refusedAt(() => opensearchTarget.check({ ...base, node: 'https://u:p@a.example' }), '/target/node', /credentials/);
    refusedAt(() => opensearchTarget.check({ ...base, index: 'Events' }), '/target/index', /lower case/);
    refusedAt(() => opensearchTarget.check({ ...base, dateSuffix: 'weekly' }), '/target/dateSuffix');
    refusedAt(() => opensearchTarget.check({ ...base, auth: { username: 'u' } }), '/target/auth/password');
    refusedAt(() => opensearchTarget.check({ ...base, auth: { apiKey: 'k', username: 'u' } }), '/target/auth/username');
    refusedAt(() => opensearchTarget.check({ ...base, refresh: 'now' }), '/target/refresh');
    refusedAt(() => opensearchTarget.check({ ...base, maxBatchEvents: 1.5 }), '/target/maxBatchEvents');
  });

  it('normalises and redacts', () => {
    const config = opensearchTarget.check({
      ...base,
      auth: { username: 'writer', password: 'hunter2' },
      refresh: true,
    });
    assert.deepEqual(config, {
      kind: 'opensearch',
      node: ['https://search.example:9200'],
      index: 'events',
      dateSuffix: 'monthly',
      body: 'event',
      maxBatchEvents: 500,
      auth: { username: 'writer', password: 'hunter2' },
      refresh: 'true',
    });
    const shown = JSON.stringify(opensearchTarget.redact(config));
    assert.ok(!shown.includes('hunter2'));
    assert.ok(
      !JSON.stringify(
        opensearchTarget.redact(opensearchTarget.check({ ...base, auth: { apiKey: 'c2VjcmV0' } })),
      ).includes('c2VjcmV0'),
    );
  });
});

describe('outcomes', () => {
  const sdkError = (name: string, status?: number) =>
    Object.assign(new Error(name), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } });
  it('s3: throttling, 5xx and network errors retry; other 4xx and 3xx are permanent', () => {
    assert.equal(s3Outcome(sdkError('SlowDown', 503)).outcome, 'retry');
    assert.equal(s3Outcome(sdkError('SlowDown', 400)).outcome, 'retry');
    assert.equal(s3Outcome(sdkError('InternalError', 500)).outcome, 'retry');
    assert.equal(s3Outcome(Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' })).outcome, 'retry');
    assert.equal(s3Outcome(sdkError('AccessDenied', 403)).outcome, 'permanent');
    assert.equal(s3Outcome(sdkError('NoSuchBucket', 404)).outcome, 'permanent');
    assert.equal(s3Outcome(sdkError('PermanentRedirect', 301)).outcome, 'permanent');
    assert.equal(s3Outcome(sdkError('AccessDenied', 403), AbortSignal.abort()).outcome, 'retry');
  });

  it('opensearch: per item and per request', () => {
    assert.deepEqual(itemOutcome({ status: 201 }), { outcome: 'success' });
    assert.deepEqual(
      itemOutcome({
        status: 400,
        error: {
          type: 'mapper_parsing_exception',
          reason: 'bad',
          caused_by: { type: 'number_format_exception', reason: 'For input string: "x"' },
        },
      }),
      {
        outcome: 'permanent',
        status: 400,
        error: 'mapper_parsing_exception: bad (caused by number_format_exception: For input string: "x")',
      },
    );
    assert.equal(itemOutcome({ status: 429, error: { type: 'es_rejected_execution_exception' } }).outcome, 'retry');
    assert.equal(itemOutcome({}).outcome, 'retry');
    const responseError = (status: number) =>
      Object.assign(new Error('x'), { name: 'ResponseError', meta: { statusCode: status, headers: {} } });
    assert.equal(requestOutcome(responseError(502)).outcome, 'retry');
    assert.equal(requestOutcome(responseError(408)).outcome, 'retry');
    assert.equal(requestOutcome(responseError(403)).outcome, 'permanent');
    assert.equal(
      requestOutcome(Object.assign(new Error('socket hang up'), { name: 'ConnectionError' })).outcome,
      'retry',
    );
  });
});

describe('verify (when a sink is saved)', () => {
  const guard = createUrlGuard();
  const refused = async (promise: Promise<void> | undefined, pointer: string) =>
    assert.rejects(promise ?? Promise.resolve(), (err: unknown) => {
      assert.ok(isRivuletError(err), String(err));
      assert.equal(err.code, 'TARGET_URL_FORBIDDEN');
      assert.equal(err.details?.pointer, pointer);
      return true;
    });
  it('refuses an endpoint or node on a refused address, naming the field', async () => {
    await refused(
      s3Target.verify?.(s3Target.check({ bucket: 'b-1', region: 'us-east-1', endpoint: 'http://169.254.169.254' }), {
        urlGuard: guard,
      }),
      '/target/endpoint',
    );
    await refused(
      opensearchTarget.verify?.(
        opensearchTarget.check({ index: 'x', node: ['https://93.184.215.14', 'http://127.0.0.1:9200'] }),
        { urlGuard: guard },
      ),
      '/target/node/1',
    );
    await s3Target.verify?.(s3Target.check({ bucket: 'b-1', region: 'us-east-1', endpoint: 'https://93.184.215.14' }), {
      urlGuard: guard,
    });
  });
});
