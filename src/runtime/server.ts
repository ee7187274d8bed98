/**
 * The composition root: configuration in, a running server out. Builds the store, the
 * core services, the background workers and the HTTP app, and closes them in order.
 */
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from '../config/load-config.js';
import { createCoreServices, type CoreServices } from '../core/services.js';
import { createDelivery } from '../delivery/delivery-setup.js';
import { buildApp } from '../http/app.js';
import { RivuletMetrics } from '../observability/metrics.js';
import { errWithoutUrlSecrets } from '../observability/log-redaction.js';
import type { RequestSpanHook } from '../observability/trace-context.js';
import type { Store } from '../store/port.js';
import { ensureAdminKey, type AdminKeyOutcome } from './admin-key.js';
import { createStore } from './create-store.js';
import { openStoreWhenReachable, whileStoreUnavailable } from './open-store.js';
import { listenWhileStarting } from './starting-server.js';
import { RetentionSweeper } from './retention-sweeper.js';
import { SpecApplier } from '../core/specs/spec-applier.js';
import { SpecScheduler } from '../core/specs/spec-scheduler.js';
import { applySpecsDir } from './specs-dir.js';
import { okdataSinkOptions } from './okdata-sink-config.js';
import { defaultTargets } from '../delivery/targets/registry.js';
import { loadAetherJobsDir } from './aether-jobs-dir.js';
import { DIALECT_SPEC_SECTIONS } from './dialect-spec-sections.js';
import { composeDialects } from './dialects.js';
import { readVersion } from './version.js';
import { prettyLogDestination } from '../observability/pretty-log.js';
import pc from 'picocolors';

/** `auto`: readable lines on a terminal, JSON for whatever collects the logs otherwise */
export function logFormatOf(
  config: Pick<Config, 'logFormat'>,
  stdout: { isTTY?: boolean } = process.stdout,
): 'pretty' | 'json' {
  if (config.logFormat !== 'auto') return config.logFormat;
  return stdout.isTTY ? 'pretty' : 'json';
}

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  services: CoreServices;
  log: Logger;
  url: string;
  adminKey: AdminKeyOutcome;
  /** the process's metrics; `metrics.sinks` is the recorder the delivery engine reports to */
  metrics: RivuletMetrics;
  close(): Promise<void>;
  /** what `close` is waiting for now (`http`, `sinks`, `store`, …); null before and after */
  closingStep(): string | null;
  /** how long `close` may take before the process should give up on it and exit */
  closeDeadlineMs: number;
}

/** beyond the in-flight requests' time: sinks' grace (5 s), the store's bounded close (10 s), and slack */
const CLOSE_MARGIN_MS = 30_000;

export interface StartOptions {
  log?: Logger;
  /** a tracer's hook, called for every request with its W3C trace context (docs/observability.md) */
  onRequestSpan?: RequestSpanHook;
}

/** The server could not take its address; `message` is one line saying which and what to do. */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

async function explainListenError<T>(host: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (code === 'EADDRINUSE')
      throw new ListenError(
        `cannot listen on ${address}: another process is using it; stop that process or choose another port with --port (RIVULET_PORT)`,
        code,
      );
    if (code === 'EACCES')
      throw new ListenError(
        `cannot listen on ${address}: not permitted (ports below 1024 need privileges); choose a port above 1023 with --port`,
        code,
      );
    if (code === 'EADDRNOTAVAIL')
      throw new ListenError(
        `cannot listen on ${address}: this machine has no such address; choose one of its addresses with --host (0.0.0.0 for all)`,
        code,
      );
    throw err;
  }
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log =
    options.log ??
    pino(
      {
        level: config.logLevel,
        redact: {
          paths: [
            'req.headers.authorization',
            'req.headers["auth-token"]',
            'req.headers.cookie',
            '*.secret',
            '*.password',
            '*.token',
          ],
          censor: '[redacted]',
        },
        serializers: { err: errWithoutUrlSecrets },
      },
      logFormatOf(config) === 'pretty'
        ? prettyLogDestination({ colour: pc.isColorSupported, write: (text) => process.stdout.write(text) })
        : undefined,
    );
  // checked before anything is opened, so a mistake stops the start-up cleanly
  const okdataSinks = okdataSinkOptions(config, defaultTargets());
  const metrics = new RivuletMetrics();
  const store = await createStore(config, { onCommit: (info) => metrics.commit(info) });
  // the port is taken first: a port in use ends the start-up before anything is opened or
  // written, and probes get an answer while an unreachable cluster is waited for
  const starting = await explainListenError(config.host, config.port, () =>
    listenWhileStarting(config.host, config.port, store.kind),
  );
  const waiting = { log, onWaiting: (reason: string) => starting.setReason(reason) };
  try {
    await openStoreWhenReachable(store, waiting);
  } catch (err) {
    await starting.close();
    throw err;
  }
  starting.setReason('the store is open; starting the services');
  let shuttingDown = false;
  const delivery = createDelivery({ allowLoopback: config.sinkAllowLoopback, allowPrivate: config.sinkAllowPrivate });
  const services = createCoreServices(store, {
    sinkChecks: delivery.checks,
    maxBatchEvents: config.maxBatchEvents,
    live: { pollIntervalMs: config.livePollInterval },
    liveTokenTtlMs: config.liveTokenTtl * 1000,
    specPlanLimit: config.specPlanLimit,
    rulesStream: config.ifluxStream,
    specSections: DIALECT_SPEC_SECTIONS,
  });
  let app: FastifyInstance | undefined;
  const sweeper = new RetentionSweeper(store, config.retentionInterval * 1000, log.child({ component: 'retention' }));
  const engine = delivery.engine(services, store, log.child({ component: 'delivery' }), {
    ownerLeaseMs: config.sinkOwnerLease * 1000,
    metrics: metrics.sinks,
  });
  const applier = new SpecApplier(services.specs, log.child({ component: 'specs' }));
  const scheduler = new SpecScheduler(services.specs, log.child({ component: 'specs' }));
  try {
    const adminKey = await whileStoreUnavailable(
      'registering the admin key',
      () => ensureAdminKey(services.keys, { adminKey: config.adminKey, dataDir: config.dataDir }),
      waiting,
    );
    applier.start();
    scheduler.start();
    if (config.specsDir) {
      for (const outcome of await whileStoreUnavailable(
        'applying --specs-dir',
        () => applySpecsDir(config.specsDir!, services.specs),
        waiting,
      ))
        log.info(
          outcome,
          outcome.revision ? 'spec applied from --specs-dir' : 'spec in --specs-dir is already the latest revision',
        );
    }
    // after the specs, which may create the streams the jobs read
    if (config.aetherJobsDir) {
      for (const outcome of await whileStoreUnavailable(
        'loading --aether-jobs-dir',
        () =>
          loadAetherJobsDir(config.aetherJobsDir!, {
            sinks: services.sinks,
            clock: services.clock,
            documents: store.documents,
          }),
        waiting,
      ))
        log.info(
          outcome,
          outcome.outcome === 'created'
            ? 'aether job created from --aether-jobs-dir'
            : 'aether job exists already; the file is ignored',
        );
    }
    app = await buildApp({
      services,
      store,
      version: readVersion(),
      logger: log.child({ component: 'http' }),
      trustProxy: config.trustProxy,
      isShuttingDown: () => shuttingDown,
      limits: { bodyLimit: config.bodyLimit, maxJsonDepth: config.maxJsonDepth, maxReadLimit: config.maxReadLimit },
      live: { heartbeatMs: config.liveHeartbeat * 1000, bufferBytes: config.liveBufferBytes },
      dialects: composeDialects(
        services,
        store,
        {
          iflux: { stream: config.ifluxStream, anonymous: config.ifluxAnonymous },
          durableStreams: {
            anonymous: config.durableStreamsAnonymous,
            pageCacheBytes: config.durableStreamsPageCacheBytes,
          },
          okdata: okdataSinks,
        },
        { maxJsonDepth: config.maxJsonDepth },
      ).dialects,
      observability: { metrics, metricsPublic: config.metricsPublic, onRequestSpan: options.onRequestSpan },
      protection: {
        admission: { maxInflightProduce: config.maxInflightProduce, maxEventLoopDelayMs: config.maxEventLoopDelay },
        rateLimit: {
          perSecond: config.rateLimit,
          ...(config.rateLimitBurst > 0 ? { burst: config.rateLimitBurst } : {}),
        },
      },
      produceLane: config.produceLane === 'on',
      ...(config.corsOrigin ? { cors: { origins: config.corsOrigin } } : {}),
      timeouts: { headersTimeoutMs: config.headersTimeout * 1000, requestTimeoutMs: config.requestTimeout * 1000 },
    });
    await starting.close();
    await explainListenError(config.host, starting.port, () => app!.listen({ host: config.host, port: starting.port }));
    sweeper.start();
    engine.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    let closing: Promise<void> | null = null;
    let step: string | null = null;
    /** each step is logged, so a shutdown that stalls says where */
    const closeStep = async (name: string, close: () => Promise<void>): Promise<void> => {
      step = name;
      log.info({ step: name }, 'shutdown: closing');
      await close();
    };
    const running: RunningServer = {
      app,
      store,
      services,
      log,
      url: `http://${host}:${port}`,
      adminKey,
      metrics,
      closeDeadlineMs: config.shutdownTimeout * 1000 + CLOSE_MARGIN_MS,
      closingStep: () => step,
      close: () => {
        closing ??= (async () => {
          shuttingDown = true;
          // in-flight requests get shutdownTimeout to finish; then their connections are cut
          const force = setTimeout(() => app!.server.closeAllConnections(), config.shutdownTimeout * 1000);
          force.unref();
          await closeStep('http', () => app!.close());
          clearTimeout(force);
          await closeStep('retention', () => sweeper.close());
          await closeStep('sinks', () => engine.close());
          await closeStep('rules', () => scheduler.close());
          await closeStep('specs', () => applier.close());
          await closeStep('store', () => store.close());
          step = null;
        })();
        return closing;
      },
    };
    return running;
  } catch (err) {
    await starting.close();
    await app?.close();
    await sweeper.close();
    await scheduler.close();
    await applier.close();
    await store.close();
    throw err;
  }
}
