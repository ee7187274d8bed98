/**
 * The OpenAPI document's shape, decided in one place rather than in every route file: each
 * operation's stable `operationId`, its tags (an area of the native API, or its dialect),
 * `security: []` on public routes, the statuses every route can answer besides its own
 * (401/403 before a route runs, 429 and 503 from the overload gates, 413/415 on bodies), the
 * media types (CloudEvents, Server-Sent Events, Prometheus text), and the dialect routes,
 * which validate their own input and so carry no schema of their own.
 *
 * `operationIds` names the native operations by hand, so renaming a URL does not rename an
 * operation in generated clients; dialect operations get theirs from their dialect and path.
 * A test checks that every documented operation has one, that they are unique, and that the
 * document passes `redocly lint` and swagger-parser's validation.
 */
import type { RouteOptions } from 'fastify';
import type { Access } from './plugins/auth.js';

type Schema = Record<string, unknown> & {
  hide?: boolean;
  tags?: string[];
  response?: Record<string, unknown>;
  summary?: string;
};
type OpenApiDoc = { paths?: Record<string, Record<string, Operation>>; [key: string]: unknown };
type Operation = {
  operationId?: string;
  tags?: string[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
  [key: string]: unknown;
};

/** `METHOD url` (fastify's route url) → operationId, for the native API and the server's own routes */
export const OPERATION_IDS: Record<string, string> = {
  'GET /': 'openConsole',
  'GET /healthz': 'getHealth',
  'GET /readyz': 'getReadiness',
  'GET /metrics': 'getMetrics',
  'POST /v1/streams': 'createStream',
  'GET /v1/streams': 'listStreams',
  'GET /v1/streams/:name': 'getStream',
  'PATCH /v1/streams/:name': 'updateStream',
  'DELETE /v1/streams/:name': 'deleteStream',
  'POST /v1/streams/:name/events': 'produceEvents',
  'GET /v1/streams/:name/events': 'readEvents',
  'GET /v1/streams/:name/events/:id': 'getEvent',
  'GET /v1/streams/:name/live': 'followStream',
  'POST /v1/live-tokens': 'createLiveToken',
  'GET /v1/streams/:name/rates': 'getStreamRates',
  'GET /v1/rates': 'listStreamRates',
  'POST /v1/keys': 'createKey',
  'GET /v1/keys': 'listKeys',
  'GET /v1/keys/:id': 'getKey',
  'DELETE /v1/keys/:id': 'revokeKey',
  'GET /v1/whoami': 'whoAmI',
  'GET /v1/streams/:name/schemas': 'listSchemas',
  'POST /v1/streams/:name/schemas/:type': 'registerSchema',
  'GET /v1/streams/:name/schemas/:type': 'getSchema',
  'GET /v1/streams/:name/schemas/:type/versions/:version': 'getSchemaVersion',
  'DELETE /v1/streams/:name/schemas/:type/versions/:version': 'deleteSchemaVersion',
  'PUT /v1/streams/:name/schemas/:type/compatibility': 'setSchemaCompatibility',
  'POST /v1/streams/:name/schemas/:type/compatibility': 'checkSchemaCompatibility',
  'POST /v1/streams/:name/validate': 'validateEvents',
  'POST /v1/specs': 'uploadSpec',
  'POST /v1/specs/plan': 'planSpec',
  'GET /v1/specs': 'listSpecs',
  'GET /v1/specs/:owner/:dataset/revisions': 'listSpecRevisions',
  'GET /v1/specs/:owner/:dataset/revisions/:revision': 'getSpecRevision',
  'POST /v1/specs/:owner/:dataset/revisions/:revision/apply': 'applySpecRevision',
  'POST /v1/specs/pipeline-events': 'reportPipelineEvent',
  'POST /v1/streams/:name/consumers': 'createConsumer',
  'GET /v1/streams/:name/consumers': 'listConsumers',
  'GET /v1/streams/:name/consumers/:consumer': 'getConsumer',
  'DELETE /v1/streams/:name/consumers/:consumer': 'deleteConsumer',
  'GET /v1/streams/:name/consumers/:consumer/lag': 'getConsumerLag',
  'GET /v1/streams/:name/consumers/:consumer/events': 'readConsumerEvents',
  'POST /v1/streams/:name/consumers/:consumer/commit': 'commitConsumer',
  'POST /v1/streams/:name/consumers/:consumer/receive': 'receiveEvents',
  'POST /v1/streams/:name/consumers/:consumer/ack': 'ackEvents',
  'POST /v1/streams/:name/consumers/:consumer/nack': 'nackEvents',
  'POST /v1/streams/:name/consumers/:consumer/release': 'releaseEvents',
  'POST /v1/streams/:name/consumers/:consumer/extend': 'extendLeases',
  'POST /v1/streams/:name/consumers/:consumer/seek': 'seekConsumer',
  'POST /v1/sinks': 'createSink',
  'POST /v1/sinks/dry-run': 'dryRunSink',
  'GET /v1/sinks': 'listSinks',
  'GET /v1/sinks/:id': 'getSink',
  'PATCH /v1/sinks/:id': 'updateSink',
  'DELETE /v1/sinks/:id': 'deleteSink',
  'POST /v1/sinks/:id/pause': 'pauseSink',
  'POST /v1/sinks/:id/resume': 'resumeSink',
  'POST /v1/sinks/:id/seek': 'seekSink',
  'POST /v1/sinks/:id/replay': 'replaySink',
  'POST /v1/sinks/:id/dead-letters/retry': 'retrySinkDeadLetters',
  'GET /v1/sinks/:id/attempts': 'listSinkAttempts',
  'GET /v1/sinks/:id/rates': 'getSinkRates',
  'POST /v1/event-sources': 'createEventSource',
  'GET /v1/event-sources': 'listEventSources',
  'GET /v1/event-sources/:id': 'getEventSource',
  'PATCH /v1/event-sources/:id': 'updateEventSource',
  'DELETE /v1/event-sources/:id': 'deleteEventSource',
  'POST /v1/event-types': 'createEventType',
  'GET /v1/event-types': 'listEventTypes',
  'GET /v1/event-types/:id': 'getEventType',
  'PATCH /v1/event-types/:id': 'updateEventType',
  'DELETE /v1/event-types/:id': 'deleteEventType',
  'POST /v1/action-targets': 'createActionTarget',
  'GET /v1/action-targets': 'listActionTargets',
  'GET /v1/action-targets/:id': 'getActionTarget',
  'PATCH /v1/action-targets/:id': 'updateActionTarget',
  'DELETE /v1/action-targets/:id': 'deleteActionTarget',
  'POST /v1/rules': 'createRule',
  'GET /v1/rules': 'listRules',
  'GET /v1/rules/:id': 'getRule',
  'PATCH /v1/rules/:id': 'updateRule',
  'DELETE /v1/rules/:id': 'deleteRule',
  'POST /v1/rules/:id/enable': 'enableRule',
  'POST /v1/rules/:id/disable': 'disableRule',
  'POST /v1/rules/:id/validate': 'validateRule',
  'GET /v1/rules/:id/attempts': 'listRuleAttempts',
  'POST /v1/rules/:id/dead-letters/retry': 'retryRuleDeadLetters',
};

/** the dialects, by where they are mounted; the okdata mount at the root (the seed's curl examples) is the same API and stays out of the document */
const DIALECTS: { tag: string; prefix: RegExp; description: string }[] = [
  {
    tag: 'dialect: eventserver',
    prefix: /^\/api\/v1\/streams\//,
    description: "The event server's API (Basic auth, the key as password). See docs/dialects/eventserver.md.",
  },
  {
    tag: 'dialect: iflux',
    prefix: /^\/events\/?$/,
    description: 'iFLUX event posting; anonymous if the server allows it. See docs/dialects/iflux.md.',
  },
  {
    tag: 'dialect: specstore',
    prefix: /^\/source\//,
    description: "The spec store's API (`Auth-Token`). See docs/dialects/specstore.md.",
  },
  {
    tag: 'dialect: aether',
    prefix: /^\/jobs?\//,
    description: 'Aether jobs (Basic auth). See docs/dialects/aether.md.',
  },
  {
    tag: 'dialect: okdata',
    prefix: /^\/streams\//,
    description:
      'okdata datasets and their events and sinks (Bearer); also mounted at the root. See docs/dialects/okdata.md.',
  },
  {
    tag: 'dialect: durable-streams',
    prefix: /^\/ds\//,
    description:
      'The Durable Streams protocol: a stream per path under /ds; create, append, catch-up, long-poll and SSE reads. See docs/dialects/durable-streams.md.',
  },
];

export const TAGS: { name: string; description: string }[] = [
  { name: 'streams', description: 'Streams and their settings' },
  { name: 'events', description: 'Produce and read events' },
  { name: 'live', description: 'Follow streams live (Server-Sent Events, WebSocket)' },
  { name: 'consumers', description: 'Durable read positions, cursors and leases' },
  { name: 'sinks', description: 'Continuous delivery to http, s3, opensearch and other streams' },
  { name: 'rules', description: 'Event sources, event types, action targets and rules' },
  { name: 'schemas', description: 'JSON Schemas per event type, versioned' },
  { name: 'specs', description: 'Declarative specs of datasets, uploaded as revisions and applied' },
  { name: 'keys', description: 'API keys and scopes' },
  { name: 'health', description: 'Liveness and readiness' },
  { name: 'meta', description: 'The server itself: metrics, the console' },
  ...DIALECTS.map((d) => ({ name: d.tag, description: d.description })),
];

const ANY = 'Any';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const STATUS_TEXT: Record<string, string> = {
  400: 'the request is malformed or invalid; the answer says why',
  401: 'no key, or not a valid one',
  403: 'the key lacks the scope this route needs',
  404: 'no such resource',
  413: 'the body is larger than the server accepts',
  415: "the body's media type is not one this route reads",
  429: 'the key sent more requests than its rate limit; see Retry-After',
  503: 'the server is overloaded or shutting down; see Retry-After',
};

function dialectOf(url: string): (typeof DIALECTS)[number] | undefined {
  return DIALECTS.find((d) => d.prefix.test(url));
}

/** `/job/:id/set_offset/:offset` → `/job/{id}/set_offset/{offset}`; a trailing wildcard (`/ds/*`) is the `{path}` parameter */
function openApiPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{path}');
}

/** `aether` + `POST /job/:id/start` → `aetherPostJobIdStart`; `durable-streams` → `durableStreams…` */
function derivedOperationId(prefix: string, method: string, url: string): string {
  const camel = (w: string) => w[0]!.toUpperCase() + w.slice(1);
  const words = url
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map(camel);
  const head = prefix
    .split('-')
    .map((w, i) => (i === 0 ? w : camel(w)))
    .join('');
  return `${head}${method[0]!.toUpperCase()}${method.slice(1).toLowerCase()}${words.join('')}`;
}

/** a route's methods as the document shows them: a HEAD beside a GET is fastify's and left out; a HEAD of its own is kept */
function methodsOf(route: { method: string | string[] }): string[] {
  const all = Array.isArray(route.method) ? route.method : [route.method];
  const shown = all.filter((m) => m !== 'HEAD');
  return shown.length > 0 ? shown : all;
}

/** hidden from the document on purpose: the docs UI, the document itself, the console's files, okdata's root mount, the CORS preflights */
function keptOut(url: string, schema: Schema | undefined): boolean {
  // `/events/` beside `/events`: the same operation
  if (url.length > 1 && url.endsWith('/')) return true;
  if (url === '/metrics' || dialectOf(url)) return false;
  return schema?.hide === true;
}

/** @fastify/swagger's per-route transform: the route's schema as the document shows it */
export function documentRoute(input: { schema: Schema | undefined; url: string; route: RouteOptions }): {
  schema: Schema;
  url: string;
} {
  const { url, route } = input;
  const schema: Schema = { ...(input.schema ?? {}) };
  const body = route.config?.openapiBody;
  if (body) schema.body = body;
  if (keptOut(url, input.schema)) return { schema, url };
  schema.hide = false;
  const documentedUrl = url.endsWith('/*') ? openApiPath(url) : url;
  const methods = methodsOf(route);
  const method = methods[0] ?? 'GET';
  const dialect = dialectOf(url);
  const access = route.config?.access as Access | undefined;
  const isPublic = access?.scope === 'public';
  if (dialect) {
    schema.tags = [dialect.tag];
    schema.summary ??= `${dialect.tag.replace('dialect: ', '')}: ${method} ${openApiPath(url)}`;
    // a route of several methods is one operation per method in the document: `Any` is replaced by each (documentObject)
    schema.operationId = derivedOperationId(
      dialect.tag.replace('dialect: ', ''),
      methods.length > 1 ? ANY : method,
      url,
    );
  } else {
    schema.operationId = OPERATION_IDS[`${method} ${url}`] ?? derivedOperationId('', method, url);
    if (url === '/metrics') {
      schema.tags = ['meta'];
      schema.summary ??= 'Prometheus metrics';
      schema.description ??=
        'Prometheus text exposition format. Needs the admin key unless the server runs with --metrics-public.';
    }
  }
  if (isPublic) schema.security = [];
  // what every route can answer besides its own answers; dialects answer in their own error formats
  const response: Record<string, unknown> = { ...(schema.response ?? {}) };
  const add = (status: number) => {
    if (response[status] !== undefined) return;
    response[status] = dialect
      ? { description: `${STATUS_TEXT[status]} (in the dialect's error format)`, type: 'null' }
      : { $ref: 'Problem' };
  };
  if (!isPublic) {
    add(401);
    if (access?.scope !== 'authenticated' || dialect) add(403);
    if (url !== '/metrics') add(429);
  }
  if (methods.some((m) => BODY_METHODS.has(m))) {
    add(400);
    add(413);
    add(415);
  }
  add(503);
  // routes that answer only errors in the schema get their success documented as such
  if (!Object.keys(response).some((s) => s.startsWith('2') || s.startsWith('3'))) {
    response[method === 'POST' ? 201 : 200] = { description: 'success', type: 'null' };
  }
  schema.response = response;
  return { schema, url: documentedUrl };
}

const CLOUDEVENTS = 'application/cloudevents+json';
const CLOUDEVENTS_BATCH = 'application/cloudevents-batch+json';

/** @fastify/swagger's whole-document transform: media types and parameters that no route schema can say */
export function documentObject(doc: OpenApiDoc): OpenApiDoc {
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const [method, shared] of Object.entries(operations)) {
      // the operations of a several-method route share one object: each gets its own copy and id
      const op: Operation = shared.operationId?.includes(ANY) ? structuredClone(shared) : shared;
      if (op !== shared) {
        op.operationId = shared.operationId!.replace(ANY, method[0]!.toUpperCase() + method.slice(1));
        operations[method] = op;
      }
      // a path parameter a dialect route does not declare is still a parameter
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        op.parameters ??= [];
        if (!op.parameters.some((p) => p.in === 'path' && p.name === name))
          op.parameters.push({ in: 'path', name: name!, required: true, schema: { type: 'string' } } as never);
      }
      // fastify's default description; the statuses above carry their own
      for (const [status, answer] of Object.entries(op.responses ?? {})) {
        if (answer.description === 'Default Response')
          answer.description = STATUS_TEXT[status] ?? (status.startsWith('2') ? 'success' : 'see the problem details');
        if (status.startsWith('4') || status.startsWith('5')) {
          const json = answer.content?.['application/json'];
          if (json) answer.content = { 'application/problem+json': json };
        }
      }
    }
  }
  const produce = doc.paths?.['/v1/streams/{name}/events']?.post;
  const json = produce?.requestBody?.content?.['application/json'] as { schema?: unknown } | undefined;
  if (produce && json) {
    const cloudEvent = {
      type: 'object',
      description: 'a CloudEvents 1.0 structured event',
      required: ['specversion', 'id', 'source', 'type'],
      properties: {
        specversion: { type: 'string', const: '1.0' },
        id: { type: 'string' },
        source: { type: 'string' },
        type: { type: 'string' },
        time: { type: 'string', format: 'date-time' },
        datacontenttype: { type: 'string' },
        data: {},
      },
      additionalProperties: true,
    };
    produce.requestBody!.content![CLOUDEVENTS] = { schema: cloudEvent };
    produce.requestBody!.content![CLOUDEVENTS_BATCH] = { schema: { type: 'array', items: cloudEvent } };
    // binary mode: the data is the body, in its own media type, and the attributes are ce-* headers
    produce.requestBody!.content!['*/*'] = { schema: {} };
  }
  const read = doc.paths?.['/v1/streams/{name}/events']?.get?.responses?.['200'];
  if (read?.content)
    read.content[CLOUDEVENTS_BATCH] = {
      schema: {
        type: 'array',
        items: { type: 'object' },
        description: 'with Accept: application/cloudevents-batch+json',
      },
    };
  const live = doc.paths?.['/v1/streams/{name}/live']?.get;
  if (live?.responses) {
    live.responses['200'] = {
      description:
        'Server-Sent Events: `id:` the seq, `data:` the event as JSON; unnamed unless `events=named`. Control events `rivulet:reset` and `rivulet:error`.',
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    };
    live.responses['101'] = {
      description: 'switched to a WebSocket (with Upgrade: websocket): one JSON text message per event',
    };
  }
  const metrics = doc.paths?.['/metrics']?.get;
  if (metrics?.responses)
    metrics.responses['200'] = {
      description: 'the metrics',
      content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
    };
  const root = doc.paths?.['/']?.get;
  if (root?.responses) {
    delete root.responses['200'];
    root.responses['302'] = { description: 'to the console at /console/' };
  }
  return doc;
}
