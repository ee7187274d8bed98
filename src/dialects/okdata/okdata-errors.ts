/**
 * okdata's error answers (seed 000): `{"message": "..."}` with okdata's statuses and, for the
 * refusals okdata named, its exact wording. Which wording applies depends on the operation,
 * which each route names in `config.okdataOp`.
 */
import type { RivuletError } from '../../kernel/errors.js';
import { errorHandlerFor, nativeStatus } from '../../http/dialect-errors.js';
import { credentialsOf } from '../../http/plugins/auth.js';

export type OkdataOp =
  | 'stream-create'
  | 'stream-get'
  | 'stream-put'
  | 'stream-delete'
  | 'subscribable-get'
  | 'subscribable-put'
  | 'events-post'
  | 'events-get'
  | 'sinks-create'
  | 'sinks-list'
  | 'sink-get'
  | 'sink-delete';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the okdata operation a route performs; picks okdata's wording of its errors */
    okdataOp?: OkdataOp;
  }
}

/** input errors FastAPI (okdata's framework) answered with 422 */
const UNPROCESSABLE = new Set<RivuletError['code']>([
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'INVALID_UTF8',
  'INVALID_EVENT',
  'FORBIDDEN_KEY',
  'NESTING_TOO_DEEP',
  'SCHEMA_VIOLATION',
  'UNKNOWN_EVENT_TYPE',
  'INVALID_STREAM_NAME',
  'INVALID_EXPRESSION',
  'UNSUPPORTED_REGEX',
]);

export interface OkdataAnswer {
  status: number;
  message: string;
}

export function okdataAnswer(
  err: RivuletError,
  op: OkdataOp | undefined,
  label: string,
  presentedCredentials: boolean,
): OkdataAnswer {
  const sinkType = String(err.details?.type ?? '');
  const reason = err.details?.reason;
  switch (err.code) {
    case 'UNAUTHENTICATED':
      return { status: 401, message: presentedCredentials ? 'Invalid access token' : 'Not authenticated' };
    case 'FORBIDDEN':
      return { status: 403, message: 'Forbidden' };
    case 'STREAM_EXISTS':
      return { status: 409, message: `Event stream with id ${label} already exist` };
    case 'STREAM_NOT_FOUND':
      if (op === 'stream-get') return { status: 404, message: `Could not find stream: ${label}` };
      // okdata worded this one differently when enabling a sink
      if (op === 'sinks-create') return { status: 404, message: `Event stream ${label} does not exist` };
      return { status: 404, message: `Event stream with id ${label} does not exist` };
    case 'SINK_NOT_FOUND':
      return { status: 404, message: `Sink of type ${sinkType} does not exist on ${label}` };
    case 'SINK_EXISTS':
      return reason === 'deleting'
        ? { status: 409, message: `Cannot create sink since a sink of type ${sinkType} currently is being deleted` }
        : { status: 409, message: `Sink: ${sinkType} already exists on ${label}` };
    case 'BAD_REQUEST':
      if (reason === 'invalid-sink-type') return { status: 400, message: `Invalid sink type: ${sinkType}` };
      if (reason === 'sink-type-unavailable')
        return { status: 400, message: `Sink type ${sinkType} is not available on this server` };
      return { status: 400, message: err.message };
    case 'RESOURCE_IN_USE':
      return {
        status: 409,
        message: `Event stream with id ${label} contains sub-resources. Delete all related event-sinks and disable event subscription`,
      };
    case 'INVALID_STATE': {
      if (reason === 'sink-under-construction')
        return { status: 409, message: `Sink of type ${sinkType} cannot be disabled since it is being constructed` };
      const state =
        reason === 'already-subscribable'
          ? 'already subscribable'
          : reason === 'not-subscribable'
            ? 'not currently subscribable'
            : 'not ready';
      return { status: 409, message: `Event stream with id ${label} is ${state}` };
    }
    case 'CONFLICT':
      return { status: 409, message: `Event stream with id ${label} was changed by another request; try again` };
    case 'NOT_FOUND':
      // okdata answered a history query without hits with 400
      return op === 'events-get'
        ? { status: 400, message: `Could not find event: ${label}` }
        : { status: 404, message: 'Not Found' };
    case 'INTERNAL':
      return { status: 500, message: 'Server error' };
    default:
      if (UNPROCESSABLE.has(err.code)) return { status: 422, message: err.message };
      return { status: nativeStatus(err), message: err.message };
  }
}

export const okdataErrorHandler = errorHandlerFor({
  answer(err, req) {
    const params = (req.params ?? {}) as { dataset?: string; version?: string };
    const label = `${params.dataset ?? ''}/${params.version ?? ''}`;
    const { status, message } = okdataAnswer(
      err,
      req.routeOptions.config?.okdataOp,
      label,
      credentialsOf(req) !== undefined,
    );
    return { status, type: 'application/json', body: { message } };
  },
  challenge: 'Bearer realm="rivulet"',
});
