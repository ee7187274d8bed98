/**
 * How long the HTTP server waits on a slow client. Without these, a client that sends its
 * headers a byte at a time (slowloris) or trickles a body holds a socket and its memory for
 * as long as it likes: fastify turns Node's request timeout off by default, and Node checks
 * its header timeout only every 30 s.
 * Live subscriptions are unaffected: their request is complete once the headers are in.
 */

export interface ServerTimeouts {
  /** the request's headers must arrive within this (408, or the socket is closed) */
  headersTimeoutMs: number;
  /** the whole request, body included, must arrive within this */
  requestTimeoutMs: number;
  /** how often the server checks the two above */
  checkIntervalMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  checkIntervalMs: 1_000,
};

/** the fastify constructor options that apply `timeouts` */
export function serverTimeoutOptions(timeouts: Partial<ServerTimeouts> | undefined) {
  const t = { ...DEFAULT_SERVER_TIMEOUTS, ...timeouts };
  // Node refuses a header timeout longer than the request timeout
  const headersTimeout = Math.min(t.headersTimeoutMs, t.requestTimeoutMs);
  return {
    requestTimeout: t.requestTimeoutMs,
    http: {
      headersTimeout,
      requestTimeout: t.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(t.checkIntervalMs, headersTimeout),
    },
  };
}
