/**
 * W3C Trace Context (`traceparent`) for incoming requests, and the hook a deployment wires
 * to feed its tracer. Rivulet ships no tracing SDK: it parses the caller's context, gives the
 * request its own span id, puts both in the request's log lines, and tells `onRequestSpan`
 * (when one is set) when the request starts and ends.
 */
import { randomFillSync } from 'node:crypto';

export interface TraceContext {
  /** 32 lowercase hex digits */
  traceId: string;
  /** the caller's span (the `parent-id` of `traceparent`); absent when the request started the trace */
  parentSpanId?: string;
  /** this request's span, 16 hex digits */
  spanId: string;
  /** the caller's sampled flag; true when the request started the trace */
  sampled: boolean;
  /** the caller's `tracestate`, passed on untouched (bounded) */
  traceState?: string;
}

export interface RequestSpanStart {
  trace: TraceContext;
  requestId: string;
  method: string;
  /** the path without query string (query strings may carry live tokens) */
  path: string;
  startedAt: Date;
}

export interface RequestSpanEnd {
  statusCode: number;
  /** the route template (`/v1/streams/:name/events`), or null for an unmatched URL */
  route: string | null;
  durationMs: number;
  /** the catalogue code when the request failed */
  errorCode?: string;
}

/**
 * Called when a request arrives; may answer a function called once when its response is
 * finished (or the client went away). Must not throw; a throw is logged and ignored.
 */
export type RequestSpanHook = (span: RequestSpanStart) => ((end: RequestSpanEnd) => void) | void;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

// Ids are cut from a pool of random bytes refilled 4 KiB at a time: one call into the CSPRNG
// per id cost more than the rest of a small request's handling.
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

function randomHex(bytes: number): string {
  if (poolAt + bytes > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const hex = POOL.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return hex;
}

export function newSpanId(): string {
  return randomHex(8);
}

export function newTraceId(): string {
  return randomHex(16);
}

/**
 * The context of a request from its `traceparent` header; a missing or malformed one (as the
 * spec asks) starts a new trace rather than failing the request.
 */
export function traceContextOf(traceparent: unknown, tracestate: unknown): TraceContext {
  const header = typeof traceparent === 'string' && traceparent.length <= 512 ? traceparent.trim() : '';
  const m = TRACEPARENT.exec(header);
  // version ff is invalid; version 00 allows no trailing fields; ids of all zeros are invalid
  if (m && m[1] !== 'ff' && !(m[1] === '00' && m[5]) && m[2] !== ZERO_TRACE && m[3] !== ZERO_SPAN) {
    const state = typeof tracestate === 'string' && tracestate.length <= 512 ? tracestate : undefined;
    return {
      traceId: m[2]!,
      parentSpanId: m[3]!,
      spanId: newSpanId(),
      sampled: (parseInt(m[4]!, 16) & 1) === 1,
      ...(state ? { traceState: state } : {}),
    };
  }
  return { traceId: newTraceId(), spanId: newSpanId(), sampled: true };
}

/** the `traceparent` naming this request's span, for anything sent onward on its behalf */
export function traceparentOf(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.sampled ? '01' : '00'}`;
}
