/**
 * The aether API's error answers. As the original did, a request without valid credentials
 * gets 401 `Bad Credentials` (text) with a Basic challenge; every other refusal is JSON
 * `{"error": "<message>", "code": "<CODE>", "field": "/<job field>"}`, its status from the
 * catalogue. Pointers into the sink a job is made of are named by the job's own fields.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { RivuletError } from '../../kernel/errors.js';
import { toRivuletError } from '../../http/error-translation.js';
import { logFailure } from '../../http/problem.js';
import { STATUS_BY_CODE } from '../../http/status-map.js';

/** `/target/method` → `/type`, `/target/url` → `/url`, `/streams/0` → `/topic/0`, `/policy/rateLimit…` → `/rate_limit` */
export function jobPointer(pointer: string): string {
  if (pointer === '/target/method') return '/type';
  if (pointer.startsWith('/target/')) return pointer.slice('/target'.length);
  if (pointer === '/target') return '';
  if (pointer.startsWith('/streams')) return `/topic${pointer.slice('/streams'.length)}`;
  if (pointer.startsWith('/policy/rateLimit')) return '/rate_limit';
  return pointer;
}

export function aetherAnswer(err: RivuletError): { status: number; body: Record<string, unknown> } {
  const status = STATUS_BY_CODE[err.code] ?? 500;
  const pointer = err.details?.['pointer'];
  return {
    status,
    body: {
      error: status >= 500 && err.code === 'INTERNAL' ? 'an unexpected error occurred; it has been logged' : err.message,
      code: err.code,
      ...(typeof pointer === 'string' ? { field: jobPointer(pointer) } : {}),
    },
  };
}

export function aetherErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const err = toRivuletError(error);
  if (err.code === 'UNAUTHENTICATED') {
    logFailure(req, err, 401);
    void reply.code(401).header('www-authenticate', 'Basic realm="Login Required"').type('text/plain; charset=utf-8').send('Bad Credentials');
    return;
  }
  const { status, body } = aetherAnswer(err);
  logFailure(req, err, status);
  if (err.retryAfter !== undefined) void reply.header('retry-after', String(err.retryAfter));
  void reply.code(status).type('application/json; charset=utf-8').send(body);
}
