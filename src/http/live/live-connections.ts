/**
 * The open live connections of one app, so shutdown can end them: a hijacked SSE response
 * or an upgraded WebSocket would otherwise keep the HTTP server from closing.
 */

export interface LiveConnection {
  /** ends the connection (with a last word where the protocol has one); resolves once it is closed */
  shutdown(): Promise<void>;
}

export class LiveConnections {
  private readonly open = new Set<LiveConnection>();

  add(connection: LiveConnection): void {
    this.open.add(connection);
  }

  delete(connection: LiveConnection): void {
    this.open.delete(connection);
  }

  get size(): number {
    return this.open.size;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((c) => c.shutdown()));
    this.open.clear();
  }
}

/** how long a closing connection may take to flush its last words before it is cut */
export const CLOSE_GRACE_MS = 1000;

export interface LiveHttpOptions {
  /** interval of SSE comment pings and WebSocket pings; a WebSocket that misses a pong is closed */
  heartbeatMs: number;
  /** bytes that may wait unsent to one client before it is cut off as a slow consumer */
  bufferBytes: number;
}

export const DEFAULT_LIVE_HTTP: LiveHttpOptions = { heartbeatMs: 15_000, bufferBytes: 1024 * 1024 };
