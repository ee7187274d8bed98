/**
 * The per-request work of every HTTP request, in one place for both ways a request is answered:
 * fastify's hooks and the produce lane (produce-lane.ts, which answers the common produce
 * request straight off node:http) call the same steps here, so neither can do them otherwise:
 * request ids, the headers every answer carries (request id, `Connection: close` while
 * draining, CORS), admission, the tracing span (499 for an answer cut off), request metrics,
 * both request log lines and the client a trusted proxy names. Two of these fastify does
 * itself (its request logging, and CORS through @fastify/cors); the lane does them here in
 * the same form, and the test below compares the lines and headers.
 *
 * Every global request hook is registered as a named step (`step`, or `registerSteps` for a
 * plugin's own hooks). `requestHooksOf` lists the app's hooks with their steps, and a test
 * proves the lane applies each step (test/int/request-pipeline.int.test.ts): a hook added
 * without a step, or with a step the test does not know, fails it.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RivuletMetrics } from '../observability/metrics.js';
import { requestIdOf } from '../observability/request-id.js';
import type { RequestSpanEnd, RequestSpanHook } from '../observability/trace-context.js';
import { toRivuletError } from './error-translation.js';
import { exemptFromAdmission, isProduceRequest, type AdmissionGate } from './plugins/admission.js';
import { corsHeadersOf, type CorsOptions } from './plugins/cors.js';
import type { LoggedRequest } from './plugins/request-log.js';
import { levelEnabled, traceOf } from './plugins/tracing.js';

const COUNTED = Symbol('rivulet.admission.counted');

declare module 'fastify' {
  interface FastifyRequest {
    [COUNTED]?: boolean;
  }
}

/** methods request metrics name; anything else is counted as `other` */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** the named steps of a request; each global request hook is one of them */
export const STEPS = [
  'answer headers',
  'cors',
  'admission',
  'tracing',
  'auth',
  'rate limit',
  'numbers in URLs',
  'request metrics',
  'websocket',
] as const;
export type Step = (typeof STEPS)[number];

/** the hooks fastify runs for each request (application hooks such as onRoute or onReady are not) */
export const REQUEST_HOOKS = [
  'onRequest',
  'preParsing',
  'preValidation',
  'preHandler',
  'preSerialization',
  'onSend',
  'onResponse',
  'onError',
  'onTimeout',
  'onRequestAbort',
] as const;
export type RequestHookName = (typeof REQUEST_HOOKS)[number];

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- hooks of every signature
const steps = new WeakMap<Function, Step>();

/** marks a hook function as a step of the pipeline; answers the function */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- hooks of every signature
export function step<F extends Function>(name: Step, fn: F): F {
  steps.set(fn, name);
  return fn;
}

/** registers a plugin and marks the request hooks it adds to the app as one step */
export async function registerSteps(
  app: FastifyInstance,
  name: Step,
  register: () => PromiseLike<unknown>,
): Promise<void> {
  const before = new Set(requestHooksOf(app).map((h) => h.fn));
  await register();
  for (const hook of requestHooksOf(app)) if (!before.has(hook.fn)) steps.set(hook.fn, name);
}

export interface RegisteredHook {
  hook: RequestHookName;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- hooks of every signature
  fn: Function;
  /** undefined: registered without saying what the produce lane does about it */
  step: Step | undefined;
}

/**
 * The app's global request hooks, in order. fastify has no public list of them, so this reads
 * its hook table (the `fastify.hooks` symbol); an empty table where hooks exist would mean the
 * table moved, and the pipeline test checks the list is not empty.
 */
export function requestHooksOf(app: FastifyInstance): RegisteredHook[] {
  const symbol = Object.getOwnPropertySymbols(app).find((s) => s.description === 'fastify.hooks');
  // hooks of every signature
  type AnyHook = (...args: never[]) => unknown;
  const table = (symbol ? (app as unknown as Record<symbol, unknown>)[symbol] : undefined) as
    Record<string, AnyHook[] | undefined> | undefined;
  const out: RegisteredHook[] = [];
  for (const hook of REQUEST_HOOKS) for (const fn of table?.[hook] ?? []) out.push({ hook, fn, step: steps.get(fn) });
  return out;
}

export interface RequestPipelineOptions {
  metrics: RivuletMetrics;
  admission?: AdmissionGate;
  /** the app's logger (with its request serializer); none means silent */
  logger?: FastifyBaseLogger;
  trustProxy: boolean;
  isShuttingDown(): boolean;
  /** a tracer's hook (docs/observability.md) */
  onRequestSpan?: RequestSpanHook;
  cors?: CorsOptions;
}

/** the answer to the tracing hook's start: the function to call once the request is over */
export type SpanEnd = (end: RequestSpanEnd) => void;

export class RequestPipeline {
  readonly metrics: RivuletMetrics;
  readonly admission: AdmissionGate | undefined;
  readonly logger: FastifyBaseLogger | undefined;
  readonly trustProxy: boolean;
  readonly cors: CorsOptions | undefined;
  readonly isShuttingDown: () => boolean;
  private readonly onRequestSpan: RequestSpanHook | undefined;

  constructor(options: RequestPipelineOptions) {
    this.metrics = options.metrics;
    this.admission = options.admission;
    this.logger = options.logger;
    this.trustProxy = options.trustProxy;
    this.cors = options.cors;
    this.isShuttingDown = options.isShuttingDown;
    this.onRequestSpan = options.onRequestSpan;
  }

  /**
   * fastify's side: the steps as hooks. Shedding runs before authentication (it must cost less
   * than serving); so register this after CORS (a preflight costs nothing) and before auth.
   */
  registerHooks(app: FastifyInstance): void {
    // the hot-path hooks take callbacks rather than being async: a promise per hook per request is measurable at ingest rates
    app.addHook(
      'onSend',
      step(
        'answer headers',
        (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
          this.setAnswerHeaders(req.id, (name, value) => void reply.header(name, value));
          done(null, payload);
        },
      ),
    );
    if (this.admission) this.registerAdmission(app, this.admission);
    if (this.onRequestSpan) this.registerTracing(app);
    app.addHook(
      'onResponse',
      step('request metrics', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
        this.recordRequest(
          METHODS.has(req.method) ? req.method : 'other',
          req.routeOptions.url ?? 'unmatched',
          reply.statusCode,
          reply.elapsedTime / 1000,
        );
        done();
      }),
    );
  }

  private registerAdmission(app: FastifyInstance, gate: AdmissionGate): void {
    // measured from when the app is ready: building it (compiling schemas, loading plugins) blocks the loop by design
    app.addHook('onReady', async () => gate.start());
    app.addHook('onClose', async () => gate.close());
    // a mark on the request rather than a WeakSet: weak collections cost the GC per entry;
    // declared up front so every request object keeps one shape
    app.decorateRequest(COUNTED, false);
    const release = (req: FastifyRequest) => {
      if (req[COUNTED] === true) {
        req[COUNTED] = false;
        gate.release();
      }
    };
    app.addHook(
      'onRequest',
      step('admission', (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
        if (exemptFromAdmission(req)) return done();
        const produce = isProduceRequest(req);
        const refused = gate.admit(produce);
        if (produce && !refused) req[COUNTED] = true;
        done(refused);
      }),
    );
    app.addHook(
      'onResponse',
      step('admission', (req: FastifyRequest, _reply: FastifyReply, done: () => void) => {
        release(req);
        done();
      }),
    );
    app.addHook(
      'onRequestAbort',
      step('admission', (req: FastifyRequest, done: () => void) => {
        release(req);
        done();
      }),
    );
  }

  private registerTracing(app: FastifyInstance): void {
    const ends = new WeakMap<FastifyRequest, SpanEnd>();
    const started = new WeakMap<FastifyRequest, number>();
    const failures = new WeakMap<FastifyRequest, string>();
    app.addHook(
      'onRequest',
      step('tracing', async (req: FastifyRequest) => {
        const end = this.startSpan(req.raw, req.id, req.method, req.url.split('?')[0]!, req.log);
        if (end) {
          ends.set(req, end);
          started.set(req, performance.now());
        }
      }),
    );
    app.addHook(
      'onError',
      step('tracing', async (req: FastifyRequest, _reply: FastifyReply, error: Error) => {
        failures.set(req, toRivuletError(error).code);
      }),
    );
    app.addHook(
      'onResponse',
      step('tracing', async (req: FastifyRequest, reply: FastifyReply) => {
        const end = ends.get(req);
        if (!end) return;
        ends.delete(req);
        this.endSpan(
          end,
          reply.raw.headersSent || reply.sent,
          reply.statusCode,
          req.routeOptions.url ?? null,
          reply.elapsedTime,
          failures.get(req),
          req.log,
        );
      }),
    );
    app.addHook(
      'onRequestAbort',
      step('tracing', async (req: FastifyRequest) => {
        const end = ends.get(req);
        if (!end) return;
        ends.delete(req);
        this.endSpan(
          end,
          false,
          499,
          req.routeOptions.url ?? null,
          performance.now() - (started.get(req) ?? performance.now()),
          undefined,
          req.log,
        );
      }),
    );
  }

  /** the request's id: the caller's `X-Request-Id` when plain, else a fresh one */
  requestId(raw: IncomingMessage): string {
    return requestIdOf(raw.headers['x-request-id']);
  }

  /**
   * Headers every answer carries: its request id, and `Connection: close` while the server
   * drains (a kept-alive connection would hold a draining server open until the client lets go).
   */
  setAnswerHeaders(id: string, set: (name: string, value: string) => void): void {
    set('x-request-id', id);
    if (this.isShuttingDown()) set('connection', 'close');
  }

  /** the CORS headers of an actual (not preflight) answer; fastify's side sets them through @fastify/cors */
  corsHeaders(origin: string | undefined): Record<string, string> | undefined {
    return this.cors && corsHeadersOf(this.cors, origin);
  }

  /** starts the request's span (after admission, as shedding comes first); answers how to end it */
  startSpan(
    raw: IncomingMessage,
    requestId: string,
    method: string,
    path: string,
    log: FastifyBaseLogger | undefined,
  ): SpanEnd | undefined {
    const hook = this.onRequestSpan;
    if (!hook) return undefined;
    try {
      const end = hook({ trace: traceOf(raw), requestId, method, path, startedAt: new Date() });
      return typeof end === 'function' ? end : undefined;
    } catch (err) {
      log?.warn({ err }, 'onRequestSpan hook failed');
      return undefined;
    }
  }

  /** ends a span; an answer the client cut off ends with 499 */
  endSpan(
    end: SpanEnd,
    answered: boolean,
    status: number,
    route: string | null,
    durationMs: number,
    errorCode: string | undefined,
    log: FastifyBaseLogger | undefined,
  ): void {
    try {
      end({ statusCode: answered ? status : 499, route, durationMs, ...(errorCode ? { errorCode } : {}) });
    } catch (err) {
      log?.warn({ err }, 'onRequestSpan end hook failed');
    }
  }

  /** counts an answered request (an answer cut off by the client is not counted, as in fastify) */
  recordRequest(method: string, route: string, status: number, seconds: number): void {
    this.metrics.request(method, route, status, seconds);
  }

  /** whether request lines are written: fastify writes them at info */
  logsRequests(log: FastifyBaseLogger | undefined): log is FastifyBaseLogger {
    return log !== undefined && levelEnabled(log, 'info');
  }

  logIncoming(log: FastifyBaseLogger, req: LoggedRequest): void {
    log.info({ req }, 'incoming request');
  }

  logCompleted(log: FastifyBaseLogger, status: number, ms: number): void {
    log.info({ res: { statusCode: status }, responseTime: ms }, 'request completed');
  }

  /** the request as its log line shows it; behind a trusted proxy the client is read from X-Forwarded-* as fastify does */
  loggedRequest(raw: IncomingMessage, method: string): LoggedRequest {
    const socket = raw.socket;
    const base = { method, url: raw.url ?? '', socket };
    if (!this.trustProxy) return { ...base, host: raw.headers.host ?? '', ip: socket.remoteAddress };
    const addresses = proxyAddr.all(raw, () => true);
    const forwardedHost = raw.headers['x-forwarded-host'];
    const host =
      typeof forwardedHost === 'string' && forwardedHost
        ? forwardedHost.slice(forwardedHost.lastIndexOf(',') + 1).trim()
        : (raw.headers.host ?? '');
    return { ...base, host, ip: addresses[addresses.length - 1] };
  }
}
