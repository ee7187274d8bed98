/**
 * RFC 9457 problem details for the native API. 5xx answers never carry the cause's
 * message; the cause is logged with the request id the answer names as `instance`.
 */
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { RivuletError } from '../kernel/errors.js';
import { toRivuletError } from './error-translation.js';
import { STATUS_BY_CODE } from './status-map.js';

export const PROBLEM_TYPE_BASE = 'https://rivulet.dev/problems/';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  [extension: string]: unknown;
}

export function problemOf(err: RivuletError, requestId: string): Problem {
  const status = STATUS_BY_CODE[err.code];
  return {
    type: `${PROBLEM_TYPE_BASE}${err.code.toLowerCase().replace(/_/g, '-')}`,
    title: err.title,
    status,
    detail: status >= 500 && err.code === 'INTERNAL' ? 'an unexpected error occurred; it has been logged' : err.message,
    instance: requestId,
    code: err.code,
    ...(err.details ?? {}),
  };
}

/** Logs a failure at the level its status deserves: 4xx at info, 5xx at error with the cause. */
export function logFailure(req: { log: FastifyBaseLogger }, err: RivuletError, status: number): void {
  if (status >= 500) req.log.error({ err: err.cause ?? err, code: err.code }, 'request failed');
  else req.log.info({ code: err.code, detail: err.message }, 'request refused');
}

/** the headers a problem answer carries besides its content type */
export function problemHeaders(err: RivuletError, status: number): Record<string, string> {
  const headers: Record<string, string> = {};
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="rivulet"';
  return headers;
}

export function problemErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const err = toRivuletError(error);
  const problem = problemOf(err, req.id);
  logFailure(req, err, problem.status);
  void reply
    .headers(problemHeaders(err, problem.status))
    .code(problem.status)
    .type('application/problem+json')
    .send(problem);
}
