/**
 * Turns whatever a request failed with into a catalogue error. Every HTTP surface (native
 * API and dialects) starts from this, then formats the result its own way.
 */
import { RivuletError, isRivuletError } from '../kernel/errors.js';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: { instancePath?: string; message?: string; params?: Record<string, unknown>; keyword?: string }[];
  validationContext?: string;
}

const FASTIFY_CODES: Record<string, RivuletError['code']> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
};

export function toRivuletError(err: unknown): RivuletError {
  if (isRivuletError(err)) return err;
  const e = (err ?? {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const where = e.validationContext ?? 'body';
    const problems = e.validation.map((v) => {
      const missing = v.keyword === 'required' ? `/${String(v.params?.missingProperty ?? '')}` : '';
      const extra = v.keyword === 'additionalProperties' ? `/${String(v.params?.additionalProperty ?? '')}` : '';
      return { pointer: `${v.instancePath ?? ''}${missing}${extra}`, message: describeValidation(v) };
    });
    const first = problems[0];
    return new RivuletError('VALIDATION_FAILED', `${where}${first?.pointer ?? ''}: ${first?.message ?? 'invalid'}`, {
      details: { in: where, pointer: first?.pointer ?? '', errors: problems },
    });
  }
  if (e.code && FASTIFY_CODES[e.code]) {
    return new RivuletError(FASTIFY_CODES[e.code]!, e.message, { cause: err });
  }
  if (e.code === 'ERR_STREAM_PREMATURE_CLOSE' || e.code === 'ECONNRESET') {
    return new RivuletError('BAD_REQUEST', 'the client closed the connection', { cause: err });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new RivuletError('BAD_REQUEST', e.message ?? 'bad request', { cause: err });
  }
  return new RivuletError('INTERNAL', 'an unexpected error occurred; it has been logged', { cause: err });
}

function describeValidation(v: { message?: string; keyword?: string; params?: Record<string, unknown> }): string {
  if (v.keyword === 'additionalProperties') return `unknown field "${String(v.params?.additionalProperty)}"`;
  if (v.keyword === 'required') return `"${String(v.params?.missingProperty)}" is required`;
  return v.message ?? 'is invalid';
}
