/**
 * Cross-origin requests (CORS), off unless origins are configured (`--cors-origin`).
 *
 * @fastify/cors answers preflights in an onRequest hook registered before authentication
 * (a browser's preflight carries no credentials) and adds the headers to every answer fastify
 * gives. The produce lane answers some requests before fastify sees them, so it adds the same
 * headers from the same settings through `corsHeadersOf`; preflights (OPTIONS) never take the lane.
 */
import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';

export interface CorsOptions {
  /** allowed origins (`https://app.example.com`), or `*` for any */
  origins: readonly string[];
}

/** every method some route answers: preflights name the one the real request will use */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** response headers a script may read besides the CORS-safelisted ones */
export const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'location', 'etag', 'idempotent-replayed', 'link'];
/** how long a browser may cache a preflight's answer, in seconds */
const MAX_AGE = 600;

function anyOrigin(options: CorsOptions): boolean {
  return options.origins.includes('*');
}

/**
 * Registers the preflight route and the header hook. Credentials are allowed, so `*` is
 * answered by naming the caller's origin (browsers refuse `*` together with credentials).
 */
export async function registerCors(app: FastifyInstance, options: CorsOptions): Promise<void> {
  await app.register(cors, {
    origin: anyOrigin(options) ? true : [...options.origins],
    methods: METHODS,
    credentials: true,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: MAX_AGE,
    // the preflight answers stay out of the API document
    hideOptionsRoute: true,
  });
}

/** the CORS headers of an actual (not preflight) answer to a request from `origin`, as @fastify/cors sets them */
export function corsHeadersOf(options: CorsOptions, origin: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { vary: 'Origin' };
  if (origin !== undefined && (anyOrigin(options) || options.origins.includes(origin)))
    headers['access-control-allow-origin'] = origin;
  headers['access-control-allow-credentials'] = 'true';
  headers['access-control-expose-headers'] = EXPOSED_HEADERS.join(', ');
  return headers;
}
