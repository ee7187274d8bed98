/**
 * The `s3` target: each batch becomes NDJSON objects (gzip optional), one per source stream,
 * written with PutObject to AWS S3 or any S3-compatible store (MinIO, Ceph, R2, s3rver…).
 * Key layout: see s3-object-key.ts; docs/delivery-targets.md.
 *
 * One PutObject per stream is the whole attempt: the SDK's own retries are off
 * (`maxAttempts: 1`) because retries, backoff and dead letters belong to the engine.
 * Outcomes: network errors, 408, 429, 5xx and S3's throttling codes (SlowDown…) → retry;
 * other 4xx (AccessDenied, NoSuchBucket, InvalidAccessKeyId…) and 3xx (a bucket in another
 * region) → permanent. All events of one object share its outcome.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { PutObjectCommand, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { JsonObject } from '../../kernel/envelope.js';
import type { OmittedSecrets } from '../../core/sinks/sink-model.js';
import { parseRetryAfter } from '../backoff.js';
import { REDACTED } from '../../kernel/secret-names.js';
import { redactedUrl, restoredUrl } from '../../kernel/secret-urls.js';
import { ConfigReader, checkServiceUrl, guardRefusal, verifyServiceUrl, pointerOf } from './target-config.js';
import { configCopy, resolveSecret, secretGroup } from './target-secrets.js';
import { groupByStream, objectKey } from './s3-object-key.js';
import type { StreamGroup } from './s3-object-key.js';
import type {
  BatchOutcome,
  DeliverContext,
  DeliveryItem,
  DeliveryTarget,
  ItemOutcome,
  TargetDeps,
  TargetFactory,
} from './target.js';

const gzip = promisify(gzipCallback);

export type S3TargetConfig = {
  kind: 's3';
  bucket: string;
  /** key prefix, without leading or trailing slash */
  prefix?: string;
  region: string;
  /** an S3-compatible endpoint; AWS S3 when absent */
  endpoint?: string;
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key` (most S3-compatible stores want it) */
  forcePathStyle: boolean;
  /** static credentials; absent: the SDK's default chain (the server's own AWS identity) */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  gzip: boolean;
  /** what each line holds: the whole event envelope, or the sink's mapped payload */
  body: 'event' | 'payload';
  maxBatchEvents: number;
};

export const S3_DEFAULT_MAX_BATCH_EVENTS = 500;
export const S3_MAX_BATCH_EVENTS = 10_000;

const FIELDS = [
  'kind',
  'bucket',
  'prefix',
  'region',
  'endpoint',
  'forcePathStyle',
  'credentials',
  'gzip',
  'body',
  'maxBatchEvents',
];
/** S3's bucket naming rules (lower case, 3–63, no leading/trailing dot or dash). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{1,40}$/;
/** Printable ASCII without `\`, `{`, `}`, `^`, `%`, `` ` ``, `[`, `]`, `"`, `<`, `>`, `~`, `#`, `|` (the characters S3 advises against). */
const PREFIX = /^[A-Za-z0-9!\-_.*'()/=+,;:@&$ ]+$/;

/** S3 error codes that mean "slow down / try later" even when the status says otherwise. */
const RETRYABLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeTooSkewed',
  'TimeoutError',
]);

function check(config: unknown): S3TargetConfig {
  const r = ConfigReader.root(config, 's3');
  r.only(FIELDS);
  const bucket = r.string('bucket', {
    required: true,
    pattern: BUCKET,
    rule: 'must be an S3 bucket name (3–63 lower-case letters, digits, dots and dashes)',
  });
  const prefixRaw = r.string('prefix', {
    max: 512,
    pattern: PREFIX,
    rule: "may hold letters, digits, / and !-_.*'()=+,;:@&$ and spaces",
  });
  const prefix = prefixRaw?.replace(/^\/+|\/+$/g, '');
  if (prefix !== undefined && (prefix === '' || prefix.includes('//')))
    throw r.fail('prefix', 'must not be only slashes or hold empty segments (//)');
  const region = r.string('region', {
    required: true,
    pattern: REGION,
    rule: 'must be a region name such as eu-west-1',
  });
  const endpoint = r.has('endpoint') ? checkServiceUrl(r.raw('endpoint'), ['endpoint']) : undefined;
  const credentials = checkCredentials(r);
  const normalised: S3TargetConfig = {
    kind: 's3',
    bucket,
    region,
    forcePathStyle: r.boolean('forcePathStyle', false),
    gzip: r.boolean('gzip', false),
    body: r.oneOf('body', ['event', 'payload'], 'event'),
    maxBatchEvents: r.integer('maxBatchEvents', S3_DEFAULT_MAX_BATCH_EVENTS, 1, S3_MAX_BATCH_EVENTS),
  };
  if (prefix !== undefined) normalised.prefix = prefix;
  if (endpoint !== undefined) normalised.endpoint = endpoint;
  if (credentials !== undefined) normalised.credentials = credentials;
  return normalised;
}

function checkCredentials(r: ConfigReader): S3TargetConfig['credentials'] {
  const c = r.object('credentials');
  if (c === undefined) return undefined;
  c.only(['accessKeyId', 'secretAccessKey', 'sessionToken']);
  const credentials: NonNullable<S3TargetConfig['credentials']> = {
    accessKeyId: c.string('accessKeyId', { required: true, max: 256 }),
    secretAccessKey: c.string('secretAccessKey', { required: true, max: 1024 }),
  };
  const sessionToken = c.string('sessionToken', { max: 8192 });
  if (sessionToken !== undefined) credentials.sessionToken = sessionToken;
  return credentials;
}

function redact(config: S3TargetConfig): JsonObject {
  const { credentials, ...rest } = config;
  if (rest.endpoint !== undefined) rest.endpoint = redactedUrl(rest.endpoint);
  if (credentials === undefined) return { ...rest };
  // The key id names the identity (useful when debugging AccessDenied); the secret never shows.
  const shown: JsonObject = { accessKeyId: credentials.accessKeyId, secretAccessKey: REDACTED };
  if (credentials.sessionToken !== undefined) shown['sessionToken'] = REDACTED;
  return { ...rest, credentials: shown };
}

/** `credentials.secretAccessKey` and `sessionToken` of a configuration given on a change (target-secrets.ts). */
function resolveSecrets(given: unknown, stored: S3TargetConfig | null, omitted: OmittedSecrets): unknown {
  const config = configCopy(given);
  if (config === undefined) return given;
  if (typeof config['endpoint'] === 'string')
    config['endpoint'] = restoredUrl(config['endpoint'], stored?.endpoint, pointerOf(['endpoint']));
  const credentials = secretGroup(config, 'credentials', stored?.credentials, omitted);
  if (credentials !== undefined) {
    resolveSecret(credentials, 'secretAccessKey', stored?.credentials?.secretAccessKey, omitted, ['credentials']);
    resolveSecret(credentials, 'sessionToken', stored?.credentials?.sessionToken, omitted, ['credentials']);
  }
  return config;
}

/** When the sink is saved: an endpoint on a refused address is refused then, not at delivery. */
async function verify(config: S3TargetConfig, deps: TargetDeps): Promise<void> {
  if (config.endpoint !== undefined) await verifyServiceUrl(deps.urlGuard, config.endpoint, ['endpoint']);
}

function create(config: S3TargetConfig, deps: TargetDeps): DeliveryTarget {
  // The guard's lookup runs at connect time for every connection (DNS rebinding); the
  // endpoint check below covers IP literals, for which Node never calls lookup.
  const httpAgent = new HttpAgent({ keepAlive: true, lookup: deps.urlGuard.lookup });
  const httpsAgent = new HttpsAgent({ keepAlive: true, lookup: deps.urlGuard.lookup });
  // the SDK is loaded by the first delivery: a server without S3 sinks never holds it in memory
  let loaded: Promise<{ client: S3Client; sdk: { PutObjectCommand: typeof PutObjectCommand } }> | undefined;
  const sdkOf = () =>
    (loaded ??= import('@aws-sdk/client-s3').then((sdk) => ({ client: new sdk.S3Client(options), sdk })));
  const options: S3ClientConfig = {
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    forcePathStyle: config.forcePathStyle,
    // a copy: the SDK writes into the object it is given
    ...(config.credentials === undefined ? {} : { credentials: { ...config.credentials } }),
    maxAttempts: 1,
    // Checksums only where S3 requires them: several S3-compatible stores refuse the
    // flexible-checksum headers the SDK now sends by default.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { httpAgent, httpsAgent },
  };
  let endpointChecked: Promise<void> | undefined;
  let closed = false;

  function checkEndpoint(): Promise<void> {
    if (config.endpoint === undefined) return Promise.resolve();
    // A DNS failure is not remembered: the next attempt checks again.
    endpointChecked ??= deps.urlGuard.check(config.endpoint).then(
      () => undefined,
      (err: unknown) => {
        endpointChecked = undefined;
        throw err;
      },
    );
    return endpointChecked;
  }

  async function putGroup(
    group: StreamGroup,
    signal: AbortSignal,
    sinkId: string,
  ): Promise<{ key: string; bytes: number; outcome: ItemOutcome; status?: number }> {
    const key = objectKey(group, {
      ...(config.prefix === undefined ? {} : { prefix: config.prefix }),
      gzip: config.gzip,
    });
    const text = group.items.map((item) => `${JSON.stringify(lineOf(item, config.body))}\n`).join('');
    const body = config.gzip ? await gzip(Buffer.from(text, 'utf8')) : Buffer.from(text, 'utf8');
    try {
      const { client, sdk } = await sdkOf();
      const response = await client.send(
        new sdk.PutObjectCommand({
          Bucket: config.bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/x-ndjson',
          ...(config.gzip ? { ContentEncoding: 'gzip' } : {}),
          Metadata: { 'rivulet-sink': sinkId, 'rivulet-events': String(group.items.length) },
        }),
        { abortSignal: signal },
      );
      const status = response.$metadata.httpStatusCode;
      return { key, bytes: body.length, outcome: { outcome: 'success' }, ...(status === undefined ? {} : { status }) };
    } catch (err) {
      const failed = s3Outcome(err, signal);
      return {
        key,
        bytes: body.length,
        outcome: failed,
        ...(failed.outcome !== 'success' && failed.status !== undefined ? { status: failed.status } : {}),
      };
    }
  }

  async function deliver(items: readonly DeliveryItem[], context: DeliverContext): Promise<BatchOutcome> {
    const started = performance.now();
    const done = (outcomes: ItemOutcome[], rest: Omit<BatchOutcome, 'items' | 'latencyMs'>): BatchOutcome => ({
      items: outcomes,
      latencyMs: performance.now() - started,
      ...rest,
    });
    if (items.length === 0) return done([], { bytes: 0 });
    const all = (outcome: ItemOutcome): ItemOutcome[] => items.map(() => outcome);
    if (closed) return done(all({ outcome: 'retry', error: 'target closed' }), { bytes: 0 });
    if (context.signal.aborted) return done(all(aborted()), { bytes: 0 });
    try {
      await checkEndpoint();
    } catch (err) {
      return done(all(guardOutcome(err)), { bytes: 0, detail: { endpoint: config.endpoint ?? null } });
    }
    const groups = groupByStream(items);
    const results = await Promise.all(groups.map((group) => putGroup(group, context.signal, context.sinkId)));
    const outcomes: ItemOutcome[] = new Array<ItemOutcome>(items.length);
    groups.forEach((group, g) => {
      const result = results[g];
      if (result !== undefined) for (const index of group.indexes) outcomes[index] = result.outcome;
    });
    const bytes = results.reduce((sum, r) => sum + r.bytes, 0);
    // The batch's status: the first failure's, else the last success's.
    const status = (results.find((r) => r.outcome.outcome !== 'success') ?? results[results.length - 1])?.status;
    return done(outcomes, {
      bytes,
      ...(status === undefined ? {} : { status }),
      detail: { bucket: config.bucket, keys: results.map((r) => r.key) },
    });
  }

  return {
    kind: 's3',
    maxBatchEvents: config.maxBatchEvents,
    deliver,
    close() {
      if (!closed) {
        closed = true;
        void loaded?.then(
          ({ client }) => client.destroy(),
          () => undefined,
        );
        httpAgent.destroy();
        httpsAgent.destroy();
      }
      return Promise.resolve();
    },
  };
}

/** The line written for one item (docs/delivery-targets.md, "body"). */
function lineOf(item: DeliveryItem, body: S3TargetConfig['body']): unknown {
  return body === 'payload' ? item.payload : item.event;
}

function aborted(): ItemOutcome {
  return { outcome: 'retry', error: 'attempt aborted' };
}

function guardOutcome(err: unknown): ItemOutcome {
  const refused = guardRefusal(err);
  if (refused !== undefined) return { outcome: 'permanent', error: `${refused.code}: ${refused.message}` };
  return { outcome: 'retry', error: describe(err) };
}

interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** What a failed PutObject means for its events. */
export function s3Outcome(err: unknown, signal?: AbortSignal): ItemOutcome {
  if (signal?.aborted === true) return aborted();
  const refused = guardRefusal(err);
  if (refused !== undefined) return { outcome: 'permanent', error: `${refused.code}: ${refused.message}` };
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkError;
  const code = e.Code ?? e.name ?? e.code ?? 'Error';
  if (code === 'AbortError') return aborted();
  const status = e.$metadata?.httpStatusCode;
  const error =
    status === undefined
      ? describe(err)
      : `S3 ${status} ${code}${e.message !== undefined && e.message !== code ? `: ${e.message}` : ''}`;
  const retryAfterMs = parseRetryAfter(e.$response?.headers?.['retry-after'], new Date());
  const extra = {
    ...(status === undefined ? {} : { status }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
  // No status: the request never got an answer (refused, reset, timed out, DNS) — try again.
  if (status === undefined || status >= 500 || status === 408 || status === 429 || RETRYABLE_CODES.has(code))
    return { outcome: 'retry', error, ...extra };
  return { outcome: 'permanent', error, ...extra };
}

function describe(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : '';
  return message === '' || message.startsWith(code) ? message || code : `${code}: ${message}`;
}

export const s3Target: TargetFactory<S3TargetConfig> = { kind: 's3', check, redact, verify, resolveSecrets, create };
