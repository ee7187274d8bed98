/**
 * How a request appears in the logs. Live tokens travel in the query string (browsers cannot
 * send headers with EventSource), so the logged URL has any `token` parameter redacted,
 * whatever route it was sent to.
 */
import type { FastifyRequest } from 'fastify';

export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

export function serializeRequest(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactToken(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket ? req.socket.remotePort : undefined,
  };
}
