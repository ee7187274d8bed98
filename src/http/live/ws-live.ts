/**
 * A live subscription over WebSocket. Each event is one text message, the event as JSON
 * (`{"seq","id","type",...}`); control messages have a `kind` (`reset`, `error`). Pings go
 * out every heartbeat; a client that has not answered the previous one is terminated.
 */
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { RivuletError } from '../../core/errors.js';
import type { LiveSink, LiveSubscription } from '../../core/live/live-subscription.js';
import { renderEvent } from '../routes/events-routes.js';
import { CLOSE_GRACE_MS, type LiveConnections, type LiveHttpOptions } from './live-connections.js';

/** close codes: 4008 the client did not keep up; 4404 the stream went away; 1011 the server failed */
export const WS_CLOSE = { slowConsumer: 4008, streamGone: 4404, failed: 1011, shuttingDown: 1001 } as const;

export function serveWs(socket: WebSocket, req: FastifyRequest, sub: LiveSubscription, options: LiveHttpOptions, connections: LiveConnections): void {
  let ended = false;
  let answered = true;
  let graceTimer: NodeJS.Timeout | null = null;
  let closed: () => void = () => {};
  const whenClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const overLimit = () => socket.bufferedAmount > options.bufferBytes;

  const end = (code: number, reason: string, last?: Record<string, unknown>) => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    sub.stop();
    if (last && socket.readyState === socket.OPEN) socket.send(JSON.stringify(last));
    // a close reason has at most 123 bytes
    socket.close(code, reason.slice(0, 120));
    graceTimer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
  };
  const cutSlow = () => {
    req.log.info({ stream: sub.stream, lastSeq: sub.lastSeq }, 'live subscriber cut off: slow consumer');
    const message = `slow consumer: resume from seq ${sub.lastSeq}`;
    end(WS_CLOSE.slowConsumer, message, { kind: 'error', code: 'SLOW_CONSUMER', message, lastSeq: sub.lastSeq });
  };

  const sink: LiveSink = {
    event(e) {
      if (ended) return false;
      socket.send(JSON.stringify(renderEvent(e)));
      if (overLimit()) {
        cutSlow();
        return false;
      }
      return true;
    },
    reset(r) {
      if (ended) return false;
      socket.send(JSON.stringify({ kind: 'reset', requestedAfter: r.requestedAfter, firstSeq: r.firstSeq }));
      return true;
    },
    failed(err: RivuletError) {
      req.log.info({ stream: sub.stream, code: err.code }, 'live subscription ended');
      const code = err.code === 'STREAM_NOT_FOUND' ? WS_CLOSE.streamGone : WS_CLOSE.failed;
      end(code, err.code, { kind: 'error', code: err.code, message: err.message, lastSeq: sub.lastSeq });
    },
  };

  socket.on('pong', () => {
    answered = true;
  });
  // the protocol is one-way: whatever a client sends is ignored
  socket.on('message', () => {});
  const heartbeat = setInterval(() => {
    if (ended) return;
    if (!answered) {
      req.log.info({ stream: sub.stream }, 'live subscriber missed a ping: closed');
      ended = true;
      sub.stop();
      socket.terminate();
      return;
    }
    answered = false;
    socket.ping();
    if (overLimit()) cutSlow();
  }, options.heartbeatMs);

  const connection = {
    shutdown: () => {
      end(WS_CLOSE.shuttingDown, 'server shutting down');
      return whenClosed;
    },
  };
  connections.add(connection);
  socket.once('close', () => {
    ended = true;
    clearInterval(heartbeat);
    if (graceTimer) clearTimeout(graceTimer);
    sub.stop();
    connections.delete(connection);
    closed();
  });
  if (socket.readyState !== socket.OPEN) {
    socket.terminate();
    return;
  }
  sub.start(sink);
}
