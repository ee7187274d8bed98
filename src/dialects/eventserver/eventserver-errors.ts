/**
 * The event server's error answers (seed 002): a JSON string body, status from the seed's
 * tables. The seed knows 400, 401, 404, 423 and 500, so every refusal maps to one of them, but
 * for a wrong method (405, with Allow) and a full disk (507), which HTTP clients tell apart.
 */
import type { RivuletError } from '../../kernel/errors.js';
import { UNEXPECTED_MESSAGE, errorHandlerFor } from '../../http/dialect-errors.js';

export const JSON_UTF8 = 'application/json; charset=utf-8';

export function eventServerAnswer(err: RivuletError): { status: number; body: string } {
  switch (err.code) {
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
    case 'INTERNAL_STREAM':
      return { status: 401, body: 'Unauthorized' };
    case 'PRODUCER_LOCKED':
      return { status: 423, body: 'Locked - Second writers not allowed' };
    case 'NOT_FOUND':
    case 'STREAM_NOT_FOUND':
    case 'EVENT_NOT_FOUND':
      return { status: 404, body: 'Not Found' };
    case 'METHOD_NOT_ALLOWED':
      return { status: 405, body: 'Method Not Allowed' };
    case 'OFFSET_MISMATCH': {
      const d = err.details ?? {};
      return {
        status: 400,
        body: `Bad Request - Consumer offset mismatch: ${String(d.committedTypeSeq)}->${String(d.eventTypeSeq)}`,
      };
    }
    case 'INTERNAL':
      return { status: 500, body: `Internal Server Error - ${UNEXPECTED_MESSAGE}` };
    case 'STORAGE_FULL':
      return { status: 507, body: `Insufficient Storage - ${err.message}` };
    case 'OVERLOADED':
    case 'STORE_UNAVAILABLE':
    case 'SHUTTING_DOWN':
    case 'RATE_LIMITED':
      return { status: 500, body: `Internal Server Error - ${err.message}` };
    default:
      return { status: 400, body: `Bad Request - ${err.message}` };
  }
}

/** the body is a JSON string, serialised here: fastify would send a string as it is */
export const eventServerErrorHandler = errorHandlerFor({
  answer(err) {
    const { status, body } = eventServerAnswer(err);
    return { status, type: JSON_UTF8, body: JSON.stringify(body) };
  },
  challenge: 'Basic realm="rivulet"',
});
