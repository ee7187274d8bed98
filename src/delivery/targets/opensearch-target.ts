/**
 * The `opensearch` target: each batch is one `_bulk` request (OpenSearch, or Elasticsearch,
 * whose bulk API is the same) of `index` actions into time-based indices
 * (opensearch-index-name.ts), with `_id` = the item's deliveryId, so a retried or redelivered
 * event overwrites its own document instead of adding a second one.
 *
 * Outcomes (docs/delivery-targets.md):
 * - per document, from the bulk response's `items`: 2xx → success; 429 and 5xx (a full
 *   queue, a shard not ready) → retry; other statuses (mapper_parsing_exception,
 *   document_parsing_exception, illegal_argument_exception… all 400) → permanent with
 *   `type: reason`, which the engine dead-letters;
 * - for the whole request: no answer (refused, reset, timeout), 408, 429, 5xx → every item
 *   retries; other statuses (401, 403, 413…) → every item permanent.
 * The client's own retries are off: retries belong to the engine.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Client } from '@opensearch-project/opensearch';
import type { JsonObject, JsonValue } from '../../kernel/envelope.js';
import type { OmittedSecrets } from '../../core/sinks/sink-model.js';
import { parseRetryAfter } from '../backoff.js';
import { REDACTED } from '../../kernel/secret-names.js';
import { redactedUrl, restoredUrl } from '../../kernel/secret-urls.js';
import {
  ConfigReader,
  checkServiceUrl,
  guardRefusal,
  invalidTarget,
  pointerOf,
  verifyServiceUrl,
} from './target-config.js';
import { DATE_SUFFIXES, indexName, indexTemplateProblem } from './opensearch-index-name.js';
import { configCopy, resolveSecret, secretGroup } from './target-secrets.js';
import type { DateSuffix } from './opensearch-index-name.js';
import type {
  BatchOutcome,
  DeliverContext,
  DeliveryItem,
  DeliveryTarget,
  ItemOutcome,
  TargetDeps,
  TargetFactory,
} from './target.js';

export type OpenSearchTargetConfig = {
  kind: 'opensearch';
  /** the cluster's node URLs; requests go round-robin to the live ones */
  node: string[];
  auth?: { username: string; password: string } | { apiKey: string };
  /** index name (template): `{stream}` is replaced by the event's stream, lower case */
  index: string;
  dateSuffix: DateSuffix;
  /** what is indexed: the whole event envelope, or the sink's mapped payload (must be an object) */
  body: 'event' | 'payload';
  maxBatchEvents: number;
  /** bulk `refresh`: make the documents searchable before answering (slow; for tests and demos) */
  refresh?: 'true' | 'false' | 'wait_for';
};

export const OPENSEARCH_DEFAULT_MAX_BATCH_EVENTS = 500;
export const OPENSEARCH_MAX_BATCH_EVENTS = 10_000;
/** Longest a bulk request may take when the engine's signal does not end it sooner. */
const REQUEST_TIMEOUT_MS = 120_000;

const FIELDS = ['kind', 'node', 'auth', 'index', 'dateSuffix', 'body', 'maxBatchEvents', 'refresh'];

function check(config: unknown): OpenSearchTargetConfig {
  const r = ConfigReader.root(config, 'opensearch');
  r.only(FIELDS);
  const index = r.string('index', { required: true });
  const problem = indexTemplateProblem(index);
  if (problem !== undefined) throw r.fail('index', problem);
  const normalised: OpenSearchTargetConfig = {
    kind: 'opensearch',
    node: checkNodes(r.raw('node')),
    index,
    dateSuffix: r.oneOf('dateSuffix', DATE_SUFFIXES, 'monthly'),
    body: r.oneOf('body', ['event', 'payload'], 'event'),
    maxBatchEvents: r.integer('maxBatchEvents', OPENSEARCH_DEFAULT_MAX_BATCH_EVENTS, 1, OPENSEARCH_MAX_BATCH_EVENTS),
  };
  const auth = checkAuth(r);
  if (auth !== undefined) normalised.auth = auth;
  const refresh = r.raw('refresh');
  if (refresh !== undefined) {
    const text = typeof refresh === 'boolean' ? String(refresh) : refresh;
    if (text !== 'true' && text !== 'false' && text !== 'wait_for')
      throw r.fail('refresh', 'must be true, false or "wait_for"');
    normalised.refresh = text;
  }
  return normalised;
}

function checkNodes(value: unknown): string[] {
  if (value === undefined)
    throw invalidTarget('node is required: the URL of an OpenSearch node, or a list of them', pointerOf(['node']));
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > 32) throw invalidTarget('node must list 1 to 32 URLs', pointerOf(['node']));
  return list.map((url, i) => checkServiceUrl(url, Array.isArray(value) ? ['node', String(i)] : ['node']));
}

function checkAuth(r: ConfigReader): OpenSearchTargetConfig['auth'] {
  const a = r.object('auth');
  if (a === undefined) return undefined;
  if (a.has('apiKey')) {
    a.only(['apiKey']);
    return { apiKey: a.string('apiKey', { required: true, max: 4096 }) };
  }
  a.only(['username', 'password', 'apiKey']);
  return {
    username: a.string('username', { required: true, max: 1024 }),
    password: a.string('password', { required: true, max: 4096 }),
  };
}

function redact(config: OpenSearchTargetConfig): JsonObject {
  const { auth, refresh, ...rest } = config;
  const shown: JsonObject = { ...rest, node: config.node.map(redactedUrl) };
  if (refresh !== undefined) shown['refresh'] = refresh;
  if (auth !== undefined)
    shown['auth'] = 'apiKey' in auth ? { apiKey: REDACTED } : { username: auth.username, password: REDACTED };
  return shown;
}

/**
 * `auth.password` or `auth.apiKey` of a configuration given on a change (target-secrets.ts); a
 * stored secret is kept only for the same way of authenticating (a password for a password).
 */
function resolveSecrets(given: unknown, stored: OpenSearchTargetConfig | null, omitted: OmittedSecrets): unknown {
  const config = configCopy(given);
  if (config === undefined) return given;
  // node URLs carry no userinfo (checkServiceUrl), but may carry a secret-named parameter
  const node = config['node'];
  if (typeof node === 'string') config['node'] = restoredUrl(node, stored?.node[0], pointerOf(['node']));
  if (Array.isArray(node))
    config['node'] = node.map((u: unknown, i) =>
      typeof u === 'string' ? restoredUrl(u, stored?.node[i], pointerOf(['node', String(i)])) : u,
    );
  const auth = secretGroup(config, 'auth', stored?.auth, omitted);
  if (auth !== undefined) {
    const storedKey = stored?.auth !== undefined && 'apiKey' in stored.auth ? stored.auth.apiKey : undefined;
    const storedPassword = stored?.auth !== undefined && 'password' in stored.auth ? stored.auth.password : undefined;
    if (auth['apiKey'] !== undefined && auth['apiKey'] !== null)
      resolveSecret(auth, 'apiKey', storedKey, omitted, ['auth']);
    else {
      if (auth['apiKey'] === null) delete auth['apiKey'];
      resolveSecret(auth, 'password', storedPassword, omitted, ['auth']);
    }
  }
  return config;
}

interface BulkItemResult {
  status?: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } } | string;
}

interface BulkResponseBody {
  errors?: boolean;
  items?: Record<string, BulkItemResult>[];
}

/** When the sink is saved: a node on a refused address is refused then, not at delivery. */
async function verify(config: OpenSearchTargetConfig, deps: TargetDeps): Promise<void> {
  for (const [i, url] of config.node.entries()) await verifyServiceUrl(deps.urlGuard, url, ['node', String(i)]);
}

function create(config: OpenSearchTargetConfig, deps: TargetDeps): DeliveryTarget {
  const agents: (HttpAgent | HttpsAgent)[] = [];
  // the client library is loaded by the first delivery: a server without OpenSearch sinks
  // never holds it in memory
  let loaded: Promise<Client> | undefined;
  const clientOf = () =>
    (loaded ??= import('@opensearch-project/opensearch').then(({ Client }) => new Client(options)));
  const options: ConstructorParameters<typeof Client>[0] = {
    nodes: config.node,
    ...(config.auth !== undefined && 'username' in config.auth
      ? { auth: { username: config.auth.username, password: config.auth.password } }
      : {}),
    ...(config.auth !== undefined && 'apiKey' in config.auth
      ? { headers: { authorization: `ApiKey ${config.auth.apiKey}` } }
      : {}),
    maxRetries: 0,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // a failed node is tried again after a pause, without the client's own ping requests
    resurrectStrategy: 'optimistic',
    // The guard's lookup checks every address connected to (DNS rebinding); IP literals,
    // which Node never looks up, were settled by checkNodes below.
    agent: (options: { url: URL }) => {
      const agent =
        options.url.protocol === 'https:'
          ? new HttpsAgent({ keepAlive: true, lookup: deps.urlGuard.lookup })
          : new HttpAgent({ keepAlive: true, lookup: deps.urlGuard.lookup });
      agents.push(agent);
      return agent;
    },
  };
  let nodesChecked: Promise<void> | undefined;
  let closed = false;

  function checkNodes(): Promise<void> {
    nodesChecked ??= Promise.all(config.node.map((url) => deps.urlGuard.check(url))).then(
      () => undefined,
      (err: unknown) => {
        nodesChecked = undefined; // a DNS failure is not remembered
        throw err;
      },
    );
    return nodesChecked;
  }

  async function deliver(items: readonly DeliveryItem[], context: DeliverContext): Promise<BatchOutcome> {
    const started = performance.now();
    const done = (outcomes: ItemOutcome[], rest: Omit<BatchOutcome, 'items' | 'latencyMs'>): BatchOutcome => ({
      items: outcomes,
      latencyMs: performance.now() - started,
      ...rest,
    });
    const all = (outcome: ItemOutcome): ItemOutcome[] => items.map(() => outcome);
    if (items.length === 0) return done([], { bytes: 0 });
    if (closed) return done(all({ outcome: 'retry', error: 'target closed' }), { bytes: 0 });
    if (context.signal.aborted) return done(all(ABORTED), { bytes: 0 });
    try {
      await checkNodes();
    } catch (err) {
      const refused = guardRefusal(err);
      return done(
        all(
          refused === undefined
            ? { outcome: 'retry', error: describe(err) }
            : { outcome: 'permanent', error: `${refused.code}: ${refused.message}` },
        ),
        { bytes: 0 },
      );
    }

    // Items that cannot be indexed at all are settled here; the rest go in one request.
    const outcomes: (ItemOutcome | undefined)[] = new Array<ItemOutcome | undefined>(items.length);
    const sent: number[] = [];
    const indices = new Set<string>();
    let text = '';
    items.forEach((item, i) => {
      const source = config.body === 'payload' ? item.payload : (item.event as unknown as JsonValue);
      if (typeof source !== 'object' || source === null || Array.isArray(source)) {
        outcomes[i] = {
          outcome: 'permanent',
          error: 'document_parsing_exception: the payload is not a JSON object, and OpenSearch indexes only objects',
        };
        return;
      }
      const index = indexName(config.index, config.dateSuffix, item.event);
      indices.add(index);
      text += `${JSON.stringify({ index: { _index: index, _id: item.deliveryId } })}\n${JSON.stringify(source)}\n`;
      sent.push(i);
    });
    const bytes = Buffer.byteLength(text, 'utf8');
    const detail: JsonObject = { indices: [...indices].sort() };
    if (sent.length === 0) return done(outcomes as ItemOutcome[], { bytes: 0, detail });

    let status: number | undefined;
    let body: BulkResponseBody | undefined;
    try {
      const request = (await clientOf()).transport.request(
        {
          method: 'POST',
          path: '/_bulk',
          querystring: config.refresh === undefined ? {} : { refresh: config.refresh },
          bulkBody: text,
        },
        { maxRetries: 0 },
      );
      // A block body on purpose: abort() returns the request (a thenable), and an event
      // listener that returns a rejecting thenable becomes an uncaught exception in Node.
      const abort = (): void => {
        request.abort();
      };
      context.signal.addEventListener('abort', abort, { once: true });
      try {
        const response = await request;
        status = response.statusCode ?? undefined;
        body = response.body as BulkResponseBody;
      } finally {
        context.signal.removeEventListener('abort', abort);
      }
    } catch (err) {
      const failed = requestOutcome(err, context.signal);
      for (const i of sent) outcomes[i] = failed;
      const failedStatus = failed.outcome === 'success' ? undefined : failed.status;
      return done(outcomes as ItemOutcome[], {
        bytes,
        ...(failedStatus === undefined ? {} : { status: failedStatus }),
        detail,
      });
    }

    const results = Array.isArray(body?.items) ? body.items : [];
    sent.forEach((i, n) => {
      const entry = results[n];
      const result = entry === undefined ? undefined : (entry['index'] ?? Object.values(entry)[0]);
      outcomes[i] =
        result === undefined
          ? { outcome: 'retry', error: 'the bulk response did not report this document' }
          : itemOutcome(result);
    });
    return done(outcomes as ItemOutcome[], {
      bytes,
      ...(status === undefined ? {} : { status }),
      detail: { ...detail, errors: body?.errors === true },
    });
  }

  return {
    kind: 'opensearch',
    maxBatchEvents: config.maxBatchEvents,
    deliver,
    async close() {
      if (closed) return;
      closed = true;
      if (loaded) await (await loaded.catch(() => null))?.close();
      for (const agent of agents) agent.destroy();
    },
  };
}

const ABORTED: ItemOutcome = { outcome: 'retry', error: 'attempt aborted' };

/** One document's outcome from its entry in the bulk response. */
export function itemOutcome(result: BulkItemResult): ItemOutcome {
  const status = typeof result.status === 'number' ? result.status : undefined;
  if (status !== undefined && status >= 200 && status < 300 && result.error === undefined)
    return { outcome: 'success' };
  const error = describeItemError(result.error, status);
  const retry = status === undefined || status === 429 || status === 408 || status >= 500;
  return { outcome: retry ? 'retry' : 'permanent', error, ...(status === undefined ? {} : { status }) };
}

function describeItemError(error: BulkItemResult['error'], status: number | undefined): string {
  if (typeof error === 'string') return error;
  if (error === undefined) return `status ${status ?? 'missing'}`;
  const head = `${error.type ?? 'error'}: ${error.reason ?? 'no reason given'}`;
  const cause = error.caused_by;
  return cause?.type === undefined ? head : `${head} (caused by ${cause.type}: ${cause.reason ?? ''})`;
}

interface ClientError {
  name?: string;
  message?: string;
  statusCode?: number;
  meta?: { statusCode?: number | null; headers?: Record<string, string | undefined> | null; body?: unknown };
}

/** What a failed bulk request as a whole means for every document in it. */
export function requestOutcome(err: unknown, signal?: AbortSignal): ItemOutcome {
  if (signal?.aborted === true) return ABORTED;
  const refused = guardRefusal(err);
  if (refused !== undefined) return { outcome: 'permanent', error: `${refused.code}: ${refused.message}` };
  const e = (typeof err === 'object' && err !== null ? err : {}) as ClientError;
  if (e.name === 'RequestAbortedError') return ABORTED;
  // ResponseError: the cluster answered with an error status.
  const status = e.name === 'ResponseError' ? (e.meta?.statusCode ?? e.statusCode ?? undefined) : undefined;
  if (status === undefined) return { outcome: 'retry', error: describe(err) };
  const retryAfterMs = parseRetryAfter(e.meta?.headers?.['retry-after'] ?? undefined, new Date());
  const error = `HTTP ${status}${e.message !== undefined && e.message !== '' ? ` ${e.message}` : ''}`.slice(0, 500);
  const retry = status === 408 || status === 429 || status >= 500;
  return {
    outcome: retry ? 'retry' : 'permanent',
    error,
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

function describe(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as { name?: unknown; message?: unknown };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  return typeof e.message === 'string' && e.message !== '' ? `${name}: ${e.message}` : name;
}

export const opensearchTarget: TargetFactory<OpenSearchTargetConfig> = {
  kind: 'opensearch',
  check,
  redact,
  verify,
  resolveSecrets,
  create,
};
