/**
 * A live subscription over Server-Sent Events: `id:` is the seq (what EventSource sends back
 * as Last-Event-ID on reconnect), `event:` the event type, data the event as JSON. Control
 * events are `rivulet:reset` and `rivulet:error`; they carry no id, so resuming is unaffected.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RivuletError } from '../../core/errors.js';
import type { LiveSink, LiveSubscription } from '../../core/live/live-subscription.js';
import { renderEvent } from '../routes/events-routes.js';
import { CLOSE_GRACE_MS, type LiveConnections, type LiveHttpOptions } from './live-connections.js';
import { sseComment, sseEventName, sseFrame } from './sse-framing.js';

/** how long EventSource waits before reconnecting */
const RETRY_MS = 1000;

export function serveSse(req: FastifyRequest, reply: FastifyReply, sub: LiveSubscription, options: LiveHttpOptions, connections: LiveConnections): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
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

  let ended = false;
  let graceTimer: NodeJS.Timeout | null = null;
  let closed: () => void = () => {};
  const whenClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const overLimit = () => res.writableLength > options.bufferBytes;

  /** the last word, then the end; a client that does not read it is cut after a grace period */
  const end = (last?: string) => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    sub.stop();
    if (last && !res.destroyed) res.write(last);
    res.end();
    graceTimer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  };
  const control = (name: string, body: Record<string, unknown>) => sseFrame({ event: name, data: JSON.stringify(body) });
  const cutSlow = () => {
    req.log.info({ stream: sub.stream, lastSeq: sub.lastSeq }, 'live subscriber cut off: slow consumer');
    end(control('rivulet:error', {
      kind: 'error',
      code: 'SLOW_CONSUMER',
      message: `slow consumer: resume from seq ${sub.lastSeq}`,
      lastSeq: sub.lastSeq,
    }));
  };

  const sink: LiveSink = {
    event(e) {
      if (ended) return false;
      res.write(sseFrame({ id: String(e.seq), event: sseEventName(e.type), data: JSON.stringify(renderEvent(e)) }));
      if (overLimit()) {
        cutSlow();
        return false;
      }
      return true;
    },
    reset(r) {
      if (ended) return false;
      res.write(control('rivulet:reset', { kind: 'reset', requestedAfter: r.requestedAfter, firstSeq: r.firstSeq }));
      return true;
    },
    failed(err: RivuletError) {
      req.log.info({ stream: sub.stream, code: err.code }, 'live subscription ended');
      end(control('rivulet:error', { kind: 'error', code: err.code, message: err.message, lastSeq: sub.lastSeq }));
    },
  };

  const heartbeat = setInterval(() => {
    if (ended) return;
    res.write(sseComment('ping'));
    if (overLimit()) cutSlow();
  }, options.heartbeatMs);

  const connection = {
    shutdown: () => {
      end(sseComment('server shutting down'));
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
  sub.start(sink);
}
