/**
 * Checks of the iFLUX resources' input, field by field: VALIDATION_FAILED with a JSON Pointer
 * naming the field. Rule conditions and actions are checked (and their expressions compiled)
 * by compileRule in match.ts; what is checked here is everything around them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { RivuletError } from '../../kernel/errors.js';
import { FIELD_LIMITS } from '../events/event-fields.js';
import type { PolicyInput } from '../sinks/sink-model.js';
import { assertStreamName } from '../streams/stream-name.js';
import type { ActionAuth, RuleActionRef, RuleConditionRef } from './rule-model.js';

/** Resource ids are path segments and part of sink and stream names: no dots, at most 64. */
const RESOURCE_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
/** Public identifiers of event sources: what follows `/event-sources/`. */
const PUBLIC_ID = /^[A-Za-z0-9_-]{1,64}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'authorization',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function invalid(message: string, pointer: string): RivuletError {
  return new RivuletError('VALIDATION_FAILED', message, { details: { pointer } });
}

export function newResourceId(): string {
  return randomUUID();
}

/** 12 characters of base32, like iFLUX's generated identifiers (`JI8928JFK…`). */
export function newPublicId(): string {
  const bytes = randomBytes(12);
  return Array.from(bytes, (b) => BASE32[b % 32]).join('');
}

export function checkId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !RESOURCE_ID.test(value)) {
    throw invalid(`${what} id must be 1–64 letters, digits, "_" or "-", starting with a letter, digit or "_"`, '/id');
  }
  return value;
}

export function checkPublicId(value: unknown): string {
  if (typeof value !== 'string' || !PUBLIC_ID.test(value))
    throw invalid('publicId must be 1–64 letters, digits, "_" or "-"', '/publicId');
  return value;
}

export function checkText(
  value: unknown,
  pointer: string,
  options: { max: number; required?: boolean; fallback?: string },
): string {
  if (value === undefined || value === null) {
    if (options.required === true) throw invalid(`${pointer.slice(1)} is required`, pointer);
    return options.fallback ?? '';
  }
  if (typeof value !== 'string') throw invalid(`${pointer.slice(1)} must be a string`, pointer);
  if (value.length > options.max)
    throw invalid(`${pointer.slice(1)} must be at most ${options.max} characters`, pointer);
  if (options.required === true && value.trim() === '') throw invalid(`${pointer.slice(1)} must not be empty`, pointer);
  return value;
}

/** An event type's reference, as events carry it in `type`. */
export function checkEventTypeName(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > FIELD_LIMITS.type || CONTROL.test(value)) {
    throw invalid(
      `type must be 1–${FIELD_LIMITS.type} characters without control characters, e.g. "/eventTypes/temperature"`,
      '/type',
    );
  }
  return value;
}

export function checkActionUrl(value: unknown): string {
  const fail = (why: string) => invalid(`url ${why}`, '/url');
  if (typeof value !== 'string' || value === '') throw fail('must be an http(s) URL');
  if (value.length > 2000) throw fail('must be at most 2000 characters');
  // the http target reads braces as a URL template; an action target's URL is fixed
  if (value.includes('{') || value.includes('}')) throw fail('must not contain "{" or "}"');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail(`is not a valid URL: ${JSON.stringify(value.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail('must use http or https');
  if (url.username !== '' || url.password !== '') throw fail('must not carry credentials; use "auth"');
  return value;
}

export function checkMethod(value: unknown): 'POST' | 'PUT' | 'PATCH' {
  if (value === undefined || value === null) return 'POST';
  const upper = typeof value === 'string' ? value.toUpperCase() : value;
  if (upper !== 'POST' && upper !== 'PUT' && upper !== 'PATCH')
    throw invalid('method must be POST, PUT or PATCH (an action has a body)', '/method');
  return upper;
}

export function checkAuth(value: unknown): ActionAuth | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('auth must be {"type": "basic", "user", "password"} or {"type": "bearer", "token"}', '/auth');
  const a = value as Record<string, unknown>;
  const secret = (field: string) => {
    const v = a[field];
    if (typeof v !== 'string' || v === '' || v.length > 4096 || CONTROL.test(v))
      throw invalid(`auth.${field} must be a non-empty string without control characters`, `/auth/${field}`);
    return v;
  };
  const only = (fields: string[]) => {
    for (const k of Object.keys(a))
      if (!fields.includes(k)) throw invalid(`auth.${k} is not a field of ${String(a.type)} auth`, `/auth/${k}`);
  };
  if (a.type === 'basic') {
    only(['type', 'user', 'password']);
    const user = secret('user');
    if (user.includes(':')) throw invalid('auth.user must not contain ":"', '/auth/user');
    return { type: 'basic', user, password: secret('password') };
  }
  if (a.type === 'bearer') {
    only(['type', 'token']);
    const token = secret('token');
    if (/\s/.test(token))
      throw invalid('auth.token must not contain spaces (the "Bearer" scheme is added)', '/auth/token');
    return { type: 'bearer', token };
  }
  throw invalid('auth.type must be "basic" or "bearer"', '/auth/type');
}

export function checkHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('headers must be an object of name → value', '/headers');
  const out: Record<string, string> = {};
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 50) throw invalid('at most 50 headers', '/headers');
  for (const [name, v] of entries) {
    const pointer = `/headers/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (!HEADER_NAME.test(name)) throw invalid(`"${name.slice(0, 100)}" is not a valid header name`, pointer);
    if (RESERVED_HEADERS.has(name.toLowerCase()))
      throw invalid(`header "${name}" is set by Rivulet (use "auth" for credentials)`, pointer);
    if (typeof v !== 'string' || v.length > 8192 || CONTROL.test(v))
      throw invalid(`header "${name}" must be a string without control characters`, pointer);
    out[name.toLowerCase()] = v;
  }
  return out;
}

export function checkSigning(value: unknown): { secrets: string[] } | null {
  if (value === undefined || value === null) return null;
  const secrets = (value as { secrets?: unknown }).secrets;
  if (
    typeof value !== 'object' ||
    Array.isArray(value) ||
    !Array.isArray(secrets) ||
    secrets.length === 0 ||
    secrets.length > 5 ||
    Object.keys(value).some((k) => k !== 'secrets')
  ) {
    throw invalid('signing must be {"secrets": [1–5 webhook secrets "whsec_…"]}', '/signing/secrets');
  }
  secrets.forEach((s, i) => {
    if (typeof s !== 'string') throw invalid('a signing secret must be a string "whsec_…"', `/signing/secrets/${i}`);
  });
  return { secrets: secrets as string[] };
}

export function checkStreams(value: unknown, fallback: string): string[] {
  if (value === undefined || value === null) return [fallback];
  if (!Array.isArray(value) || value.length === 0 || value.length > 20)
    throw invalid('streams must list 1–20 stream names', '/streams');
  const unique = [...new Set(value as unknown[])];
  unique.forEach((s, i) => {
    if (typeof s !== 'string') throw invalid('streams must be stream names', `/streams/${i}`);
    try {
      assertStreamName(s);
    } catch {
      throw invalid(`"${s.slice(0, 200)}" is not a valid stream name`, `/streams/${i}`);
    }
    if (s.startsWith('_rule.')) throw invalid('a rule cannot read the internal streams of rules', `/streams/${i}`);
  });
  return unique as string[];
}

export function checkDelivery(value: unknown): PolicyInput | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('delivery must be a delivery policy object (retry, timeoutMs, concurrency, rateLimit)', '/delivery');
  return value as PolicyInput;
}

/** The conditions and actions as stored: copies holding only the known fields. */
export function conditionRefs(conditions: RuleConditionRef[]): RuleConditionRef[] {
  return conditions.map((c) => ({
    ...(c.eventSourceId === undefined ? {} : { eventSourceId: c.eventSourceId }),
    ...(c.eventTypeId === undefined ? {} : { eventTypeId: c.eventTypeId }),
    ...(c.expression === undefined ? {} : { expression: c.expression }),
  }));
}

export function actionRefs(actions: RuleActionRef[]): RuleActionRef[] {
  return actions.map((a) => {
    if (a.actionTypeId.length > FIELD_LIMITS.type || CONTROL.test(a.actionTypeId)) {
      throw invalid(
        `actionTypeId must be at most ${FIELD_LIMITS.type} characters without control characters`,
        '/actions',
      );
    }
    return {
      actionTargetId: a.actionTargetId,
      actionTypeId: a.actionTypeId,
      ...(a.transform === undefined ? {} : { transform: a.transform }),
    };
  });
}
