/**
 * The logger's error serializer: pino's own, with the secrets of any URL an error quotes
 * (userinfo password, secret-named query values; kernel/secret-urls.ts) replaced. Errors of a
 * target (a URL that failed to parse carries it in `input`, a transport error may name it in its
 * message) would otherwise write a sink's URL secrets into the log.
 */
import pino from 'pino';
import { redactedUrlsIn } from '../kernel/secret-urls.js';

export function errWithoutUrlSecrets(err: Error): unknown {
  return scrub(pino.stdSerializers.err(err), 0);
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.includes('://') ? redactedUrlsIn(value) : value;
  if (depth > 4 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}
