/**
 * How a request appears in the logs. Live tokens travel in the query string (browsers cannot
 * send headers with EventSource), so the logged URL has any `token` parameter redacted,
 * whatever route it was sent to.
 */
import type { Socket } from 'node:net';

/** what a request's log line shows; a FastifyRequest is one, and the produce lane builds its own */
export interface LoggedRequest {
  method: string;
  url: string;
  host: string;
  ip: string | undefined;
  socket?: Socket | null;
}

export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

export function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactToken(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket ? req.socket.remotePort : undefined,
  };
}
