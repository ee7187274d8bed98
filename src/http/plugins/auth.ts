/**
 * Authentication and authorisation for every route of every API.
 *
 * A route declares its access in `config.access`; a route without one fails to register,
 * so nothing is ever public by accident. Credentials are accepted as
 * `Authorization: Bearer <key>`, as the password of Basic auth, or as an `Auth-Token` header.
 * Who the caller is gets settled in onRequest (before any body is read); what they may do,
 * in preValidation, where params and the parsed body are known but before the route's schema
 * is checked, so a key without the scope learns nothing about what the route would accept.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RivuletError } from '../../kernel/errors.js';
import type { KeyService, Principal } from '../../core/keys/key-service.js';
import type { Action } from '../../core/keys/scopes.js';
import { internalStreamError, isInternalStream } from '../../core/streams/internal-streams.js';

export type Access =
  | { scope: 'public' }
  | { scope: 'authenticated' }
  | { scope: 'admin' }
  /** anonymous callers allowed when `allowAnonymous()` says so (iFLUX's optional anonymous posting) */
  | { scope: Action; stream: (req: FastifyRequest) => string | undefined; allowAnonymous?: () => boolean };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * The key a request presents, or undefined when it presents none, or more than one (which the
 * auth hook refuses with AMBIGUOUS_CREDENTIALS before anything else).
 */
export function credentialsOf(req: { headers: IncomingHttpHeaders; rawHeaders?: string[] }): string | undefined {
  const presented = presentedCredentials(req);
  return presented.length === 1 ? presented[0] : undefined;
}

/**
 * A request carrying two credentials: two `Authorization` headers (Node keeps only the first in
 * `headers`, so `rawHeaders` is read), two `Auth-Token` headers, or an `Authorization` and an
 * `Auth-Token` naming different keys. Picking one would let a proxy or client that adds its own
 * header act with a key nobody meant.
 */
function ambiguousCredentials(): RivuletError {
  return new RivuletError(
    'AMBIGUOUS_CREDENTIALS',
    'the request carries more than one credential (two Authorization headers, or Authorization and Auth-Token naming different keys); send exactly one',
  );
}

/** every credential presented, the same key given twice (Authorization and Auth-Token) counted once */
function presentedCredentials(req: { headers: IncomingHttpHeaders; rawHeaders?: string[] }): string[] {
  let authorizations = 0;
  let tokens = 0;
  const raw = req.rawHeaders ?? [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // most headers are neither: compare lengths before the case-blind comparison
    if (name.length === 13 && name.toLowerCase() === 'authorization') authorizations++;
    else if (name.length === 10 && name.toLowerCase() === 'auth-token') tokens++;
  }
  if (authorizations > 1 || tokens > 1) return ['', ''];
  const out: string[] = [];
  const fromAuthorization = secretOfAuthorization(req.headers.authorization);
  if (fromAuthorization !== undefined) out.push(fromAuthorization);
  const token = req.headers['auth-token'];
  if (typeof token === 'string' && token && token !== fromAuthorization) out.push(token);
  return out;
}

function secretOfAuthorization(auth: string | undefined): string | undefined {
  if (!auth) return undefined;
  const space = auth.indexOf(' ');
  const scheme = space > 0 ? auth.slice(0, space).toLowerCase() : '';
  const value = space > 0 ? auth.slice(space + 1).trim() : '';
  if (scheme === 'bearer' && value) return value;
  if (scheme === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon >= 0 ? decoded.slice(colon + 1) : '';
    if (password) return password;
  }
  return undefined;
}

export interface AuthOptions {
  keys: KeyService;
  /** extra ways to authenticate (short-lived tokens for browsers' SSE), tried when no key is presented */
  alternatives?: ((req: FastifyRequest) => Promise<Principal | null>)[];
  /** the owner recorded on a stream (null: none such): decides who may read an internal stream */
  streamOwner?: (name: string) => Promise<string | null>;
}

export interface DeclaredRoute {
  method: unknown;
  url: string;
  config?: { access?: Access };
}

const declared = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route registered on `app` with its declared access (tests walk it to check each refuses anonymous callers). */
export function declaredRoutes(app: FastifyInstance): readonly DeclaredRoute[] {
  return declared.get(app) ?? [];
}

async function authPlugin(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  app.decorateRequest('principal', null);

  // Checked once all routes exist, so plugins that mark their own routes public (docs) can do so.
  const routes: DeclaredRoute[] = [];
  declared.set(app, routes);
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  app.addHook('onReady', async () => {
    const open = routes.filter((r) => !r.config?.access);
    if (open.length > 0) {
      throw new Error(
        `routes without declared access: ${open.map((r) => `${String(r.method)} ${r.url}`).join(', ')}; every route must say who may call it`,
      );
    }
  });

  const invalidKey = () =>
    new RivuletError('UNAUTHENTICATED', 'the key presented is not valid (revoked, expired or mistyped)');
  // a key seen in the last few seconds is answered without a promise: this runs on every request
  app.addHook('onRequest', (req, _reply, done) => {
    const access = req.routeOptions.config.access;
    const presented = access && access.scope !== 'public' ? presentedCredentials(req.raw) : [];
    if (presented.length > 1) return done(ambiguousCredentials());
    const secret = presented[0];
    if (secret === undefined) return void authenticateOtherwise(req).then(() => done(), done);
    const settle = (principal: Principal | null) => {
      req.principal = principal;
      done(principal ? undefined : invalidKey());
    };
    const known = opts.keys.authenticate(secret);
    if (known instanceof Promise) known.then(settle, done);
    else settle(known);
  });
  const authenticateOtherwise = async (req: FastifyRequest): Promise<void> => {
    const access = req.routeOptions.config.access;
    if (!access || access.scope === 'public') return;
    for (const alternative of opts.alternatives ?? []) {
      req.principal = await alternative(req);
      if (req.principal) return;
    }
    if ('allowAnonymous' in access && access.allowAnonymous?.()) return;
    throw new RivuletError('UNAUTHENTICATED', 'this route needs a key: send "Authorization: Bearer <key>"');
  };

  const authorize = (req: FastifyRequest): RivuletError | undefined | Promise<RivuletError | undefined> => {
    const access = req.routeOptions.config.access;
    if (!access || access.scope === 'public' || access.scope === 'authenticated') return undefined;
    const principal = req.principal;
    if (!principal) {
      if ('allowAnonymous' in access && access.allowAnonymous?.()) return undefined;
      return new RivuletError('UNAUTHENTICATED', 'this route needs a key');
    }
    if (access.scope === 'admin')
      return principal.admin ? undefined : new RivuletError('FORBIDDEN', 'this route needs an admin key');
    // the body is not validated yet: a stream named by something other than a string names none
    const named: unknown = access.stream(req);
    const stream = typeof named === 'string' ? named : undefined;
    if (principal.can(access.scope, stream)) return undefined;
    if (stream !== undefined && isInternalStream(stream)) return authorizeInternal(principal, access.scope, stream);
    return new RivuletError('FORBIDDEN', `this key lacks ${access.scope} access to stream "${stream ?? ''}"`, {
      details: { needs: `${access.scope}:${stream ?? '*'}` },
    });
  };
  // internal streams: no scope reaches them; the owner recorded on the stream may read it
  const authorizeInternal = async (
    principal: Principal,
    action: Action,
    stream: string,
  ): Promise<RivuletError | undefined> => {
    const owner = action === 'produce' ? null : await opts.streamOwner?.(stream);
    return owner && principal.canAsOwner(action, stream, owner)
      ? undefined
      : internalStreamError(stream, action === 'produce' ? 'written' : 'used with this key');
  };
  app.addHook('preValidation', (req, _reply, done) => {
    const refusal = authorize(req);
    if (refusal instanceof Promise) refusal.then(done, done);
    else done(refusal);
  });
}

export const auth = fp(authPlugin, { name: 'rivulet-auth', fastify: '5.x' });
