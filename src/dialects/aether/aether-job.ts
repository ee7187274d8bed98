/**
 * The aether job (seed 001) and its translation to a sink: a job is an http sink with id
 * `aether-<job id>`, its topics are the sink's source streams, its request settings are the
 * http target's, `rate_limit` (seconds between requests) becomes the sink's rate limit, and
 * `modified` and `hash` live in the sink's labels. Checking the request settings themselves
 * (methods, URL template, JSONPath) is the http target's job; this file checks the shape.
 */
import { createHmac } from 'node:crypto';
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject, JsonValue } from '../../kernel/envelope.js';
import type { PolicyInput, SinkInput, SinkRecord, SinkTarget } from '../../core/sinks/sink-model.js';

/** Shown instead of a secret; posted back, it keeps the stored secret (see docs/dialects/aether.md). */
import { REDACTED } from '../../kernel/secret-names.js';
import { restoredUrl } from '../../kernel/secret-urls.js';
export const SINK_PREFIX = 'aether-';
/** The sink id is `aether-<job id>`, and sink ids are 1–100 of letters, digits, `_`, `-`. */
const JOB_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,92}$/;
const MAX_RATE_LIMIT = 86_400;

export interface AetherJob {
  id: string;
  owner: string;
  type: string;
  topic: string[];
  url: string;
  datamap?: Record<string, string>;
  constant?: JsonObject;
  query_params?: string[];
  json_body?: string[];
  basic_auth?: { user: string; pw: string };
  token?: string;
  headers?: Record<string, string>;
  /** seconds between requests; absent: as fast as the receiver takes them */
  rate_limit?: number;
}

/** The job's fields Rivulet keeps beside the sink. */
export interface AetherLabel {
  id: string;
  modified: string;
  hash: string;
  rate_limit: number | null;
}

const FIELDS = new Set([
  'id',
  'owner',
  'type',
  'topic',
  'url',
  'datamap',
  'constant',
  'query_params',
  'json_body',
  'basic_auth',
  'token',
  'headers',
  'rate_limit',
]);
/** generated or shown fields: a job read with GET can be posted back as it is */
const IGNORED = new Set(['modified', 'hash', 'status']);

const invalid = (message: string, pointer: string) =>
  new RivuletError('VALIDATION_FAILED', message, { details: { pointer } });

export function assertJobId(id: unknown): string {
  if (typeof id !== 'string' || !JOB_ID.test(id)) {
    throw invalid(
      `${JSON.stringify(String(id).slice(0, 120))} is not a valid job id: use 1–93 letters, digits, "_" or "-", starting with a letter, digit or "_"`,
      '/id',
    );
  }
  return id;
}

export const sinkIdOf = (jobId: string): string => `${SINK_PREFIX}${jobId}`;

export function labelOf(sink: SinkRecord): AetherLabel | null {
  const label = (sink.labels as { aether?: unknown })['aether'];
  if (!sink.id.startsWith(SINK_PREFIX) || typeof label !== 'object' || label === null) return null;
  return label as unknown as AetherLabel;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, pointer: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw invalid(`${pointer.slice(1)} must be a list of strings`, pointer);
  return value as string[];
}

/**
 * The job in a request body, its shape checked. `pathId` is the id in the URL (a body id must
 * agree with it); `defaultOwner` fills a missing owner.
 */
export function parseJob(body: unknown, pathId: string | undefined, defaultOwner: string): AetherJob {
  if (!isObject(body)) throw invalid('a job must be a JSON object', '');
  for (const field of Object.keys(body)) {
    if (!FIELDS.has(field) && !IGNORED.has(field)) throw invalid(`"${field}" is not a field of a job`, `/${field}`);
  }
  const id = assertJobId(body['id'] ?? pathId);
  if (pathId !== undefined && id !== pathId)
    throw invalid(`the body's id "${id}" is not the id in the path "${pathId}"`, '/id');
  const owner = body['owner'] ?? defaultOwner;
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > 200)
    throw invalid('owner must be a non-empty string', '/owner');
  const type = body['type'];
  if (typeof type !== 'string') throw invalid('type (the HTTP method) is required', '/type');
  const url = body['url'];
  if (typeof url !== 'string') throw invalid('url (the URL template) is required', '/url');
  const topicIn = body['topic'];
  const topic = typeof topicIn === 'string' ? [topicIn] : stringList(topicIn, '/topic');
  if (topic.length === 0) throw invalid('topic must name at least one stream', '/topic');
  const job: AetherJob = { id, owner, type: type.toUpperCase(), topic, url };
  const datamap = body['datamap'];
  if (datamap !== undefined && datamap !== null) {
    if (!isObject(datamap)) throw invalid('datamap must be an object of {key: JSONPath}', '/datamap');
    job.datamap = datamap as Record<string, string>;
  }
  if (body['constant'] !== undefined && body['constant'] !== null) {
    if (!isObject(body['constant'])) throw invalid('constant must be an object', '/constant');
    job.constant = body['constant'] as JsonObject;
  }
  if (body['query_params'] !== undefined && body['query_params'] !== null)
    job.query_params = stringList(body['query_params'], '/query_params');
  if (body['json_body'] !== undefined && body['json_body'] !== null)
    job.json_body = stringList(body['json_body'], '/json_body');
  const basic = body['basic_auth'];
  if (basic !== undefined && basic !== null) {
    const pw = isObject(basic) ? (basic['pw'] ?? basic['password']) : undefined;
    if (!isObject(basic) || typeof basic['user'] !== 'string' || typeof pw !== 'string')
      throw invalid('basic_auth needs "user" and "pw" strings', '/basic_auth');
    job.basic_auth = { user: basic['user'], pw };
  }
  if (body['token'] !== undefined && body['token'] !== null) {
    if (typeof body['token'] !== 'string') throw invalid('token must be a string', '/token');
    job.token = body['token'];
  }
  if (body['headers'] !== undefined && body['headers'] !== null) {
    const headers = body['headers'];
    if (!isObject(headers) || !Object.values(headers).every((v) => typeof v === 'string'))
      throw invalid('headers must be an object of strings', '/headers');
    job.headers = headers as Record<string, string>;
  }
  const rate = body['rate_limit'];
  if (rate !== undefined && rate !== null) {
    if (
      typeof rate !== 'number' ||
      !Number.isFinite(rate) ||
      rate < 0 ||
      rate > MAX_RATE_LIMIT ||
      (rate > 0 && rate < 0.000_001)
    ) {
      throw invalid(`rate_limit must be a number of seconds 0–${MAX_RATE_LIMIT} (0: no limit)`, '/rate_limit');
    }
    if (rate > 0) job.rate_limit = rate;
  }
  return job;
}

/** The stored job, secrets included (for merging and hashing; never answered). */
export function jobOf(sink: SinkRecord): AetherJob {
  const t = sink.target as SinkTarget & Record<string, JsonValue>;
  const label = labelOf(sink);
  const job: AetherJob = {
    id: label?.id ?? sink.id.slice(SINK_PREFIX.length),
    owner: sink.owner,
    type: String(t['method']),
    topic: [...sink.streams],
    url: String(t['url']),
  };
  if (isObject(t['datamap'])) job.datamap = t['datamap'] as Record<string, string>;
  if (isObject(t['constant'])) job.constant = t['constant'] as JsonObject;
  if (Array.isArray(t['query_params'])) job.query_params = t['query_params'] as string[];
  if (Array.isArray(t['json_body'])) job.json_body = t['json_body'] as string[];
  if (isObject(t['basic_auth'])) job.basic_auth = t['basic_auth'] as { user: string; pw: string };
  if (typeof t['token'] === 'string') job.token = t['token'];
  if (isObject(t['headers']) && Object.keys(t['headers']).length > 0)
    job.headers = t['headers'] as Record<string, string>;
  if (label?.rate_limit) job.rate_limit = label.rate_limit;
  return job;
}

/**
 * A posted job whose secrets are the redaction placeholder keeps the stored secrets, so a job
 * read with GET (secrets redacted) can be changed and posted back.
 */
export function keepStoredSecrets(job: AetherJob, stored: AetherJob | null): AetherJob {
  const out: AetherJob = { ...job };
  // the URL's own secrets (userinfo password, secret-named parameters) as every other secret
  if (typeof out.url === 'string') out.url = restoredUrl(out.url, stored?.url, '/url');
  if (out.basic_auth?.pw === REDACTED) {
    if (stored?.basic_auth === undefined)
      throw invalid(`basic_auth.pw is "${REDACTED}" but there is no stored password to keep`, '/basic_auth/pw');
    out.basic_auth = { user: out.basic_auth.user, pw: stored.basic_auth.pw };
  }
  if (out.token === REDACTED) {
    if (stored?.token === undefined)
      throw invalid(`token is "${REDACTED}" but there is no stored token to keep`, '/token');
    out.token = stored.token;
  }
  if (out.headers !== undefined) {
    out.headers = Object.fromEntries(
      Object.entries(out.headers).map(([name, value]) => {
        if (value !== REDACTED) return [name, value];
        const kept = Object.entries(stored?.headers ?? {}).find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
        if (kept === undefined)
          throw invalid(`header "${name}" is "${REDACTED}" but there is no stored value to keep`, `/headers/${name}`);
        return [name, kept];
      }),
    );
  }
  return out;
}

/** Keys sorted at every level, so equal jobs give equal text whatever order they were written in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

/**
 * The job's hash: HMAC-SHA-256 of its defining fields (secrets included, so a changed password
 * changes it) under a key only the server holds, so the hash cannot be used to guess a secret.
 */
export function hashJob(job: AetherJob, key: Buffer): string {
  const headers =
    job.headers === undefined
      ? undefined
      : Object.fromEntries(Object.entries(job.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return createHmac('sha256', key)
    .update(canonical({ ...job, ...(headers === undefined ? {} : { headers }) }))
    .digest('hex');
}

/** The job's optional request fields the http target's planner reads, those it gives. */
export function requestFieldsOf(
  job: AetherJob,
): Pick<AetherJob, 'datamap' | 'constant' | 'query_params' | 'json_body' | 'basic_auth' | 'token' | 'headers'> {
  return {
    ...(job.datamap === undefined ? {} : { datamap: job.datamap }),
    ...(job.constant === undefined ? {} : { constant: job.constant }),
    ...(job.query_params === undefined ? {} : { query_params: job.query_params }),
    ...(job.json_body === undefined ? {} : { json_body: job.json_body }),
    ...(job.basic_auth === undefined ? {} : { basic_auth: job.basic_auth }),
    ...(job.token === undefined ? {} : { token: job.token }),
    ...(job.headers === undefined ? {} : { headers: job.headers }),
  };
}

/** The sink a job is: defaults of `base` first, then what the job says. */
export function sinkInputOf(job: AetherJob, label: AetherLabel, base: PolicyInput = {}): SinkInput & { id: string } {
  const target: SinkTarget = { kind: 'http', method: job.type, url: job.url, ...requestFieldsOf(job) };
  return {
    id: sinkIdOf(job.id),
    description: `aether job ${job.id}`,
    streams: job.topic,
    target,
    // one request after the other, in the topic's order, as the original's one thread per job did
    policy: {
      ...base,
      ordering: 'ordered',
      rateLimit: job.rate_limit === undefined ? null : { perSecond: 1 / job.rate_limit, burst: 1 },
    },
    labels: { dialect: 'aether', aether: { ...label } },
  };
}
