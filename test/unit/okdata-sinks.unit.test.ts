/** okdata sink naming and the server settings behind okdata's sink types. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { okdataSinkId } from '../../src/dialects/okdata/okdata-sink-model.js';
import { assertSinkId } from '../../src/core/sinks/sink-policy.js';
import { defaultTargets } from '../../src/delivery/targets/registry.js';
import { okdataSinkOptions } from '../../src/runtime/okdata-sink-config.js';

describe('okdata sink ids', () => {
  it('are valid sink ids for the longest dataset ids and versions, and distinct per stream and type', () => {
    assert.equal(
      okdataSinkId({ dataset: 'renovasjonsbiler-status', version: '1' }, 's3'),
      'okdata_renovasjonsbiler-status_1_s3',
    );
    const long = { dataset: 'd'.repeat(70), version: 'V_'.repeat(25) };
    const ids = [
      okdataSinkId(long, 's3'),
      okdataSinkId(long, 'elasticsearch'),
      okdataSinkId(long, 'processing'),
      okdataSinkId({ ...long, version: 'x' }, 's3'),
    ];
    for (const id of ids) assertSinkId(id);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('okdata sink settings from the configuration', () => {
  const env = (vars: Record<string, string>) => loadConfig({ env: vars });

  it('offers only the types that are configured', () => {
    assert.deepEqual(okdataSinkOptions(env({}), defaultTargets()).targets, {});
    const both = okdataSinkOptions(
      env({
        RIVULET_OKDATA_S3_BUCKET: 'lake',
        RIVULET_OKDATA_S3_ENDPOINT: 'http://minio:9000',
        RIVULET_OKDATA_S3_FORCE_PATH_STYLE: 'true',
        RIVULET_OKDATA_S3_ACCESS_KEY_ID: 'AKIA',
        RIVULET_OKDATA_S3_SECRET_ACCESS_KEY: 'shh-secret',
        RIVULET_OKDATA_OPENSEARCH_NODE: 'http://es1:9200,http://es2:9200',
        RIVULET_OKDATA_OPENSEARCH_API_KEY: 'a2V5',
      }),
      defaultTargets(),
    );
    assert.deepEqual(both.targets, {
      s3: {
        bucket: 'lake',
        region: 'us-east-1',
        forcePathStyle: true,
        endpoint: 'http://minio:9000',
        credentials: { accessKeyId: 'AKIA', secretAccessKey: 'shh-secret' },
      },
      elasticsearch: { node: ['http://es1:9200', 'http://es2:9200'], auth: { apiKey: 'a2V5' } },
    });
  });

  it('stops the start-up on a mistake, naming the setting and never a secret', () => {
    const cases: Record<string, string>[] = [
      { RIVULET_OKDATA_S3_BUCKET: 'Not_A_Bucket' },
      { RIVULET_OKDATA_S3_BUCKET: 'lake', RIVULET_OKDATA_S3_SECRET_ACCESS_KEY: 'shh-secret' },
      { RIVULET_OKDATA_S3_BUCKET: 'lake', RIVULET_OKDATA_S3_ENDPOINT: 'http://user:shh-secret@minio' },
      { RIVULET_OKDATA_OPENSEARCH_NODE: 'es1:9200' },
      { RIVULET_OKDATA_OPENSEARCH_NODE: 'http://es1:9200', RIVULET_OKDATA_OPENSEARCH_PASSWORD: 'shh-secret' },
    ];
    for (const vars of cases) {
      assert.throws(
        () => okdataSinkOptions(env(vars), defaultTargets()),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.match(err.message, /okdata/i);
          assert.doesNotMatch(err.message, /shh-secret/);
          return true;
        },
        JSON.stringify(vars),
      );
    }
  });
});
