/**
 * Trace context for every request: the caller's W3C `traceparent` is accepted (a missing or
 * malformed one starts a new trace), the request gets its own span id, and both go into every
 * log line of the request (`trace_id`, `span_id`). A deployment that runs a tracer wires
 * `onRequestSpan` (see docs/observability.md); Rivulet itself exports nothing. The span's
 * hooks are steps of the request pipeline (request-pipeline.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { traceContextOf, type TraceContext } from '../../observability/trace-context.js';

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

/**
 * fastify's `childLoggerFactory`: the request's logger carries its request, trace and span ids.
 * The pino child is made on the first line the request actually logs: building one per
 * request (bindings serialised, serializers copied) cost ~6 % of the produce path, while at
 * the usual levels most requests log nothing.
 */
export function childLoggerWithTrace(
  logger: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  options: Record<string, unknown>,
  raw: IncomingMessage,
): FastifyBaseLogger {
  // a route's own level or serializers: rare, made at once
  for (const _ in options) return logger.child({ ...bindings, ...traceBindings(raw) }, options);
  return new LazyRequestLogger(logger, bindings, raw) as unknown as FastifyBaseLogger;
}

function traceBindings(raw: IncomingMessage): { trace_id: string; span_id: string } {
  const trace = traceOf(raw);
  return { trace_id: trace.traceId, span_id: trace.spanId };
}

type LogMethod = (...args: unknown[]) => void;

/** whether `logger` writes at `level` (pino's isLevelEnabled where it has one) */
export function levelEnabled(logger: FastifyBaseLogger, level: string): boolean {
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return check ? check.call(logger, level) : true;
}
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** a request's logger whose pino child is made when it first writes (or is asked for its level) */
class LazyRequestLogger {
  private made: FastifyBaseLogger | null = null;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly own: Record<string, unknown>,
    private readonly raw: IncomingMessage,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child({ ...this.own, ...traceBindings(this.raw) }));
  }

  private write(level: Level, args: unknown[]): void {
    // pino replaces a disabled level's method with a no-op: nothing to make then
    if (!this.made && !levelEnabled(this.parent, level)) return;
    (this.real[level] as LogMethod)(...args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    return levelEnabled(this.made ?? this.parent, level);
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  bindings(): Record<string, unknown> {
    return (this.real as unknown as { bindings(): Record<string, unknown> }).bindings();
  }
}
