/**
 * The web console at /console: a handful of static files (built by scripts/build-console.mjs
 * into dist/console/), read once when the app is built and served from memory, gzipped where
 * the client accepts it. The files are public; everything they show comes from the
 * authenticated API with the key the user typed, kept in the tab's session storage.
 *
 * A strict Content-Security-Policy: scripts, styles and connections from this origin only, no
 * inline code, no framing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RivuletError } from '../../kernel/errors.js';

/** dist/console/ of this package: three levels up from src/http/plugins/ and dist/http/plugins/ alike */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

export interface ConsoleOptions {
  /** where the built files are; DEFAULT_CONSOLE_DIR when absent */
  dir?: string;
}

export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

interface ConsoleFile {
  type: string;
  body: Buffer;
  gzipped: Buffer | null;
  etag: string;
}

function loadFiles(dir: string): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    const gzipped = body.length > 512 && !type.startsWith('image/png') ? gzipSync(body, { level: 9 }) : null;
    files.set(name, {
      type,
      body,
      gzipped,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return files;
}

function send(req: FastifyRequest, reply: FastifyReply, file: ConsoleFile) {
  void reply
    .header('content-type', file.type)
    .header('etag', file.etag)
    .header('cache-control', 'no-cache')
    .header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  if (file.gzipped && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
    return reply.header('content-encoding', 'gzip').send(file.gzipped);
  }
  return reply.send(file.body);
}

export function consoleRoutes(options: ConsoleOptions = {}) {
  const dir = options.dir ?? DEFAULT_CONSOLE_DIR;
  return async function routes(app: FastifyInstance): Promise<void> {
    const files = loadFiles(dir);
    const config = { access: { scope: 'public' as const } };
    const schema = { hide: true };

    app.addHook('onSend', async (_req, reply) => {
      for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) void reply.header(name, value);
    });

    const serve = (name: string, req: FastifyRequest, reply: FastifyReply) => {
      const file = files.get(name);
      if (!file) {
        if (files.size === 0) throw new RivuletError('NOT_FOUND', 'the console is not built: run "npm run build"');
        throw new RivuletError('NOT_FOUND', `the console has no file ${JSON.stringify(name)}`);
      }
      return send(req, reply, file);
    };

    // pages are addressed by the hash (#/streams/orders), so index.html is the only document
    app.get('/console', { config, schema }, async (_req, reply) => reply.redirect('/console/', 308));
    app.get('/console/', { config, schema }, async (req, reply) => serve('index.html', req, reply));
    app.get<{ Params: { file: string } }>('/console/:file', { config, schema }, async (req, reply) =>
      serve(req.params.file, req, reply),
    );
  };
}
