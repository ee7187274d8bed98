/**
 * The produce lane: the common native produce request, `POST /v1/streams/{name}/events`
 * with a JSON body from a key seen in the last few seconds, answered straight off node:http.
 *
 * Why: at ingest rates fastify's per-request machinery (route lookup, a dozen hooks, schema
 * checks, reply serialisation) cost more main-thread CPU than the produce itself, and the
 * main thread is what bounds single-event ingest (docs/benchmarks.md). The lane does the same
 * work with none of that machinery:
 * - the same gates: admission control (AdmissionGate) and per-key rate limits (RateGate);
 * - the same body parser (json-body.ts), produce code and answer text (native-produce.ts);
 * - the same problem answers, request ids, request logs and metrics.
 * A test sends the same requests both ways and compares the answers.
 *
 * Anything else goes to fastify untouched, before a byte of the body is read: other routes
 * and methods, a query string or an escaped stream name, CloudEvents binary mode, another
 * media type, a body without a length (chunked) or beyond the body limit, a missing, unknown,
 * unauthorised or not-yet-cached key, and requests arriving while the server shuts down.
 * Those are the rare and the failing cases; fastify answers them as it always has.
 * A tracing hook (`onRequestSpan`) sees the lane's requests as it sees fastify's: a span from
 * admission on, ended with the status, route and error code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyBaseLogger } from 'fastify';
import type { CoreServices } from '../core/services.js';
import type { Principal } from '../core/keys/key-service.js';
import type { RivuletMetrics } from '../observability/metrics.js';
import type { RequestSpanEnd, RequestSpanHook } from '../observability/trace-context.js';
import { requestIdOf } from '../observability/request-id.js';
import { toRivuletError } from './error-translation.js';
import { appendAnswerText, eventsOfJsonBody, fingerprintOf, mediaTypeOf, produceNative } from './native-produce.js';
import type { AdmissionGate } from './plugins/admission.js';
import { credentialsOf } from './plugins/auth.js';
import { corsHeadersOf, type CorsOptions } from './plugins/cors.js';
import { JSON_TYPES, parseJsonBody } from './plugins/json-body.js';
import { keyCaller, type RateGate } from './plugins/rate-limit.js';
import type { LoggedRequest } from './plugins/request-log.js';
import { childLoggerWithTrace, levelEnabled, traceOf } from './plugins/tracing.js';
import { logFailure, problemHeaders, problemOf } from './problem.js';

export interface ProduceLaneDeps {
  services: CoreServices;
  bodyLimit: number;
  maxJsonDepth: number;
  metrics: RivuletMetrics;
  admission?: AdmissionGate;
  rateLimit?: RateGate;
  /** the app's logger (with its request serializer); none means silent */
  logger?: FastifyBaseLogger;
  trustProxy: boolean;
  isShuttingDown(): boolean;
  /** a tracer's hook (docs/observability.md) */
  onRequestSpan?: RequestSpanHook;
  /** cross-origin access: the lane's answers carry the headers fastify's would */
  cors?: CorsOptions;
}

/** takes a request and answers true, or leaves it (unread) to the next handler and answers false */
export type RequestLane = (req: IncomingMessage, res: ServerResponse) => boolean;

const PREFIX = '/v1/streams/';
const SUFFIX = '/events';
/** the route template the metrics and logs name, as fastify's route does */
const ROUTE = '/v1/streams/:name/events';
const MAX_NAME = 200;

export function produceLane(deps: ProduceLaneDeps): RequestLane {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const stream = streamOf(req.url ?? '');
    if (stream === undefined || deps.isShuttingDown()) return false;
    const headers = req.headers;
    const mediaType = mediaTypeOf(headers['content-type']);
    if (!JSON_TYPES.includes(mediaType) || headers['ce-specversion'] !== undefined) return false;
    const length = Number(headers['content-length']);
    // without a length (chunked) or with none at all the general parser decides
    if (!(length > 0 && length <= deps.bodyLimit) || headers['transfer-encoding'] !== undefined) return false;
    const secret = credentialsOf(req);
    if (secret === undefined) return false;
    const principal = deps.services.keys.authenticate(secret);
    if (principal instanceof Promise) {
      // a key not seen lately: fastify's auth looks it up (and the lane takes the next request)
      principal.catch(() => undefined);
      return false;
    }
    if (principal === null || !principal.can('produce', stream)) return false;
    serve(deps, req, res, stream, mediaType, principal);
    return true;
  };
}

/** the stream a produce URL names, when it is plain (no query, no escapes) and of a valid length */
function streamOf(url: string): string | undefined {
  if (!url.startsWith(PREFIX) || !url.endsWith(SUFFIX)) return undefined;
  const name = url.slice(PREFIX.length, url.length - SUFFIX.length);
  if (name.length === 0 || name.length > MAX_NAME || /[/?#%]/.test(name)) return undefined;
  return name;
}

function serve(deps: ProduceLaneDeps, req: IncomingMessage, res: ServerResponse, stream: string, mediaType: string, principal: Principal): void {
  const startedAt = performance.now();
  const id = requestIdOf(req.headers['x-request-id']);
  const log = deps.logger ? childLoggerWithTrace(deps.logger, { reqId: id }, {}, req) : undefined;
  // fastify's request logging: a line as the request comes and one as it is answered
  const logRequests = log !== undefined && levelEnabled(log, 'info');
  if (logRequests) log.info({ req: loggedRequest(req, deps.trustProxy) }, 'incoming request');
  let counted = false;
  let endSpan: ((end: RequestSpanEnd) => void) | undefined;
  let errorCode: string | undefined;

  res.once('close', () => {
    if (counted) deps.admission!.release();
    const ms = performance.now() - startedAt;
    if (endSpan) {
      try {
        endSpan({ statusCode: res.writableFinished ? res.statusCode : 499, route: ROUTE, durationMs: ms, ...(errorCode ? { errorCode } : {}) });
      } catch (err) {
        log?.warn({ err }, 'onRequestSpan end hook failed');
      }
    }
    // an answer cut off by the client is not an answered request (as in fastify)
    if (!res.writableFinished) return;
    const seconds = ms / 1000;
    deps.metrics.request('POST', ROUTE, res.statusCode, seconds);
    deps.metrics.produceLane.inc();
    if (logRequests) log.info({ res: { statusCode: res.statusCode }, responseTime: seconds * 1000 }, 'request completed');
  });

  const send = (status: number, headers: Record<string, string | number>, text: string, close = false) => {
    if (deps.cors) Object.assign(headers, corsHeadersOf(deps.cors, req.headers.origin));
    headers['x-request-id'] = id;
    headers['content-length'] = Buffer.byteLength(text);
    // a kept-alive connection would hold a draining server open until the client lets go
    if (close || deps.isShuttingDown()) headers.connection = 'close';
    res.writeHead(status, headers).end(text);
  };
  // `close`: after a body that did not parse, as fastify does (it cannot know where that body ended)
  const fail = (err: unknown, close = false) => {
    const error = toRivuletError(err);
    errorCode = error.code;
    const problem = problemOf(error, id);
    if (log) logFailure({ log }, error, problem.status);
    send(problem.status, { 'content-type': 'application/problem+json; charset=utf-8', ...problemHeaders(error, problem.status) }, JSON.stringify(problem), close);
  };

  const refused = deps.admission?.admit(true);
  if (refused) return fail(refused);
  counted = deps.admission !== undefined;
  // after admission, as in fastify, where shedding comes before the tracing hook
  if (deps.onRequestSpan) {
    try {
      const end = deps.onRequestSpan({ trace: traceOf(req), requestId: id, method: 'POST', path: req.url ?? '', startedAt: new Date() });
      if (typeof end === 'function') endSpan = end;
    } catch (err) {
      log?.warn({ err }, 'onRequestSpan hook failed');
    }
  }
  const limited = deps.rateLimit?.admit(keyCaller(principal.key.id));
  if (limited) return fail(limited);

  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  // a client gone mid-body: nothing to answer; the response's close releases what was held
  req.on('error', () => undefined);
  req.on('end', () => {
    let body: unknown;
    try {
      body = parseJsonBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), deps.maxJsonDepth);
    } catch (err) {
      return fail(err, true);
    }
    produceNative(deps.services, {
      stream,
      headers: req.headers,
      events: (ctx) => eventsOfJsonBody(mediaType, body, ctx),
      fingerprint: () => fingerprintOf(req.headers, body, undefined),
    }).then((result) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8' };
      if (result.replayed) headers['idempotent-replayed'] = 'true';
      send(201, headers, appendAnswerText(result));
    }, fail);
  });
}

/** the request as its log line shows it; `--trust-proxy` reads the client from X-Forwarded-* as fastify does */
function loggedRequest(req: IncomingMessage, trustProxy: boolean): LoggedRequest {
  const socket = req.socket;
  const base = { method: 'POST', url: req.url ?? '', socket };
  if (!trustProxy) return { ...base, host: req.headers.host ?? '', ip: socket.remoteAddress };
  const addresses = proxyAddr.all(req, () => true);
  const forwardedHost = req.headers['x-forwarded-host'];
  const host = typeof forwardedHost === 'string' && forwardedHost ? forwardedHost.slice(forwardedHost.lastIndexOf(',') + 1).trim() : req.headers.host ?? '';
  return { ...base, host, ip: addresses[addresses.length - 1] };
}
