/**
 * A live subscription over WebSocket. Each event is one text message, the event as JSON
 * (`{"seq","id","type",...}`); control messages have a `kind` (`reset`, `error`). Pings go
 * out every heartbeat; a client that has not answered the previous one is terminated.
 */
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { LiveSubscription } from '../../core/live/live-subscription.js';
import type { LiveConnections, LiveHttpOptions } from './live-connections.js';
import { textPayloads, wsEventFrame, wsEventPayload, wsTextFrames } from './live-frames.js';
import { drainOrClose, runLiveSession, type LiveTransport } from './live-session.js';

/** close codes: 4008 the client did not keep up; 4404 the stream went away; 1011 the server failed */
export const WS_CLOSE = { slowConsumer: 4008, streamGone: 4404, failed: 1011, shuttingDown: 1001 } as const;

export function serveWs(
  socket: WebSocket,
  req: FastifyRequest,
  sub: LiveSubscription,
  options: LiveHttpOptions,
  connections: LiveConnections,
): void {
  if (socket.readyState !== socket.OPEN) {
    sub.stop();
    socket.terminate();
    return;
  }
  // The upgraded connection. Without a negotiated extension `ws` writes every frame straight
  // to it in call order, so a frame built once per event can be written by us directly and
  // still keeps its place among ws's own pings and close frames. With one (compression), each
  // message goes through ws.
  const raw: Socket = req.raw.socket;
  const direct = socket.extensions === '';
  let answered = true;
  socket.on('pong', () => {
    answered = true;
  });
  // the protocol is one-way: whatever a client sends is ignored
  socket.on('message', () => {});

  const send = (body: Record<string, unknown>) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(body));
  };
  const transport: LiveTransport = {
    buffered: () => socket.bufferedAmount,
    event: (e) => (direct ? raw.write(wsEventFrame(e)) : socket.send(wsEventPayload(e))),
    texts: {
      types: false,
      write(page, from) {
        if (direct) raw.write(wsTextFrames(page, from));
        else for (const payload of textPayloads(page, from)) socket.send(payload, { binary: false });
      },
    },
    // every frame, ours or ws's, ends up in the upgraded socket's buffer
    needsDrain: () => raw.writableNeedDrain,
    drained: () => drainOrClose(raw),
    reset: (r) => send({ kind: 'reset', requestedAfter: r.requestedAfter, firstSeq: r.firstSeq }),
    cork: () => raw.cork(),
    uncork: () => raw.uncork(),
    heartbeat() {
      if (!answered) return false;
      answered = false;
      socket.ping();
      return true;
    },
    end(why) {
      if (why.kind === 'shutdown') {
        socket.close(WS_CLOSE.shuttingDown, 'server shutting down');
        return;
      }
      const code = why.kind === 'slow' ? 'SLOW_CONSUMER' : why.error.code;
      const message = why.kind === 'slow' ? why.message : why.error.message;
      send({ kind: 'error', code, message, lastSeq: why.lastSeq });
      const closeCode =
        why.kind === 'slow'
          ? WS_CLOSE.slowConsumer
          : code === 'STREAM_NOT_FOUND'
            ? WS_CLOSE.streamGone
            : WS_CLOSE.failed;
      // a close reason has at most 123 bytes
      socket.close(closeCode, (why.kind === 'slow' ? message : code).slice(0, 120));
    },
    destroy: () => socket.terminate(),
    onClose: (listener) => socket.once('close', listener),
  };
  runLiveSession(req, sub, transport, options, connections);
}
