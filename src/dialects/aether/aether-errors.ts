/**
 * The aether API's error answers. As the original did, a request without valid credentials
 * gets 401 `Bad Credentials` (text) with a Basic challenge; every other refusal is JSON
 * `{"error": "<message>", "code": "<CODE>", "field": "/<job field>"}`, its status from the
 * catalogue. Pointers into the sink a job is made of are named by the job's own fields.
 */
import type { RivuletError } from '../../kernel/errors.js';
import { errorHandlerFor, nativeStatus, publicMessage, type ErrorFormat } from '../../http/dialect-errors.js';

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
  const status = nativeStatus(err);
  const pointer = err.details?.['pointer'];
  return {
    status,
    body: {
      error: publicMessage(err, status),
      code: err.code,
      ...(typeof pointer === 'string' ? { field: jobPointer(pointer) } : {}),
    },
  };
}

const aetherErrors: ErrorFormat = {
  answer(err) {
    if (err.code === 'UNAUTHENTICATED')
      return { status: 401, type: 'text/plain; charset=utf-8', body: 'Bad Credentials' };
    return { ...aetherAnswer(err), type: 'application/json; charset=utf-8' };
  },
  challenge: 'Basic realm="Login Required"',
};

export const aetherErrorHandler = errorHandlerFor(aetherErrors);
