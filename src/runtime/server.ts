/**
 * The composition root: configuration in, a running server out. Builds the store, the
 * core services, the background workers and the HTTP app, and closes them in order.
 */
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from '../config/load-config.js';
import { createCoreServices, type CoreServices } from '../core/services.js';
import { buildApp } from '../http/app.js';
import type { Store } from '../store/port.js';
import { ensureAdminKey, type AdminKeyOutcome } from './admin-key.js';
import { createStore } from './create-store.js';
import { RetentionSweeper } from './retention-sweeper.js';
import { readVersion } from './version.js';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  services: CoreServices;
  log: Logger;
  url: string;
  adminKey: AdminKeyOutcome;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: { log?: Logger } = {}): Promise<RunningServer> {
  const log = options.log ?? pino({
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', 'req.headers["auth-token"]', 'req.headers.cookie', '*.secret', '*.password', '*.token'], censor: '[redacted]' },
  });
  const store = createStore(config);
  await store.open();
  let shuttingDown = false;
  const services = createCoreServices(store, {
    maxBatchEvents: config.maxBatchEvents,
    live: { pollIntervalMs: config.livePollInterval },
    liveTokenTtlMs: config.liveTokenTtl * 1000,
  });
  let app: FastifyInstance | undefined;
  const sweeper = new RetentionSweeper(store, config.retentionInterval * 1000, log.child({ component: 'retention' }));
  try {
    const adminKey = await ensureAdminKey(services.keys, { adminKey: config.adminKey, dataDir: config.dataDir });
    app = await buildApp({
      services,
      version: readVersion(),
      logger: log.child({ component: 'http' }),
      trustProxy: config.trustProxy,
      isShuttingDown: () => shuttingDown,
      limits: { bodyLimit: config.bodyLimit, maxJsonDepth: config.maxJsonDepth, maxReadLimit: config.maxReadLimit },
      live: { heartbeatMs: config.liveHeartbeat * 1000, bufferBytes: config.liveBufferBytes },
      dialects: { iflux: { stream: config.ifluxStream, anonymous: config.ifluxAnonymous } },
    });
    await app.listen({ host: config.host, port: config.port });
    sweeper.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    let closing: Promise<void> | null = null;
    const running: RunningServer = {
      app,
      store,
      services,
      log,
      url: `http://${host}:${port}`,
      adminKey,
      close: () => {
        closing ??= (async () => {
          shuttingDown = true;
          // in-flight requests get shutdownTimeout to finish; then their connections are cut
          const force = setTimeout(() => app!.server.closeAllConnections(), config.shutdownTimeout * 1000);
          force.unref();
          await app!.close();
          clearTimeout(force);
          await sweeper.close();
          await store.close();
        })();
        return closing;
      },
    };
    return running;
  } catch (err) {
    await app?.close();
    await sweeper.close();
    await store.close();
    throw err;
  }
}
