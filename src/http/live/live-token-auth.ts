/**
 * Authenticates a live subscription by `?token=` (browsers' EventSource and WebSocket cannot
 * send an Authorization header). Only the live route accepts it, and only for the token's stream.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../core/keys/key-service.js';
import type { LiveTokenService } from '../../core/live/live-tokens.js';

export const LIVE_PATH = '/v1/streams/:name/live';

export function liveTokenAuth(tokens: LiveTokenService) {
  return async (req: FastifyRequest): Promise<Principal | null> => {
    if (req.routeOptions.url !== LIVE_PATH) return null;
    const token = (req.query as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token === '') return null;
    return tokens.verify(token, (req.params as { name: string }).name);
  };
}
