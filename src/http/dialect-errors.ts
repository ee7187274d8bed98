/**
 * How every API (the native one and each dialect) answers a failed request, in one place: the
 * failure becomes a catalogue error, the API's format turns that into a status and a body, the
 * failure is logged at the level its status deserves, and the headers every refusal carries are
 * set (a 401's challenge, `Retry-After`). An API names only what is its own: its body format,
 * its statuses where they differ from the native API's, and its challenge.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RivuletError } from '../kernel/errors.js';
import { toRivuletError } from './error-translation.js';
import { logFailure } from './problem.js';
import { STATUS_BY_CODE } from './status-map.js';
import type { ErrorHandler } from './unrouted.js';

/** what a client is told in place of an unexpected failure's own message, which only the log sees */
export const UNEXPECTED_MESSAGE = 'an unexpected error occurred; it has been logged';

export interface ErrorAnswer {
  status: number;
  /** the Content-Type of the body */
  type: string;
  /** sent as fastify sends it: an object as JSON, a string as it is */
  body: unknown;
  /** headers of this answer alone (a 405's `Allow` is set before the format is asked) */
  headers?: Record<string, string>;
}

export interface ErrorFormat {
  /** the answer to a catalogue error, in the API's own format */
  answer(err: RivuletError, req: FastifyRequest): ErrorAnswer;
  /** the `WWW-Authenticate` value a 401 carries; none when unset */
  challenge?: string;
}

/** the native API's status for a code; a dialect's own table falls back to it */
export function nativeStatus(err: RivuletError): number {
  return STATUS_BY_CODE[err.code] ?? 500;
}

/** the message a client may see: an unexpected failure's own is redacted */
export function publicMessage(err: RivuletError, status = nativeStatus(err)): string {
  return status >= 500 && err.code === 'INTERNAL' ? UNEXPECTED_MESSAGE : err.message;
}

/** answers a catalogue error in the format's shape; for routes that catch a failure themselves */
export function answerError(format: ErrorFormat, err: RivuletError, req: FastifyRequest, reply: FastifyReply): void {
  const answer = format.answer(err, req);
  logFailure(req, err, answer.status);
  if (answer.headers !== undefined) void reply.headers(answer.headers);
  if (answer.status === 401 && format.challenge !== undefined) void reply.header('www-authenticate', format.challenge);
  if (err.retryAfter !== undefined) void reply.header('retry-after', String(err.retryAfter));
  void reply.code(answer.status).type(answer.type).send(answer.body);
}

/** a fastify error handler (and a mount's unrouted answer) speaking the format */
export function errorHandlerFor(format: ErrorFormat): ErrorHandler {
  return (error, req, reply) => answerError(format, toRivuletError(error), req, reply);
}
