/**
 * Where okdata's sinks deliver, from the server's configuration: the `s3` type needs
 * --okdata-s3-bucket, the `elasticsearch` type --okdata-opensearch-node; a type without its
 * setting is not offered (the okdata API refuses it with 400). The settings are checked
 * here with the targets' own checks, so a mistake stops the start-up instead of failing
 * every request. Secrets stay in the returned settings only; they are never logged.
 */
import { ConfigError, type Config } from '../config/load-config.js';
import { RivuletError } from '../kernel/errors.js';
import type { JsonObject } from '../kernel/envelope.js';
import type { OkdataSinkOptions } from '../dialects/okdata/okdata-sinks.js';
import type { TargetRegistry } from '../delivery/targets/registry.js';

type OkdataConfig = Pick<
  Config,
  | 'okdataS3Bucket'
  | 'okdataS3Region'
  | 'okdataS3Endpoint'
  | 'okdataS3ForcePathStyle'
  | 'okdataS3AccessKeyId'
  | 'okdataS3SecretAccessKey'
  | 'okdataS3BufferSeconds'
  | 'okdataOpensearchNode'
  | 'okdataOpensearchUsername'
  | 'okdataOpensearchPassword'
  | 'okdataOpensearchApiKey'
>;

export function okdataSinkOptions(config: OkdataConfig, registry: TargetRegistry): Partial<OkdataSinkOptions> {
  const targets: OkdataSinkOptions['targets'] = {};
  if (config.okdataS3Bucket !== undefined) {
    const s3: JsonObject = {
      bucket: config.okdataS3Bucket,
      region: config.okdataS3Region,
      forcePathStyle: config.okdataS3ForcePathStyle,
    };
    if (config.okdataS3Endpoint !== undefined) s3.endpoint = config.okdataS3Endpoint;
    if ((config.okdataS3AccessKeyId === undefined) !== (config.okdataS3SecretAccessKey === undefined)) {
      throw new ConfigError('okdataS3AccessKeyId and okdataS3SecretAccessKey go together: set both or neither');
    }
    if (config.okdataS3AccessKeyId !== undefined)
      s3.credentials = { accessKeyId: config.okdataS3AccessKeyId, secretAccessKey: config.okdataS3SecretAccessKey! };
    check(registry, 's3', { ...s3, prefix: 'processed' }, 'okdataS3');
    targets.s3 = s3;
  }
  const nodes = config.okdataOpensearchNode ?? [];
  if (nodes.length > 0) {
    const es: JsonObject = { node: nodes };
    if (config.okdataOpensearchApiKey !== undefined) {
      if (config.okdataOpensearchUsername !== undefined)
        throw new ConfigError(
          'okdataOpensearchApiKey and okdataOpensearchUsername exclude each other: use one way to authenticate',
        );
      es.auth = { apiKey: config.okdataOpensearchApiKey };
    } else if (config.okdataOpensearchUsername !== undefined || config.okdataOpensearchPassword !== undefined) {
      if (config.okdataOpensearchUsername === undefined || config.okdataOpensearchPassword === undefined) {
        throw new ConfigError('okdataOpensearchUsername and okdataOpensearchPassword go together: set both or neither');
      }
      es.auth = { username: config.okdataOpensearchUsername, password: config.okdataOpensearchPassword };
    }
    check(registry, 'opensearch', { ...es, index: 'processed' }, 'okdataOpensearch');
    targets.elasticsearch = es;
  }
  return { targets, policies: { s3: { batch: { maxEvents: 10_000, maxAgeMs: config.okdataS3BufferSeconds * 1000 } } } };
}

function check(registry: TargetRegistry, kind: string, settings: JsonObject, prefix: string): void {
  try {
    registry.get(kind)?.check(settings);
  } catch (err) {
    // the message names the field and never carries a secret's value
    if (err instanceof RivuletError) throw new ConfigError(`${prefix} settings: ${err.message}`);
    throw err;
  }
}
