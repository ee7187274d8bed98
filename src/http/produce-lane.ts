/**
 * The produce lane: the common native produce request, `POST /v1/streams/{name}/events`
 * with a JSON body from a key seen in the last few seconds, answered straight off node:http.
 *
 * Why: at ingest rates fastify's per-request machinery (route lookup, a dozen hooks, schema
 * checks, reply serialisation) cost more main-thread CPU than the produce itself, and the
 * main thread is what bounds single-event ingest (docs/benchmarks.md). The lane does the same
 * work with none of that machinery:
 * - the same per-request steps as fastify's hooks, from the same module (request-pipeline.ts):
 *   request id, answer headers (draining, CORS), admission, tracing span, metrics, both log lines;
 * - the same checks: credentials (one, unambiguous: auth.ts), scope, per-key rate limit (RateGate);
 * - the same body parser (json-body.ts), produce code and answer text (native-produce.ts);
 * - the same problem answers.
 * Tests send the same requests both ways and compare the answers, and list every global hook
 * of the app to prove the lane applies each (test/int/request-pipeline.int.test.ts).
 *
 * Anything else goes to fastify untouched, before a byte of the body is read: other routes
 * and methods, a query string or an escaped stream name, CloudEvents binary mode, another
 * media type, a body without a length (chunked) or beyond the body limit, a missing, unknown,
 * unauthorised or not-yet-cached key, and requests arriving while the server shuts down.
 * Those are the rare and the failing cases; fastify answers them as it always has.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CoreServices } from '../core/services.js';
import type { Principal } from '../core/keys/key-service.js';
import { toRivuletError } from './error-translation.js';
import { appendAnswerText, eventsOfJsonBody, fingerprintOf, mediaTypeOf, produceNative } from './native-produce.js';
import { credentialsOf } from './plugins/auth.js';
import { JSON_TYPES, parseJsonBody } from './plugins/json-body.js';
import { keyCaller, type RateGate } from './plugins/rate-limit.js';
import { childLoggerWithTrace } from './plugins/tracing.js';
import { logFailure, problemHeaders, problemOf } from './problem.js';
import type { RequestPipeline, SpanEnd } from './request-pipeline.js';

export interface ProduceLaneDeps {
  services: Pick<CoreServices, 'clock' | 'keys' | 'produce'>;
  bodyLimit: number;
  maxJsonDepth: number;
  /** the per-request steps fastify's hooks take too: ids, answer headers, admission, tracing, metrics, logs */
  pipeline: RequestPipeline;
  rateLimit?: RateGate;
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
    if (stream === undefined || deps.pipeline.isShuttingDown()) return false;
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

function serve(
  deps: ProduceLaneDeps,
  req: IncomingMessage,
  res: ServerResponse,
  stream: string,
  mediaType: string,
  principal: Principal,
): void {
  const pipeline = deps.pipeline;
  const startedAt = performance.now();
  const id = pipeline.requestId(req);
  const log = pipeline.logger ? childLoggerWithTrace(pipeline.logger, { reqId: id }, {}, req) : undefined;
  // fastify's request logging: a line as the request comes and one as it is answered
  const logRequests = pipeline.logsRequests(log);
  if (logRequests) pipeline.logIncoming(log, pipeline.loggedRequest(req, 'POST'));
  let counted = false;
  // set once admitted (the span starts after admission, as in fastify)
  let endSpan: SpanEnd | undefined = undefined;
  let errorCode: string | undefined;

  res.once('close', () => {
    if (counted) pipeline.admission!.release();
    const ms = performance.now() - startedAt;
    if (endSpan) pipeline.endSpan(endSpan, res.writableFinished, res.statusCode, ROUTE, ms, errorCode, log);
    // an answer cut off by the client is not an answered request (as in fastify)
    if (!res.writableFinished) return;
    pipeline.recordRequest('POST', ROUTE, res.statusCode, ms / 1000);
    pipeline.metrics.produceLane.inc();
    if (logRequests) pipeline.logCompleted(log, res.statusCode, ms);
  });

  const send = (status: number, headers: Record<string, string | number>, text: string, close = false) => {
    const cors = pipeline.corsHeaders(req.headers.origin);
    if (cors) Object.assign(headers, cors);
    pipeline.setAnswerHeaders(id, (name, value) => {
      headers[name] = value;
    });
    headers['content-length'] = Buffer.byteLength(text);
    if (close) headers.connection = 'close';
    res.writeHead(status, headers).end(text);
  };
  // `close`: after a body that did not parse, as fastify does (it cannot know where that body ended)
  const fail = (err: unknown, close = false) => {
    const error = toRivuletError(err);
    errorCode = error.code;
    const problem = problemOf(error, id);
    if (log) logFailure({ log }, error, problem.status);
    send(
      problem.status,
      { 'content-type': 'application/problem+json; charset=utf-8', ...problemHeaders(error, problem.status) },
      JSON.stringify(problem),
      close,
    );
  };

  const refused = pipeline.admission?.admit(true);
  if (refused) return fail(refused);
  counted = pipeline.admission !== undefined;
  // after admission, as in fastify, where shedding comes before the tracing hook
  endSpan = pipeline.startSpan(req, id, 'POST', req.url ?? '', log);
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
