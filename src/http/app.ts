/**
 * buildApp: the HTTP application, without listening. Tests drive it with `inject()`;
 * `serve` (the composition root) listens.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { TSchema } from '@sinclair/typebox';
import type { CoreServices } from '../core/services.js';
import type { Store } from '../store/port.js';
import type { Dialect } from './dialect.js';
import { DEFAULT_LIVE_HTTP, type LiveHttpOptions } from './live/live-connections.js';
import { liveRoutes } from './live/live-routes.js';
import { liveTokenAuth } from './live/live-token-auth.js';
import { AdmissionGate, type AdmissionOptions } from './plugins/admission.js';
import { auth } from './plugins/auth.js';
import { consoleRoutes, type ConsoleOptions } from './plugins/console.js';
import { registerCors, type CorsOptions } from './plugins/cors.js';
import { registerJsonParser } from './plugins/json-body.js';
import { metricsRoutes } from './plugins/metrics.js';
import { rateGateOf, rateLimit, type RateLimitOptions } from './plugins/rate-limit.js';
import { serializeRequest } from './plugins/request-log.js';
import { childLoggerWithTrace } from './plugins/tracing.js';
import { RequestPipeline, registerSteps, step } from './request-pipeline.js';
import { serverTimeoutOptions, type ServerTimeouts } from './server-timeouts.js';
import { serverWithLane } from './lane-server.js';
import { produceLane } from './produce-lane.js';
import { RivuletMetrics } from '../observability/metrics.js';
import type { RequestSpanHook } from '../observability/trace-context.js';
import { problemErrorHandler } from './problem.js';
import { documentObject, documentRoute, TAGS } from './openapi.js';
import { parseSchemaNumbers } from './request-params.js';
import { ApiMounts, RouteTable, trackRoutes } from './unrouted.js';
import { consumersRoutes } from './routes/consumers-routes.js';
import { sinksRoutes } from './routes/sinks-routes.js';
import { actionTargetsRoutes } from './routes/action-targets-routes.js';
import { eventSourcesRoutes } from './routes/event-sources-routes.js';
import { eventTypesRoutes } from './routes/event-types-routes.js';
import { rulesRoutes } from './routes/rules-routes.js';
import { eventsRoutes } from './routes/events-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { rootRoutes } from './routes/root-routes.js';
import { keysRoutes } from './routes/keys-routes.js';
import { ratesRoutes } from './routes/rates-routes.js';
import { schemasRoutes } from './routes/schemas-routes.js';
import { specsRoutes } from './routes/specs-routes.js';
import { streamsRoutes } from './routes/streams-routes.js';
import { Event, Key, Problem, Stream } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** documents a body the route validates itself (it has several shapes) */
    openapiBody?: TSchema;
  }
}

export interface AppLimits {
  bodyLimit: number;
  maxJsonDepth: number;
  maxReadLimit: number;
}

export interface AppDeps {
  services: CoreServices;
  /** the store's health (readiness) and listings (the consumer lag gauge) */
  store: Pick<Store, 'kind' | 'health' | 'streams' | 'consumers'>;
  limits: AppLimits;
  version: string;
  /** a pino logger; none means silent */
  logger?: FastifyBaseLogger;
  trustProxy?: boolean;
  isShuttingDown?: () => boolean;
  /** more HTTP surfaces (dialects, live, console), registered after the native API */
  extensions?: ((app: FastifyInstance) => Promise<void>)[];
  /** live subscriptions' heartbeat and per-client buffer; defaults when absent */
  live?: Partial<LiveHttpOptions>;
  /** the seed systems' APIs, registered after the native API in this order (the runtime composes them); none when absent */
  dialects?: readonly Dialect[];
  /** the web console's built files; dist/console/ when absent */
  console?: ConsoleOptions;
  /** metrics (a fresh registry per app when absent), /metrics access and the tracing hook; see docs/observability.md */
  observability?: { metrics?: RivuletMetrics; metricsPublic?: boolean; onRequestSpan?: RequestSpanHook };
  /** overload protection (admission control, per-key rate limits); off when absent */
  protection?: { admission?: Omit<AdmissionOptions, 'metrics'>; rateLimit?: Omit<RateLimitOptions, 'metrics'> };
  /** how long the server waits on slow clients; defaults when absent */
  timeouts?: Partial<ServerTimeouts>;
  /** answer common produce requests in the produce lane, outside fastify's pipeline (on unless false) */
  produceLane?: boolean;
  /** cross-origin access for web pages; none when absent */
  cors?: CorsOptions;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const shuttingDown = deps.isShuttingDown ?? (() => false);
  const metrics = deps.observability?.metrics ?? new RivuletMetrics();
  const logger = deps.logger?.child({}, { serializers: { req: serializeRequest } });
  // the gates are shared by fastify's hooks and the produce lane
  const admissionGate = deps.protection?.admission
    ? new AdmissionGate({ ...deps.protection.admission, metrics })
    : undefined;
  const rateGate = rateGateOf(deps.protection?.rateLimit && { ...deps.protection.rateLimit, metrics });
  // one set of per-request steps for fastify's hooks and the produce lane
  const pipeline = new RequestPipeline({
    metrics,
    admission: admissionGate,
    logger,
    trustProxy: deps.trustProxy ?? false,
    isShuttingDown: shuttingDown,
    onRequestSpan: deps.observability?.onRequestSpan,
    cors: deps.cors,
  });
  const lane =
    deps.produceLane !== false
      ? produceLane({
          services: deps.services,
          bodyLimit: deps.limits.bodyLimit,
          maxJsonDepth: deps.limits.maxJsonDepth,
          pipeline,
          rateLimit: rateGate,
        })
      : undefined;
  // paths no route takes are answered by the API whose mount they hit
  const mounts = new ApiMounts(
    (deps.dialects ?? []).flatMap((dialect) => dialect.mounts),
    problemErrorHandler,
    new RouteTable(),
  );
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    ...(lane ? { serverFactory: serverWithLane(lane) } : {}),
    bodyLimit: deps.limits.bodyLimit,
    trustProxy: deps.trustProxy ?? false,
    genReqId: (raw) => pipeline.requestId(raw),
    childLoggerFactory: childLoggerWithTrace as never,
    ...serverTimeoutOptions(deps.timeouts),
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    routerOptions: { maxParamLength: 512 },
    frameworkErrors: mounts.frameworkErrors,
  });
  trackRoutes(app, mounts.table);

  app.setErrorHandler(mounts.errorHandler);
  app.setNotFoundHandler(mounts.notFound);
  registerJsonParser(app, deps.limits.maxJsonDepth);
  // every global request hook is a named step of the pipeline (request-pipeline.ts)
  // first of all hooks: a preflight carries no credentials and costs nothing to answer
  const cors = deps.cors;
  if (cors) await registerSteps(app, 'cors', () => registerCors(app, cors));
  // numbers in URLs pass one strict parser before Ajv coerces them (it lets Infinity through)
  app.addHook('preValidation', step('numbers in URLs', parseSchemaNumbers));
  // answer headers, admission (shedding runs before authentication: it must cost less than serving), tracing, metrics
  pipeline.registerHooks(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Rivulet',
        version: deps.version,
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
        description:
          'HTTP-first event streaming: streams, events, consumers, live subscriptions, sinks, rules, schemas and specs.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'an API key' },
          basic: { type: 'http', scheme: 'basic', description: 'any user name; the API key as password' },
          authToken: { type: 'apiKey', in: 'header', name: 'Auth-Token' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }, { authToken: [] }],
      // first the server that answered (so the docs UI tries requests against it), then any by address
      servers: [
        { url: '/', description: 'the server that answered this document' },
        {
          url: '{scheme}://{host}',
          description: 'a Rivulet server (rivulet serve listens on 127.0.0.1:8080 by default)',
          variables: { scheme: { default: 'http', enum: ['http', 'https'] }, host: { default: '127.0.0.1:8080' } },
        },
      ],
      tags: TAGS,
    },
    transform: documentRoute as never,
    transformObject: ((input: { openapiObject: never }) => documentObject(input.openapiObject)) as never,
  });
  for (const schema of [Problem, Stream, Event, Key]) app.addSchema(schema);
  await registerSteps(app, 'auth', () =>
    app.register(auth, {
      keys: deps.services.keys,
      alternatives: [liveTokenAuth(deps.services.liveTokens)],
      streamOwner: (name) => deps.services.streams.ownerOf(name),
    }),
  );
  if (rateGate) await registerSteps(app, 'rate limit', () => app.register(rateLimit, { gate: rateGate }));
  await app.register(metricsRoutes, {
    metrics,
    services: deps.services,
    store: deps.store,
    public: deps.observability?.metricsPublic,
  });
  // upgrades are routed through fastify, so WebSocket routes pass the same auth hooks
  await registerSteps(app, 'websocket', () => app.register(websocket, { options: { maxPayload: 64 * 1024 } }));

  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), access: { scope: 'public' } };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
  app.get('/openapi.json', { config: { access: { scope: 'public' } }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  await app.register(healthRoutes(deps.store, shuttingDown));
  await app.register(streamsRoutes(deps.services));
  await app.register(
    eventsRoutes(deps.services, { maxReadLimit: deps.limits.maxReadLimit, maxJsonDepth: deps.limits.maxJsonDepth }),
  );
  await app.register(keysRoutes(deps.services));
  await app.register(schemasRoutes(deps.services));
  await app.register(specsRoutes(deps.services, { maxJsonDepth: deps.limits.maxJsonDepth }));
  await app.register(liveRoutes(deps.services, { ...DEFAULT_LIVE_HTTP, ...deps.live }));
  await app.register(consumersRoutes(deps.services));
  await app.register(sinksRoutes(deps.services));
  await app.register(eventSourcesRoutes(deps.services));
  await app.register(eventTypesRoutes(deps.services));
  await app.register(actionTargetsRoutes(deps.services));
  await app.register(rulesRoutes(deps.services));
  await app.register(ratesRoutes(deps.services));
  await app.register(consoleRoutes(deps.console));
  await app.register(rootRoutes);
  for (const dialect of deps.dialects ?? []) await dialect.register(app);
  for (const extension of deps.extensions ?? []) await app.register(extension);
  return app;
}
