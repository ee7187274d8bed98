/**
 * The error catalogue: every failure Rivulet reports to a client has a stable code here.
 *
 * Domain errors carry a code, a human message and optional structured details, never an
 * HTTP status: each HTTP surface (native API, dialects) maps codes to its own statuses
 * and formats at the edge. `docs/errors.md` has one entry per code.
 */

export const ErrorCodes = {
  // input
  BAD_REQUEST: 'Malformed request',
  INVALID_JSON: 'Body is not valid JSON',
  INVALID_UTF8: 'Body is not valid UTF-8',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported content type',
  BODY_TOO_LARGE: 'Body too large',
  BATCH_TOO_LARGE: 'Too many events in one batch',
  NESTING_TOO_DEEP: 'JSON nested too deeply',
  FORBIDDEN_KEY: 'Forbidden JSON key',
  VALIDATION_FAILED: 'Request does not match its schema',
  INVALID_EVENT: 'Invalid event',
  INVALID_STREAM_NAME: 'Invalid stream name',
  INVALID_CURSOR: 'Invalid cursor',
  URI_TOO_LONG: 'Path segment too long',
  METHOD_NOT_ALLOWED: 'Method not allowed on this path',
  // auth
  UNAUTHENTICATED: 'Missing or invalid credentials',
  FORBIDDEN: 'Key lacks the required scope',
  AMBIGUOUS_CREDENTIALS: 'More than one credential in one request',
  INTERNAL_STREAM: 'Stream is internal to the server',
  // resources
  NOT_FOUND: 'Not found',
  STREAM_NOT_FOUND: 'Stream not found',
  STREAM_EXISTS: 'Stream already exists',
  EVENT_NOT_FOUND: 'Event not found',
  KEY_NOT_FOUND: 'Key not found',
  CONFLICT: 'Conflicting change',
  INVALID_STATE: 'Resource is not in a state that allows this',
  PRODUCER_LOCKED: 'Stream is exclusive to another producer',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency key reused with a different request',
  // consumers
  CONSUMER_NOT_FOUND: 'Consumer not found',
  CONSUMER_EXISTS: 'Consumer already exists',
  LEASE_NOT_HELD: 'Event is not leased to this client',
  OFFSET_MISMATCH: 'Consumer offset mismatch',
  // schemas
  SCHEMA_NOT_FOUND: 'Schema not found',
  SCHEMA_INVALID: 'Not a valid JSON Schema',
  SCHEMA_INCOMPATIBLE: 'Schema change breaks the compatibility mode',
  SCHEMA_VIOLATION: 'Event data does not match its schema',
  UNKNOWN_EVENT_TYPE: 'Event type has no schema on a strict stream',
  // sinks, rules, specs
  SINK_NOT_FOUND: 'Sink not found',
  SINK_EXISTS: 'Sink already exists',
  TARGET_URL_FORBIDDEN: 'Target URL is not allowed',
  INVALID_EXPRESSION: 'Invalid expression',
  UNSUPPORTED_REGEX: 'Regular expression is not supported',
  RULE_NOT_FOUND: 'Rule not found',
  RULE_NOT_MATCHED: 'The event was not matched by the rule.',
  RESOURCE_IN_USE: 'Resource is referenced by another resource',
  SPEC_NOT_FOUND: 'Spec not found',
  SPEC_INVALID: 'Invalid spec',
  PLAN_LIMIT: 'Plan limit reached',
  // capacity and state
  RATE_LIMITED: 'Too many requests',
  OVERLOADED: 'Server is overloaded',
  SLOW_CONSUMER: 'Live subscriber did not keep up',
  STORAGE_FULL: 'Storage is full',
  STORE_UNAVAILABLE: 'Store is unavailable',
  SHUTTING_DOWN: 'Server is shutting down',
  INTERNAL: 'Internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorDetails {
  /** JSON Pointer of the failing field, relative to the request body */
  pointer?: string;
  /** index of the failing item in a batch */
  index?: number;
  /** anything else that helps the client fix the request */
  [key: string]: unknown;
}

export class RivuletError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;
  /** seconds after which a retry may succeed (rate limits, overload) */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { details?: ErrorDetails; cause?: unknown; retryAfter?: number },
  ) {
    super(message ?? ErrorCodes[code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RivuletError';
    this.code = code;
    this.details = options?.details;
    this.retryAfter = options?.retryAfter;
  }

  get title(): string {
    return ErrorCodes[this.code];
  }
}

export function isRivuletError(err: unknown): err is RivuletError {
  return err instanceof RivuletError;
}

/** Shorthand constructors for the most common errors, so call sites read as sentences. */
export const fail = {
  notFound: (code: Extract<ErrorCode, `${string}NOT_FOUND`>, message: string, details?: ErrorDetails) =>
    new RivuletError(code, message, { details }),
  invalid: (message: string, details?: ErrorDetails) => new RivuletError('INVALID_EVENT', message, { details }),
  badRequest: (message: string, details?: ErrorDetails) => new RivuletError('BAD_REQUEST', message, { details }),
  conflict: (message: string, details?: ErrorDetails) => new RivuletError('CONFLICT', message, { details }),
};
