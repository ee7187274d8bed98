/**
 * Native API: live subscriptions (`GET /v1/streams/{name}/live`, as Server-Sent Events or,
 * on upgrade, WebSocket) and the short-lived tokens browsers use for them.
 * The subscription is checked and positioned in preHandler, before the response starts or
 * the socket is upgraded, so a refusal is an ordinary problem+json answer in both cases.
 */
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { RivuletError } from '../../kernel/errors.js';
import type { LiveSubscription } from '../../core/live/live-subscription.js';
import type { CoreServices } from '../../core/services.js';
import { StreamName, problemResponses } from '../schemas.js';
import { LiveConnections, type LiveHttpOptions } from './live-connections.js';
import { LiveQuery, liveStartOf, liveTypesOf, type LiveQueryParams } from './live-params.js';
import { LIVE_PATH } from './live-token-auth.js';
import { serveSse } from './sse-live.js';
import { serveWs } from './ws-live.js';

type LiveRoute = { Params: Static<typeof StreamName>; Querystring: LiveQueryParams };

const TokenRequest = Type.Object(
  { stream: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export function liveRoutes(services: Pick<CoreServices, 'live' | 'liveTokens' | 'streams'>, options: LiveHttpOptions) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const connections = new LiveConnections();
    const pending = new WeakMap<FastifyRequest, LiveSubscription>();
    app.addHook('preClose', async () => {
      await connections.closeAll();
    });
    // A refused upgrade is answered over the raw socket, which the HTTP parser no longer owns:
    // when the client hangs up, close it, or it stays half-open and holds up the server's close.
    const upgraded = new WeakSet<Duplex>();
    app.server.on('upgrade', (_req: unknown, socket: Duplex) => {
      socket.once('end', () => {
        if (!upgraded.has(socket)) socket.destroy();
      });
    });

    app.route<LiveRoute>({
      method: 'GET',
      url: LIVE_PATH,
      config: { access: { scope: 'consume', stream: (req) => (req.params as { name?: string }).name } },
      schema: {
        tags: ['live'],
        summary: 'Follow a stream live: Server-Sent Events, or WebSocket on upgrade',
        description:
          'Starts at the tail, `after` a seq, `from` a time, or after `Last-Event-ID`; backlog first, then new events as they are committed. See docs/live.md for framing, heartbeats, reset events and the slow-consumer policy.',
        params: StreamName,
        querystring: LiveQuery,
        response: { ...problemResponses },
      },
      preHandler: async (req) => {
        const accept = req.headers.accept;
        if (!req.ws && accept && !/text\/event-stream|\*\/\*|text\/\*/.test(accept)) {
          throw new RivuletError('BAD_REQUEST', 'this route answers text/event-stream, or a WebSocket on upgrade', {
            details: { header: 'accept' },
          });
        }
        const sub = await services.live.subscribe({
          stream: req.params.name,
          start: liveStartOf(req),
          types: liveTypesOf(req.query),
          principal: req.principal,
        });
        pending.set(req, sub);
        // if the client goes before the response starts, nothing else would stop it
        req.raw.socket.once('close', () => sub.stop());
      },
      handler: async (req, reply) => {
        serveSse(req, reply, pending.get(req)!, options, connections, req.query.events === 'named');
      },
      wsHandler: (socket, req) => {
        upgraded.add(req.raw.socket);
        serveWs(socket, req, pending.get(req)!, options, connections);
      },
    });

    app.post<{ Body: Static<typeof TokenRequest> }>(
      '/v1/live-tokens',
      {
        config: {
          access: { scope: 'consume', stream: (req) => (req.body as { stream?: string } | undefined)?.stream },
        },
        schema: {
          tags: ['live'],
          summary: 'Issue a short-lived token for one live subscription URL',
          description:
            'For browsers, which cannot send an Authorization header with EventSource or WebSocket: pass the token as `?token=` on `GET /v1/streams/{stream}/live`. It is good for that stream only, until `expiresAt`.',
          body: TokenRequest,
          response: {
            201: Type.Object({ token: Type.String(), stream: Type.String(), expiresAt: Type.String() }),
            ...problemResponses,
          },
        },
      },
      async (req, reply) => {
        await services.streams.require(req.body.stream);
        return reply.code(201).send(await services.liveTokens.issue(req.principal!, req.body.stream));
      },
    );
  };
}
