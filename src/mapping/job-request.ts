/**
 * Seed 001's job model turned into one HTTP request per event.
 *
 * A job names an HTTP method (`type`), a URL template, a DataMap of JSONPath expressions and
 * what to do with the mapped values: fill the URL's `{key}` placeholders, become query
 * parameters (`query_params`), become a JSON body (`json_body`). The expressions see
 *
 *   { schema: {name, version}, msg: <event data>, constant: <job constant>, event: <envelope without data> }
 *
 * `schema`, `msg` and `constant` are what the original consumer offered (its `schema` was the
 * Avro schema, hence the seed's `$.schema.name`); `event` adds the envelope (id, stream, seq,
 * type, source, time, …) without repeating the data, which is at `$.msg`.
 *
 * Everything here is pure: the sink worker and the mapping dry-run call the same functions.
 * Configuration mistakes are found by `compileJobRequest` (when a job is saved); a per-event
 * mistake (a URL placeholder the event did not fill) is a BAD_REQUEST naming the key.
 */
import { RivuletError } from '../kernel/errors.js';
import type { JsonObject, StoredEvent } from '../kernel/envelope.js';
import { compileDataMap } from './datamap.js';
import type { CompiledDataMap, DataMapDocument } from './datamap.js';
import { asText, compileUrlTemplate } from './url-template.js';
import type { CompiledUrlTemplate } from './url-template.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
/** Only these methods carry `json_body` or the whole event as a body. */
const METHODS_WITH_BODY: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'PATCH']);

export interface BasicAuth {
  user: string;
  /** the seed's name for the password */
  pw?: string;
  /** the name the original implementation read; accepted when `pw` is absent */
  password?: string;
}

export interface JobRequestSpec {
  /** HTTP method */
  type: string;
  /** URL template: `{key}` placeholders take datamap values */
  url: string;
  /** key → JSONPath; without one, the whole event envelope is the body */
  datamap?: Record<string, string>;
  constant?: Record<string, unknown>;
  /** datamap keys to send as query parameters */
  query_params?: string[];
  /** datamap keys to send as a JSON object body (POST, PUT, PATCH) */
  json_body?: string[];
  basic_auth?: BasicAuth;
  /** sent as `Authorization: access_token <token>`, or verbatim when it carries its own scheme */
  token?: string;
  headers?: Record<string, string>;
}

export interface JobRequest {
  method: HttpMethod;
  url: string;
  /** lower-case names */
  headers: Record<string, string>;
  body?: string;
}

export interface JobRequestPlan extends JobRequest {
  /** the datamap's output; null when the job has no datamap */
  mapped: Record<string, unknown> | null;
  /** things a person checking the mapping should know: keys that matched nothing, ignored settings */
  notes: string[];
}

export interface JobRequestPlanner {
  plan(event: StoredEvent, schemaName?: string): JobRequestPlan;
}

/** Checks the whole job once and returns a planner that builds one request per event. */
export function compileJobRequest(spec: JobRequestSpec): JobRequestPlanner {
  if (typeof spec !== 'object' || spec === null) throw badSpec('the job must be an object', '');
  const method = parseMethod(spec.type);
  const template = compileUrlTemplate(spec.url);
  const datamap = spec.datamap === undefined ? null : compileDataMap(spec.datamap);
  const queryKeys = keyList(spec.query_params, 'query_params');
  const bodyKeys = spec.json_body === undefined ? null : keyList(spec.json_body, 'json_body');
  const constant = parseConstant(spec.constant);
  const fixedNotes: string[] = [];
  const headers = buildHeaders(spec, fixedNotes);
  checkTemplateScheme(template);
  if (datamap === null) requireNoMappedKeys(template, queryKeys, bodyKeys);
  if (bodyKeys !== null && !METHODS_WITH_BODY.has(method))
    fixedNotes.push(`json_body is ignored: ${method} requests carry no body`);
  const job: CompiledJob = { method, template, datamap, queryKeys, bodyKeys, constant, headers, fixedNotes };
  return Object.freeze({ plan: (event: StoredEvent, schemaName?: string) => planCompiled(job, event, schemaName) });
}

/** The request `spec` gives for `event`; what the sink worker sends and the mapping dry-run shows. */
export function planJobRequest(spec: JobRequestSpec, event: StoredEvent, schemaName?: string): JobRequestPlan {
  return compileJobRequest(spec).plan(event, schemaName);
}

/** The request without a datamap: the URL as written, the whole event envelope as the body. */
export function jobRequestFromWholeEvent(spec: Omit<JobRequestSpec, 'datamap'>, event: StoredEvent): JobRequestPlan {
  const { datamap: _ignored, ...rest } = spec as JobRequestSpec;
  return planJobRequest(rest, event);
}

/** The document the datamap's expressions are evaluated against. */
export function mappingDocument(
  event: StoredEvent,
  schemaName: string | undefined,
  constant: JsonObject,
): DataMapDocument {
  const { data, ...envelope } = eventEnvelope(event);
  return {
    schema: { name: schemaName ?? event.type, version: event.schemaVersion },
    msg: data,
    constant,
    event: envelope,
  };
}

/** The stored event as JSON, fields in a fixed order and nothing else. */
export function eventEnvelope(event: StoredEvent): JsonObject {
  return {
    id: event.id,
    stream: event.stream,
    seq: event.seq,
    typeSeq: event.typeSeq,
    type: event.type,
    source: event.source,
    time: event.time,
    received: event.received,
    producer: event.producer,
    schemaVersion: event.schemaVersion,
    data: event.data,
    meta: event.meta,
  };
}

// ---------------------------------------------------------------------------------------

interface CompiledJob {
  method: HttpMethod;
  template: CompiledUrlTemplate;
  datamap: CompiledDataMap | null;
  queryKeys: string[];
  bodyKeys: string[] | null;
  constant: JsonObject;
  headers: Record<string, string>;
  fixedNotes: string[];
  /** without a datamap the URL depends on nothing in the event (requireNoMappedKeys): rendered once */
  fixedUrl?: string;
}

function planCompiled(job: CompiledJob, event: StoredEvent, schemaName: string | undefined): JobRequestPlan {
  const notes = [...job.fixedNotes];
  const headers = { ...job.headers };
  const mapped = job.datamap === null ? null : job.datamap.apply(mappingDocument(event, schemaName, job.constant));
  for (const key of job.datamap?.keys ?? []) {
    if (mapped !== null && !Object.hasOwn(mapped, key))
      notes.push(`datamap key "${key}" matched nothing, so it is left out`);
  }
  let url: string;
  if (mapped === null) {
    url = job.fixedUrl ??= renderedUrl(job.template, {}).toString();
  } else {
    const rendered = renderedUrl(job.template, mapped);
    appendQuery(rendered, job.queryKeys, mapped, notes);
    url = rendered.toString();
  }
  const body = requestBody(job, event, mapped, notes);
  if (body !== undefined && !Object.hasOwn(headers, 'content-type')) headers['content-type'] = 'application/json';
  return { method: job.method, url, headers, ...(body === undefined ? {} : { body }), mapped, notes };
}

function renderedUrl(template: CompiledUrlTemplate, values: Record<string, unknown>): URL {
  const rendered = template.render(values);
  try {
    return new URL(rendered);
  } catch {
    throw badSpec(`URL template gave ${JSON.stringify(rendered)} for this event, which is not a valid URL`, '/url', {
      url: rendered,
    });
  }
}

function requestBody(
  job: CompiledJob,
  event: StoredEvent,
  mapped: Record<string, unknown> | null,
  notes: string[],
): string | undefined {
  if (!METHODS_WITH_BODY.has(job.method)) return undefined;
  if (mapped === null) return JSON.stringify(eventEnvelope(event));
  if (job.bodyKeys === null) return undefined;
  const entries: Array<[string, unknown]> = [];
  for (const key of job.bodyKeys) {
    if (Object.hasOwn(mapped, key)) entries.push([key, mapped[key]]);
    else notes.push(`json_body key "${key}" skipped: the datamap produced no value for it`);
  }
  return JSON.stringify(Object.fromEntries(entries));
}

/** As the original (python-requests) did: lists repeat the parameter, nulls are left out. */
function appendQuery(url: URL, keys: string[], mapped: Record<string, unknown>, notes: string[]): void {
  for (const key of keys) {
    if (!Object.hasOwn(mapped, key)) {
      notes.push(`query parameter "${key}" skipped: the datamap produced no value for it`);
      continue;
    }
    const value = mapped[key];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== null) url.searchParams.append(key, asText(item));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Checking the job
// ---------------------------------------------------------------------------------------

function badSpec(message: string, pointer: string, details: Record<string, unknown> = {}): RivuletError {
  return new RivuletError('BAD_REQUEST', message, { details: { pointer, ...details } });
}

function parseMethod(type: unknown): HttpMethod {
  const method = typeof type === 'string' ? type.toUpperCase() : '';
  const known = HTTP_METHODS.find((m) => m === method);
  if (known === undefined)
    throw badSpec(`job type must be one of ${HTTP_METHODS.join(', ')}; got ${JSON.stringify(type)}`, '/type');
  return known;
}

function keyList(keys: unknown, field: string): string[] {
  if (keys === undefined) return [];
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string'))
    throw badSpec(`${field} must be a list of datamap keys`, `/${field}`);
  return [...keys];
}

function parseConstant(constant: unknown): JsonObject {
  if (constant === undefined) return {};
  if (typeof constant !== 'object' || constant === null || Array.isArray(constant))
    throw badSpec('constant must be an object', '/constant');
  return constant as JsonObject;
}

/** Fails early on a template that can never give an http(s) URL. */
function checkTemplateScheme(template: CompiledUrlTemplate): void {
  const sample = template.render(Object.fromEntries(template.keys.map((key) => [key, 'x'])));
  let protocol: string;
  try {
    protocol = new URL(sample).protocol;
  } catch {
    throw badSpec(`URL template ${JSON.stringify(template.template)} does not give an absolute URL`, '/url');
  }
  if (protocol !== 'http:' && protocol !== 'https:')
    throw badSpec(`URL template must give an http or https URL, not ${protocol}`, '/url');
}

function requireNoMappedKeys(template: CompiledUrlTemplate, queryKeys: string[], bodyKeys: string[] | null): void {
  if (template.keys.length > 0)
    throw badSpec(`URL template uses "{${template.keys[0]}}" but the job has no datamap`, '/url');
  if (queryKeys.length > 0)
    throw badSpec('query_params names datamap keys but the job has no datamap', '/query_params');
  if (bodyKeys !== null)
    throw badSpec(
      'json_body names datamap keys but the job has no datamap (without one the whole event is the body)',
      '/json_body',
    );
}

const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A value with control characters (tab aside) could split the header (CR/LF) or be refused by the client. */
function hasControlChars(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}
/** Set by the HTTP client from the request itself, or by the sink's signing. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

function buildHeaders(spec: JobRequestSpec, notes: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    const lower = name.toLowerCase();
    const pointer = `/headers/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (!TOKEN_CHARS.test(name))
      throw badSpec(`header name ${JSON.stringify(name)} is not a valid HTTP field name`, pointer);
    if (RESERVED_HEADERS.has(lower))
      throw badSpec(`header "${lower}" is set by Rivulet and cannot be configured`, pointer);
    if (typeof value !== 'string' || hasControlChars(value))
      throw badSpec(`header "${lower}" must be a string without control characters`, pointer);
    headers[lower] = value;
  }
  const authorization = authorizationHeader(spec, notes);
  if (authorization !== undefined) {
    if (Object.hasOwn(headers, 'authorization')) notes.push('the authorization header is replaced by basic_auth/token');
    headers['authorization'] = authorization;
  }
  return headers;
}

function authorizationHeader(spec: JobRequestSpec, notes: string[]): string | undefined {
  if (spec.basic_auth !== undefined) {
    // As in the original, where the client's basic auth replaced any token header.
    if (spec.token !== undefined) notes.push('token is ignored: basic_auth takes precedence');
    return basicAuthorization(spec.basic_auth);
  }
  if (spec.token !== undefined) return tokenAuthorization(spec.token);
  return undefined;
}

function basicAuthorization(auth: BasicAuth): string {
  const password = auth?.pw ?? auth?.password;
  if (typeof auth?.user !== 'string' || typeof password !== 'string')
    throw badSpec('basic_auth needs "user" and "pw" strings', '/basic_auth');
  // RFC 7617: the user-id cannot contain a colon, the first colon separates it from the password.
  if (auth.user.includes(':')) throw badSpec('basic_auth user cannot contain ":"', '/basic_auth/user');
  if (hasControlChars(auth.user) || hasControlChars(password))
    throw badSpec('basic_auth cannot contain control characters', '/basic_auth');
  return `Basic ${Buffer.from(`${auth.user}:${password}`, 'utf8').toString('base64')}`;
}

/** `<scheme> <credentials>`, e.g. "Bearer abc…": a token given that way is sent as it is. */
const HAS_SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ +\S/;

function tokenAuthorization(token: unknown): string {
  if (typeof token !== 'string' || token.trim().length === 0 || hasControlChars(token)) {
    throw badSpec('token must be a non-empty string without control characters', '/token');
  }
  const trimmed = token.trim();
  // `access_token` is the scheme the original consumer sent a bare token with.
  return HAS_SCHEME.test(trimmed) ? trimmed : `access_token ${trimmed}`;
}
