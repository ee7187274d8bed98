/**
 * Request ids: a caller's `X-Request-Id` is kept when it is short and plain (so ids can be
 * followed across a proxy and Rivulet's logs); anything else gets a fresh UUID, so a header
 * cannot inject log lines, control characters or megabytes into every log record.
 */
import { randomUUID } from 'node:crypto';

export const MAX_REQUEST_ID_LENGTH = 128;
const PLAIN = /^[A-Za-z0-9._:@/+=-]+$/;

export function requestIdOf(header: unknown): string {
  if (typeof header === 'string' && header.length > 0 && header.length <= MAX_REQUEST_ID_LENGTH && PLAIN.test(header))
    return header;
  return randomUUID();
}
