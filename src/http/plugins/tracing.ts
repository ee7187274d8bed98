/**
 * Trace context for every request: the caller's W3C `traceparent` is accepted (a missing or
 * malformed one starts a new trace), the request gets its own span id, and both go into every
 * log line of the request (`trace_id`, `span_id`). A deployment that runs a tracer wires
 * `onRequestSpan` (see docs/observability.md); Rivulet itself exports nothing.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { toRivuletError } from '../error-translation.js';
import { traceContextOf, type RequestSpanEnd, type RequestSpanHook, type TraceContext } from '../../observability/trace-context.js';

const traces = new WeakMap<IncomingMessage, TraceContext>();

/** the trace context of a raw request, parsed once */
export function traceOf(raw: IncomingMessage): TraceContext {
  let trace = traces.get(raw);
  if (!trace) {
    trace = traceContextOf(raw.headers.traceparent, raw.headers.tracestate);
    traces.set(raw, trace);
  }
  return trace;
}

/** fastify's `childLoggerFactory`: the request's logger carries its trace and span ids */
export function childLoggerWithTrace(
  logger: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  options: Record<string, unknown>,
  raw: IncomingMessage,
): FastifyBaseLogger {
  const trace = traceOf(raw);
  return logger.child({ ...bindings, trace_id: trace.traceId, span_id: trace.spanId }, options);
}

export interface TracingOptions {
  onRequestSpan?: RequestSpanHook;
}

async function tracingPlugin(app: FastifyInstance, opts: TracingOptions): Promise<void> {
  const hook = opts.onRequestSpan;
  if (!hook) return;
  const ends = new WeakMap<FastifyRequest, (end: RequestSpanEnd) => void>();
  const started = new WeakMap<FastifyRequest, number>();
  const failures = new WeakMap<FastifyRequest, string>();

  app.addHook('onRequest', async (req) => {
    try {
      const end = hook({ trace: traceOf(req.raw), requestId: req.id, method: req.method, path: req.url.split('?')[0]!, startedAt: new Date() });
      if (typeof end === 'function') {
        ends.set(req, end);
        started.set(req, performance.now());
      }
    } catch (err) {
      req.log.warn({ err }, 'onRequestSpan hook failed');
    }
  });
  app.addHook('onError', async (req, _reply, error) => {
    failures.set(req, toRivuletError(error).code);
  });
  const finish = async (req: FastifyRequest, reply: FastifyReply) => {
    const end = ends.get(req);
    if (!end) return;
    ends.delete(req);
    try {
      const errorCode = failures.get(req);
      end({ statusCode: reply.raw.headersSent || reply.sent ? reply.statusCode : 499, route: req.routeOptions.url ?? null, durationMs: reply.elapsedTime, ...(errorCode ? { errorCode } : {}) });
    } catch (err) {
      req.log.warn({ err }, 'onRequestSpan end hook failed');
    }
  };
  app.addHook('onResponse', finish);
  app.addHook('onRequestAbort', async (req) => {
    const end = ends.get(req);
    if (!end) return;
    ends.delete(req);
    try {
      end({ statusCode: 499, route: req.routeOptions.url ?? null, durationMs: performance.now() - (started.get(req) ?? performance.now()) });
    } catch (err) {
      req.log.warn({ err }, 'onRequestSpan end hook failed');
    }
  });
}

export const tracing = fp(tracingPlugin, { name: 'rivulet-tracing', fastify: '5.x' });
