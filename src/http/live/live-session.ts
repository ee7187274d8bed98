/**
 * What SSE and WebSocket subscriptions share: the connection's life around a subscription.
 * It feeds the subscription's events to a transport (which only knows its framing), writes
 * each delivered batch as one socket write (cork … uncork), sends heartbeats, cuts a client
 * whose unsent data passes the buffer limit, ends with a last word and a grace period, and
 * keeps the connection in the app's open set until its socket is closed.
 */
import type { FastifyRequest } from 'fastify';
import type { RivuletError } from '../../kernel/errors.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import type { EventTextPage } from '../../store/port.js';
import type { LiveReset, LiveSink, LiveSubscription } from '../../core/live/live-subscription.js';
import { CLOSE_GRACE_MS, type LiveConnections, type LiveHttpOptions } from './live-connections.js';

/** why a session ends, for the transport's last word */
export type LiveEnd =
  | { kind: 'slow'; message: string; lastSeq: number }
  | { kind: 'failed'; error: RivuletError; lastSeq: number }
  | { kind: 'shutdown' };

/** one protocol's side of a live connection */
export interface LiveTransport {
  /** bytes written but not yet sent to the client */
  buffered(): number;
  event(e: StoredEvent): void;
  /** Optional: writes a backlog page's events from `from` on, each framed around its stored text */
  texts?: { types: boolean; write(page: EventTextPage, from: number): void };
  /** true once the socket holds more than it takes at once (a write answered false) */
  needsDrain(): boolean;
  /** resolves when what was written has gone out, or the connection closed */
  drained(): Promise<void>;
  reset(r: LiveReset): void;
  /** holds the writes that follow until `uncork`, so a batch leaves in one write */
  cork(): void;
  uncork(): void;
  /** one heartbeat; false when the client did not answer the previous one (it is then cut) */
  heartbeat(): boolean;
  /** writes the last word and begins an orderly close */
  end(why: LiveEnd): void;
  /** closes at once, for a client that does not take its last word within the grace period */
  destroy(): void;
  /** calls back once when the underlying socket has closed */
  onClose(listener: () => void): void;
}

/** resolves on a writable's next 'drain' or 'close' (a response or the socket under it) */
export function drainOrClose(writable: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      writable.off('drain', done);
      writable.off('close', done);
      resolve();
    };
    writable.once('drain', done);
    writable.once('close', done);
  });
}

/** unsent bytes at which the backlog waits, and the most a page read as text holds */
const BACKLOG_BYTES = 256 * 1024;

export function runLiveSession(
  req: FastifyRequest,
  sub: LiveSubscription,
  transport: LiveTransport,
  options: LiveHttpOptions,
  connections: LiveConnections,
): void {
  let ended = false;
  let corked = false;
  let graceTimer: NodeJS.Timeout | null = null;
  const overLimit = () => transport.buffered() > options.bufferBytes;
  // Backlog waits once this much is unsent, and a page read as text holds at most this much: at
  // most about twice this is ever unsent while catching up, well under the limit.
  const backlogBytes = Math.max(1, Math.min(BACKLOG_BYTES, Math.floor(options.bufferBytes / 4)));

  const flush = () => {
    if (!corked) return;
    corked = false;
    transport.uncork();
  };
  /** the last word, then the end; a client that does not read it is cut after a grace period */
  const finish = (why: LiveEnd) => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    sub.stop();
    flush();
    transport.end(why);
    graceTimer = setTimeout(() => transport.destroy(), CLOSE_GRACE_MS);
  };
  const cutSlow = () => {
    req.log.info({ stream: sub.stream, lastSeq: sub.lastSeq }, 'live subscriber cut off: slow consumer');
    finish({ kind: 'slow', message: `slow consumer: resume from seq ${sub.lastSeq}`, lastSeq: sub.lastSeq });
  };

  const sink: LiveSink = {
    event(e) {
      if (ended) return false;
      if (!corked) {
        corked = true;
        transport.cork();
      }
      transport.event(e);
      if (overLimit()) {
        cutSlow();
        return false;
      }
      return true;
    },
    reset(r) {
      if (ended) return false;
      transport.reset(r);
      return true;
    },
    flush,
    // the backlog is read at the client's pace: a drain is due whenever this is true
    backlogFull: () => !ended && transport.needsDrain() && transport.buffered() > backlogBytes,
    drained: () => transport.drained(),
    failed(error) {
      req.log.info({ stream: sub.stream, code: error.code }, 'live subscription ended');
      finish({ kind: 'failed', error, lastSeq: sub.lastSeq });
    },
  };

  const texts = transport.texts;
  if (texts) {
    sink.texts = {
      types: texts.types,
      maxBytes: backlogBytes,
      deliver(page, from) {
        if (ended) return false;
        flush();
        texts.write(page, from);
        if (overLimit()) {
          cutSlow();
          return false;
        }
        return true;
      },
    };
  }

  const heartbeat = setInterval(() => {
    if (ended) return;
    if (!transport.heartbeat()) {
      req.log.info({ stream: sub.stream }, 'live subscriber missed a heartbeat: closed');
      ended = true;
      clearInterval(heartbeat);
      sub.stop();
      transport.destroy();
      return;
    }
    if (overLimit()) cutSlow();
  }, options.heartbeatMs);

  let closed: () => void = () => {};
  const whenClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const connection = {
    shutdown: () => {
      finish({ kind: 'shutdown' });
      return whenClosed;
    },
  };
  connections.add(connection);
  transport.onClose(() => {
    ended = true;
    clearInterval(heartbeat);
    if (graceTimer) clearTimeout(graceTimer);
    sub.stop();
    connections.delete(connection);
    closed();
  });
  sub.start(sink);
}
