/**
 * A live subscription over Server-Sent Events: `id:` is the seq (what EventSource sends back
 * as Last-Event-ID on reconnect), data the event as JSON (its type inside). Events are
 * unnamed, so a plain EventSource's `onmessage` receives them all; `?events=named` names each
 * after its type. Control events are `rivulet:reset` and `rivulet:error`, always named (a
 * client handling only events never mistakes one for an event); they carry no id, so resuming
 * is unaffected.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LiveSubscription } from '../../core/live/live-subscription.js';
import type { LiveConnections, LiveHttpOptions } from './live-connections.js';
import { sseEventBytes, sseTextFrames } from './live-frames.js';
import { drainOrClose, runLiveSession, type LiveTransport } from './live-session.js';
import { sseComment, sseFrame } from './sse-framing.js';

/** how long EventSource waits before reconnecting */
const RETRY_MS = 1000;

export function serveSse(
  req: FastifyRequest,
  reply: FastifyReply,
  sub: LiveSubscription,
  options: LiveHttpOptions,
  connections: LiveConnections,
  named: boolean,
): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    // what hooks set (CORS) before the answer was taken over
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    'x-request-id': req.id,
  });
  // the connection's own close, not the response's: it is what frees the memory
  const socket = req.raw.socket;
  socket.setNoDelay(true);
  res.write(`retry: ${RETRY_MS}\n${sseComment('connected')}`);

  const control = (name: string, body: Record<string, unknown>) =>
    sseFrame({ event: name, data: JSON.stringify(body) });
  const transport: LiveTransport = {
    buffered: () => res.writableLength,
    event: (e) => res.write(sseEventBytes(e, named)),
    texts: { types: named, write: (page, from) => res.write(sseTextFrames(page, from, named)) },
    needsDrain: () => res.writableNeedDrain,
    drained: () => drainOrClose(res),
    reset: (r) =>
      res.write(control('rivulet:reset', { kind: 'reset', requestedAfter: r.requestedAfter, firstSeq: r.firstSeq })),
    cork: () => res.cork(),
    uncork: () => res.uncork(),
    // a client that stopped reading is found by the buffer limit, which the pings fill
    heartbeat: () => {
      res.write(sseComment('ping'));
      return true;
    },
    end(why) {
      const last =
        why.kind === 'shutdown'
          ? sseComment('server shutting down')
          : why.kind === 'slow'
            ? control('rivulet:error', {
                kind: 'error',
                code: 'SLOW_CONSUMER',
                message: why.message,
                lastSeq: why.lastSeq,
              })
            : control('rivulet:error', {
                kind: 'error',
                code: why.error.code,
                message: why.error.message,
                lastSeq: why.lastSeq,
              });
      if (!res.destroyed) res.write(last);
      res.end();
    },
    destroy: () => socket.destroy(),
    onClose: (listener) => socket.once('close', listener),
  };
  runLiveSession(req, sub, transport, options, connections);
}
