/**
 * The Durable Streams dialect: the open Durable Streams protocol (PROTOCOL.md of
 * durable-streams/durable-streams) mounted at `/ds`. Any path below the mount names a stream
 * (see ds-names.ts); PUT creates, POST appends or closes, GET reads (catch-up, long-poll,
 * SSE), HEAD describes, DELETE deletes. Answers other than success are plain text with the
 * protocol's statuses and headers. Every answer carries the protocol's browser security
 * headers and CORS headers (keys travel in Authorization, never in cookies).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Action } from '../../core/keys/scopes.js';
import { errorHandlerFor, nativeStatus, publicMessage } from '../../http/dialect-errors.js';
import type { ApiMount } from '../../http/unrouted.js';
import { append, type AppendRequest } from './ds-append.js';
import { DsContext, DsProblem, DS_DEFAULTS, type DsOptions, type DsServices } from './ds-context.js';
import { create } from './ds-create.js';
import { offsetOf } from './ds-offsets.js';
import { streamOfPath } from './ds-names.js';
import { followSse, openSse, read, type ReadRequest } from './ds-read.js';

export type { DsOptions };
export { DS_DEFAULTS };

export const DS_MOUNT = '/ds';

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'cross-origin',
  'access-control-allow-origin': '*',
  'access-control-expose-headers':
    'Stream-Next-Offset, Stream-Cursor, Stream-Up-To-Date, Stream-Closed, Stream-TTL, Stream-Expires-At, Stream-SSE-Data-Encoding, Producer-Epoch, Producer-Seq, Producer-Expected-Seq, Producer-Received-Seq, ETag, Location, Content-Type',
};

const ALLOWED_HEADERS =
  'Authorization, Content-Type, If-None-Match, Stream-Seq, Stream-TTL, Stream-Expires-At, Stream-Closed, Producer-Id, Producer-Epoch, Producer-Seq, Stream-Forked-From, Stream-Fork-Offset, Stream-Fork-Sub-Offset';

const dsErrors = errorHandlerFor({
  answer: (err) => ({ status: nativeStatus(err), type: 'text/plain; charset=utf-8', body: publicMessage(err) }),
});

function dsErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (!(error instanceof DsProblem)) return dsErrors(error, req, reply);
  // the protocol's own refusals: already in its words, with its headers
  if (error.status >= 500) req.log.error({ err: error }, 'durable streams request failed');
  void reply.code(error.status).headers(error.headers).type('text/plain; charset=utf-8').send(error.message);
}

/** paths under the mount that no route takes are answered as plain text too */
export const dsMount: ApiMount = {
  name: 'durable-streams',
  claims: (path) => path === DS_MOUNT || path.startsWith(`${DS_MOUNT}/`),
  errorHandler: dsErrorHandler,
};

function pathOf(req: FastifyRequest): string {
  return (req.params as { '*'?: string })['*'] ?? '';
}

/** the stream a request names, for the auth check (undefined names none: refused) */
function streamOfRequest(req: FastifyRequest): string | undefined {
  const named = streamOfPath(pathOf(req));
  return 'name' in named ? named.name : undefined;
}

function nameOf(req: FastifyRequest): string {
  const named = streamOfPath(pathOf(req));
  if ('problem' in named) throw new DsProblem(400, named.problem);
  return named.name;
}

function queryValues(req: FastifyRequest, key: string): string[] {
  const q = (req.query as Record<string, string | string[] | undefined>)[key];
  return q === undefined ? [] : Array.isArray(q) ? q : [q];
}

export function durableStreamsDialect(
  services: DsServices,
  options: Partial<DsOptions> = {},
  limits: { maxJsonDepth: number } = { maxJsonDepth: 64 },
) {
  const settings: DsOptions = { ...DS_DEFAULTS, ...options };
  return async function durableStreams(app: FastifyInstance): Promise<void> {
    const ctx = new DsContext(services, settings);
    const sse = new Set<AbortController>();
    app.setErrorHandler(dsErrorHandler);
    // bodies are the stream's bytes, whatever their type
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.addHook('onSend', (_req, reply, payload, done) => {
      void reply.headers(SECURITY_HEADERS);
      done(null, payload);
    });
    // before the server waits for open requests: long-polls and SSE connections end now
    app.addHook('preClose', async () => {
      for (const c of sse) c.abort();
      ctx.tail.close();
    });
    const access = (scope: Action) => ({ scope, stream: streamOfRequest, allowAnonymous: () => settings.anonymous });
    const bodyOf = (req: FastifyRequest): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    const appendRequest = (req: FastifyRequest): AppendRequest => ({
      name: nameOf(req),
      path: pathOf(req),
      principal: req.principal,
      headers: req.headers,
      body: bodyOf(req),
      maxJsonDepth: limits.maxJsonDepth,
      base: `${req.protocol}://${req.host}${DS_MOUNT}`,
    });
    const url = `${DS_MOUNT}/*`;
    const hide = { hide: true };

    app.options(url, { config: { access: { scope: 'public' } }, schema: hide }, async (_req, reply) => {
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET, HEAD, POST, PUT, DELETE, OPTIONS')
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', '600')
        .send();
    });

    app.put(url, { config: { access: access('manage') }, schema: hide }, async (req, reply) => {
      const answer = await create(ctx, appendRequest(req));
      return reply.code(answer.status).headers(answer.headers).send();
    });

    app.post(url, { config: { access: access('produce') }, schema: hide }, async (req, reply) => {
      const answer = await append(ctx, appendRequest(req));
      return reply.code(answer.status).headers(answer.headers).send();
    });

    app.delete(url, { config: { access: access('manage') }, schema: hide }, async (req, reply) => {
      const name = nameOf(req);
      await ctx.open(name, req.principal);
      await ctx.remove(name);
      return reply.code(204).send();
    });

    app.head(url, { config: { access: access('consume') }, schema: hide }, async (req, reply) => {
      const name = nameOf(req);
      const { meta } = await ctx.open(name, req.principal);
      const tail = offsetOf((await services.store.events.stats(name)).lastSeq);
      const headers: Record<string, string> = {
        'content-type': meta.contentType,
        'stream-next-offset': tail,
        'cache-control': 'no-store',
      };
      if (meta.closed) headers['stream-closed'] = 'true';
      if (meta.ttlSeconds !== undefined) headers['stream-ttl'] = String(meta.ttlSeconds);
      if (meta.expiresAt !== undefined) headers['stream-expires-at'] = meta.expiresAt;
      headers.etag = `"${Buffer.from(name).toString('base64url')}:-1:${tail}${meta.closed ? ':c' : ''}"`;
      return reply.code(200).headers(headers).send();
    });

    app.get(
      url,
      { config: { access: access('consume') }, schema: hide, exposeHeadRoute: false },
      async (req, reply) => {
        const readRequest: ReadRequest = {
          name: nameOf(req),
          principal: req.principal,
          offsets: queryValues(req, 'offset'),
          live: queryValues(req, 'live')[0],
          cursor: queryValues(req, 'cursor')[0],
          ifNoneMatch: req.headers['if-none-match'],
        };
        if (readRequest.live !== 'sse') {
          const answer = await read(ctx, readRequest);
          void reply.code(answer.status).headers(answer.headers);
          return answer.body === undefined ? reply.send() : reply.send(answer.body);
        }
        const { opened, from, headers } = await openSse(ctx, readRequest);
        const controller = new AbortController();
        sse.add(controller);
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, { ...headers, ...SECURITY_HEADERS, 'x-request-id': req.id });
        res.on('close', () => controller.abort());
        try {
          await followSse(ctx, readRequest, from, opened, res, controller.signal);
        } catch (err) {
          req.log.warn({ err }, 'durable streams SSE ended on an error');
        } finally {
          sse.delete(controller);
          if (!res.destroyed) res.end();
        }
      },
    );
  };
}
