/**
 * Requests no route takes: an unknown path (404), a known path with a method it does not
 * serve (405 with `Allow`), a path that is not validly percent-encoded (400) or has a segment
 * too long to route (414). Each is answered by the API whose mount the path hits, in that
 * API's format, and none echoes the path back (fastify's own answers to the last two would).
 *
 * The route table is a second find-my-way router holding every route fastify registered,
 * asked only on these rare paths, so the methods a path serves are known exactly.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import { RivuletError, type ErrorCode } from '../kernel/errors.js';
import { toRivuletError } from './error-translation.js';

/** what reading a body can fail with */
const BODY_ERRORS = new Set<ErrorCode>([
  'BAD_REQUEST',
  'INVALID_JSON',
  'INVALID_UTF8',
  'UNSUPPORTED_MEDIA_TYPE',
  'BODY_TOO_LARGE',
  'NESTING_TOO_DEEP',
  'FORBIDDEN_KEY',
]);

export type ErrorHandler = (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => void;

/** An API mounted on the server (a dialect): which paths it answers for, and how it answers errors. */
export interface ApiMount {
  name: string;
  /** whether a path is this API's; `routeUrl` is the pattern of a route the path matched, if any */
  claims(path: string, routeUrl: string | undefined): boolean;
  errorHandler: ErrorHandler;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** every route of the app, for the methods an unrouted path does serve */
    routeTable: RouteTable;
  }
}

interface Lookup {
  /** the methods the path serves; empty when none does */
  allow: string[];
  /** the pattern of a route the path matched */
  routeUrl: string | undefined;
}

/** the path of a URL, with `%` made harmless so a malformed escape can still be looked up */
function routablePath(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.replace(/%/g, '_');
}

export class RouteTable {
  // no length limit here: the table answers for paths the main router refused as too long
  private readonly router = FindMyWay({ maxParamLength: Number.MAX_SAFE_INTEGER });
  private readonly methods = new Set<string>();

  add(methods: string | string[], url: string, constraints?: Record<string, unknown>): void {
    // a route constrained (by host or version) answers some requests only; the table knows the path
    if (constraints && Object.keys(constraints).length > 0) return;
    for (const method of [methods].flat()) {
      if (this.router.hasRoute(method as never, url)) continue;
      this.router.on(method as never, url, () => undefined, { url });
      this.methods.add(method);
    }
  }

  lookup(url: string): Lookup {
    const path = routablePath(url);
    const allow: string[] = [];
    let routeUrl: string | undefined;
    for (const method of this.methods) {
      const found = this.router.find(method as never, path);
      if (!found) continue;
      allow.push(method);
      routeUrl ??= (found.store as { url: string }).url;
    }
    return { allow: allow.sort(), routeUrl };
  }

  /** the pattern of the route that takes `method` on this path, if one does */
  routeFor(method: string, url: string): string | undefined {
    const found = this.router.find(method as never, routablePath(url));
    return found ? (found.store as { url: string }).url : undefined;
  }
}

/** Which API answers for a path: the first mount that claims it, else the native API. */
export class ApiMounts {
  constructor(
    private readonly mounts: ApiMount[],
    private readonly native: ErrorHandler,
    readonly table: RouteTable,
  ) {}

  handlerFor(url: string): ErrorHandler {
    const path = url.split('?')[0]!;
    const { routeUrl } = this.table.lookup(url);
    return this.mounts.find((m) => m.claims(path, routeUrl))?.errorHandler ?? this.native;
  }

  /** fastify's `frameworkErrors`: a URL its router could not decode, or a segment too long */
  readonly frameworkErrors = (error: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const refusal =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new RivuletError('URI_TOO_LONG', 'a segment of the path is too long', { cause: error })
        : new RivuletError('BAD_REQUEST', 'the path is not validly percent-encoded', { cause: error });
    this.handlerFor(req.url)(refusal as never, req, reply);
  };

  /**
   * The root error handler. fastify reads the body of a request no route takes before its
   * not-found handler runs, so a bad body there fails first: such a request is still answered
   * as one no route takes (404 or 405), by its mount.
   */
  readonly errorHandler = (error: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    if (!req.is404) return this.native(error, req, reply);
    if (BODY_ERRORS.has(toRivuletError(error).code)) return this.notFound(req, reply);
    // shedding, rate limits and the like keep their answer, in the mount's format
    this.handlerFor(req.url)(error, req, reply);
  };

  /** the root not-found handler: answered by the API whose mount the path hits */
  readonly notFound = (req: FastifyRequest, reply: FastifyReply): void => {
    this.handlerFor(req.url)(unroutedError(req, reply) as never, req, reply);
  };
}

/** 405 with `Allow` when the path serves other methods, else 404; never naming the path */
export function unroutedError(req: FastifyRequest, reply: FastifyReply): RivuletError {
  const { allow } = req.server.routeTable.lookup(req.url);
  if (allow.length > 0) {
    void reply.header('allow', allow.join(', '));
    return new RivuletError(
      'METHOD_NOT_ALLOWED',
      `${req.method} is not served at this path; it serves ${allow.join(', ')}`,
      { details: { allow } },
    );
  }
  return new RivuletError('NOT_FOUND', `there is no ${req.method} route at this path`);
}

/** a dialect's not-found handler under its own prefix, in its format */
export function notFoundWith(errorHandler: ErrorHandler) {
  return (req: FastifyRequest, reply: FastifyReply): void =>
    errorHandler(unroutedError(req, reply) as never, req, reply);
}

/** keeps the table in step with the app: every route registered after this call is in it */
export function trackRoutes(app: FastifyInstance, table: RouteTable): void {
  app.decorate('routeTable', table);
  app.addHook('onRoute', (route) => {
    table.add(route.method, route.url, route.constraints as Record<string, unknown> | undefined);
  });
}
