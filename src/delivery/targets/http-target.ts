/**
 * The `http` target: one request per event, built by seed 001's job model (method, URL
 * template, DataMap of JSONPath expressions, constant, query_params, json_body, basic_auth,
 * token, headers), or the whole event envelope as the body when there is no datamap.
 *
 * - `webhook-id` is the delivery id, the same on every retry and redelivery; with `signing`
 *   the request also carries Standard Webhooks `webhook-timestamp` and `webhook-signature`,
 *   one signature per secret (several secrets = rotation).
 * - Addresses are checked when the sink is saved (`verify`, for a URL whose host is fixed),
 *   before each request to an IP literal, and at connect time through the URL guard's
 *   `lookup` (DNS rebinding). Redirects are never followed (see backoff.ts).
 * - The engine's signal carries the timeout; the response body is drained and dropped.
 */
import { Agent, request } from 'undici';
import { isIP } from 'node:net';
import { RivuletError, isRivuletError } from '../../kernel/errors.js';
import type { JsonObject, StoredEvent } from '../../kernel/envelope.js';
import type { OmittedSecrets } from '../../core/sinks/sink-model.js';
import { compileJobRequest, type JobRequestPlanner, type JobRequestSpec } from '../../mapping/job-request.js';
import { classifyError, classifyResponse, parseRetryAfter } from '../backoff.js';
import { parseWebhookSecret, signWebhook } from '../signing.js';
import type { UrlGuard } from '../url-guard.js';
import { REDACTED, redactedHeaders } from '../../kernel/secret-names.js';
import { redactedUrl, redactedUrlsIn, restoredUrl } from '../../kernel/secret-urls.js';
import { invalidTarget, pointerOf } from './target-config.js';
import { configCopy, resolveHeaders, resolveSecret, resolveSigning, secretGroup } from './target-secrets.js';
import type {
  BatchOutcome,
  DeliverContext,
  DeliveryItem,
  DeliveryTarget,
  TargetDeps,
  TargetFactory,
} from './target.js';

export interface HttpTargetConfig extends JsonObject {
  kind: 'http';
  method: string;
  url: string;
  datamap: Record<string, string> | null;
  constant: JsonObject | null;
  query_params: string[] | null;
  json_body: string[] | null;
  basic_auth: { user: string; pw: string } | null;
  token: string | null;
  headers: Record<string, string>;
  signing: { secrets: string[] } | null;
}

const FIELDS = new Set([
  'kind',
  'method',
  'type',
  'url',
  'datamap',
  'constant',
  'query_params',
  'json_body',
  'basic_auth',
  'token',
  'headers',
  'signing',
]);

function jobSpec(config: HttpTargetConfig): JobRequestSpec {
  return {
    type: config.method,
    url: config.url,
    ...(config.datamap === null ? {} : { datamap: config.datamap }),
    ...(config.constant === null ? {} : { constant: config.constant }),
    ...(config.query_params === null ? {} : { query_params: config.query_params }),
    ...(config.json_body === null ? {} : { json_body: config.json_body }),
    ...(config.basic_auth === null ? {} : { basic_auth: config.basic_auth }),
    ...(config.token === null ? {} : { token: config.token }),
    headers: config.headers,
  };
}

function check(input: unknown): HttpTargetConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw invalidTarget('the http target configuration must be an object', '/target');
  // null means "not set": a normalised configuration (nulls for absent settings) checks again as itself
  const c = Object.fromEntries(Object.entries(input as Record<string, unknown>).filter(([, v]) => v !== null));
  for (const field of Object.keys(c))
    if (!FIELDS.has(field)) throw invalidTarget(`${field} is not a setting of the http target`, `/target/${field}`);
  const basic = c['basic_auth'] as { user?: unknown; pw?: unknown; password?: unknown } | undefined;
  const signing = c['signing'] as { secrets?: unknown } | undefined;
  if (
    signing !== undefined &&
    (typeof signing !== 'object' ||
      signing === null ||
      !Array.isArray(signing.secrets) ||
      signing.secrets.length === 0 ||
      signing.secrets.length > 5)
  ) {
    throw invalidTarget('signing needs "secrets": 1–5 webhook secrets ("whsec_…")', '/target/signing/secrets');
  }
  const secrets = (signing?.secrets ?? []) as unknown[];
  secrets.forEach((secret, i) => {
    try {
      parseWebhookSecret(secret as string);
    } catch (err) {
      throw invalidTarget((err as Error).message, `/target/signing/secrets/${i}`);
    }
  });
  const config: HttpTargetConfig = {
    kind: 'http',
    method: String(c['method'] ?? c['type'] ?? 'POST').toUpperCase(),
    url: c['url'] as string,
    datamap: (c['datamap'] as Record<string, string> | undefined) ?? null,
    constant: (c['constant'] as JsonObject | undefined) ?? null,
    query_params: (c['query_params'] as string[] | undefined) ?? null,
    json_body: (c['json_body'] as string[] | undefined) ?? null,
    basic_auth: basic === undefined ? null : { user: basic.user as string, pw: (basic.pw ?? basic.password) as string },
    token: (c['token'] as string | undefined) ?? null,
    headers: (c['headers'] as Record<string, string> | undefined) ?? {},
    signing: signing === undefined ? null : { secrets: secrets as string[] },
  };
  if (typeof config.url !== 'string') throw invalidTarget('url must be a URL template string', '/target/url');
  try {
    compileJobRequest(jobSpec(config));
  } catch (err) {
    if (!isRivuletError(err)) throw err;
    const pointer = typeof err.details?.pointer === 'string' ? err.details.pointer : '';
    throw invalidTarget(err.message, `/target${pointer === '/type' ? '/method' : pointer}`);
  }
  return config;
}

function redact(config: HttpTargetConfig): JsonObject {
  const headers = redactedHeaders(config.headers);
  return {
    ...config,
    url: redactedUrl(config.url),
    headers,
    basic_auth: config.basic_auth === null ? null : { user: config.basic_auth.user, pw: REDACTED },
    token: config.token === null ? null : REDACTED,
    signing: config.signing === null ? null : { secrets: config.signing.secrets.map(() => REDACTED) },
  };
}

/**
 * The secrets of a configuration given on a change, against the stored one (target-secrets.ts):
 * `token`, `basic_auth.pw`, secret-looking headers and `signing.secrets` (by position, see
 * `resolveSigning`).
 */
function resolveSecrets(given: unknown, stored: HttpTargetConfig | null, omitted: OmittedSecrets): unknown {
  const config = configCopy(given);
  if (config === undefined) return given;
  if (typeof config['url'] === 'string') config['url'] = restoredUrl(config['url'], stored?.url, pointerOf(['url']));
  resolveSecret(config, 'token', stored?.token, omitted, []);
  const basic = secretGroup(config, 'basic_auth', stored?.basic_auth, omitted);
  if (basic !== undefined) {
    const field = basic['pw'] === undefined && basic['password'] !== undefined ? 'password' : 'pw';
    resolveSecret(basic, field, stored?.basic_auth?.pw, omitted, ['basic_auth']);
  }
  resolveHeaders(config, stored?.headers ?? {}, omitted);
  resolveSigning(config, stored?.signing, omitted);
  return config;
}

/** At save time: a URL whose host the template does not fill is checked against the guard now. */
async function verify(config: HttpTargetConfig, deps: TargetDeps): Promise<void> {
  const hostPart = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(config.url)?.[1] ?? '';
  if (hostPart.includes('{')) return;
  try {
    await deps.urlGuard.check(config.url.replace(/\{[^}]*\}/g, 'x'));
  } catch (err) {
    if (isRivuletError(err) && err.code === 'TARGET_URL_FORBIDDEN')
      throw new RivuletError('TARGET_URL_FORBIDDEN', err.message, {
        details: { ...err.details, pointer: '/target/url' },
      });
    // a name that does not resolve now may resolve later: the connect-time check still applies
  }
}

/** The request `deliver` would make for an event whose data is the payload; secrets redacted. */
function preview(config: HttpTargetConfig, event: StoredEvent): JsonObject {
  const plan = compileJobRequest(jobSpec(config)).plan(event);
  const headers = redactedHeaders({ 'user-agent': 'Rivulet', ...plan.headers });
  if (headers['authorization'] !== undefined) headers['authorization'] = REDACTED;
  if (config.signing !== null) headers['webhook-signature'] = REDACTED;
  return { method: plan.method, url: redactedUrl(plan.url), headers, body: plan.body ?? null, notes: plan.notes };
}

class HttpTarget implements DeliveryTarget {
  readonly kind = 'http' as const;
  readonly maxBatchEvents = 1;
  private readonly planner: JobRequestPlanner;
  private readonly agent: Agent;
  private readonly literalChecks = new Map<string, Promise<unknown>>();
  /** the last URL sent to, parsed: most sinks send every event to the same one */
  private lastUrl: { text: string; url: URL; literal: boolean } | null = null;
  private closed: Promise<void> | null = null;

  constructor(
    private readonly config: HttpTargetConfig,
    private readonly guard: UrlGuard,
  ) {
    this.planner = compileJobRequest(jobSpec(config));
    this.agent = new Agent({ connect: { lookup: guard.lookup }, keepAliveTimeout: 4_000, connections: 512 });
  }

  async deliver(items: readonly DeliveryItem[], context: DeliverContext): Promise<BatchOutcome> {
    const item = items[0]!;
    const started = performance.now();
    let bytes = 0;
    try {
      const event: StoredEvent = { ...item.event, data: item.payload };
      const plan = this.planner.plan(event);
      const { url, literal } = this.parsed(plan.url);
      if (literal) await this.checkLiteral(url);
      const body = plan.body ?? '';
      bytes = Buffer.byteLength(body);
      const headers: Record<string, string> = { 'user-agent': 'Rivulet', ...plan.headers };
      if (this.config.signing !== null)
        Object.assign(
          headers,
          signWebhook({ id: item.deliveryId, timestamp: new Date(), body, secrets: this.config.signing.secrets }),
        );
      else headers['webhook-id'] = item.deliveryId;
      const res = await request(url, {
        method: plan.method,
        headers,
        body: plan.body,
        signal: context.signal,
        dispatcher: this.agent,
      });
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const latencyMs = performance.now() - started;
      const outcome = classifyResponse(res.statusCode);
      if (outcome === 'success') return { items: [{ outcome }], status: res.statusCode, latencyMs, bytes };
      const retryAfter = headerValue(res.headers['retry-after']);
      const retryAfterMs = outcome === 'retry' ? parseRetryAfter(retryAfter, new Date()) : undefined;
      return {
        items: [
          {
            outcome,
            error: `HTTP ${res.statusCode}`,
            status: res.statusCode,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          },
        ],
        status: res.statusCode,
        latencyMs,
        bytes,
      };
    } catch (err) {
      return {
        items: [{ outcome: classifyError(err), error: describeError(err) }],
        latencyMs: performance.now() - started,
        bytes,
      };
    }
  }

  private parsed(text: string): { url: URL; literal: boolean } {
    if (this.lastUrl?.text !== text) {
      const url = new URL(text);
      this.lastUrl = { text, url, literal: isIP(url.hostname.replace(/^\[(.*)\]$/, '$1')) !== 0 };
    }
    return this.lastUrl;
  }

  private checkLiteral(url: URL): Promise<unknown> {
    let check = this.literalChecks.get(url.host);
    if (check === undefined) {
      check = this.guard.check(url.toString());
      this.literalChecks.set(url.host, check);
    }
    return check;
  }

  close(): Promise<void> {
    this.closed ??= this.agent.close().catch(() => undefined);
    return this.closed;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** One line, never a stack: the error's code and message, or its cause's. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const e = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    const label = typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'Error';
    parts.push(typeof e.message === 'string' && e.message !== '' ? `${label}: ${e.message}` : label);
    current = e.cause;
  }
  // a transport error may quote the URL it was given: its secrets never reach the attempt log
  return redactedUrlsIn(parts.join(' ← ') || String(err)).slice(0, 500);
}

export const httpTarget: TargetFactory<HttpTargetConfig> & {
  verify: typeof verify;
  resolveSecrets: typeof resolveSecrets;
} = {
  kind: 'http',
  check,
  redact,
  verify,
  resolveSecrets,
  preview,
  create: (config, deps) => new HttpTarget(config, deps.urlGuard),
};
