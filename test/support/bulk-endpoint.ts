/**
 * A protocol-level double of an OpenSearch / Elasticsearch node's `_bulk` endpoint, because
 * no cluster can run on this machine (no JVM, no container runtime). It is a real HTTP
 * server on 127.0.0.1, port 0, and holds requests to the rules a real cluster applies:
 * - `POST|PUT /_bulk` or `/{index}/_bulk`, `Content-Type: application/x-ndjson` (else 406);
 * - the body ends with a newline (else 400 "must be terminated by a newline");
 * - each action line is an object with one of index/create/update/delete, whose metadata
 *   names `_index` (or the path does); index/create/update are followed by a source line
 *   that must be a JSON object (else 400 `x_content_parse_exception` for the request);
 * - index names follow the cluster's rules (else per-item 400 `invalid_index_name_exception`);
 * - `index` with an `_id` overwrites that document (`result: "updated"`, `_version` + 1);
 * - answers in the bulk response shape: `{took, errors, items: [{index: {_index, _id,
 *   _version, result, status, _shards, _seq_no, _primary_term}}]}`, failed items with
 *   `{status, error: {type, reason, index}}`.
 * Tests can make it reject chosen documents, answer whole requests with a status, or hold
 * requests without answering.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { track } from './resources.js';

export interface BulkRequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

export interface ItemRejection {
  status: number;
  type: string;
  reason: string;
}

export interface BulkEndpoint {
  url: string;
  /** index → _id → source */
  documents: Map<string, Map<string, unknown>>;
  versions: Map<string, number>;
  requests: BulkRequestRecord[];
  /** decides per document whether it is refused, and how; undefined accepts it */
  rejectItem: (
    source: Record<string, unknown>,
    meta: { index: string; id: string | undefined },
  ) => ItemRejection | undefined;
  /** answers the next requests with this status (and body) instead of indexing */
  failNext: (count: number, status: number, headers?: Record<string, string>) => void;
  /** the Authorization header a request must carry, when set */
  requireAuthorization: string | undefined;
  /** takes requests and never answers them (for aborts and timeouts) */
  hold: boolean;
  close: () => Promise<void>;
}

/** OpenSearch's index name rules (MetadataCreateIndexService.validateIndexOrAliasName). */
function indexNameProblem(name: string): string | undefined {
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/[\\/*?"<>| ,#:]/.test(name))
    return 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?, #, :]';
  if (/^[-_+]/.test(name)) return "must not start with '_', '-', or '+'";
  if (name === '.' || name === '..') return "must not be '.' or '..'";
  if (Buffer.byteLength(name) > 255) return 'index name is too long';
  return undefined;
}

const ACTIONS = new Set(['index', 'create', 'update', 'delete']);

export async function startBulkEndpoint(): Promise<BulkEndpoint> {
  const sockets = new Set<Socket>();
  let failures: { count: number; status: number; headers: Record<string, string> } | undefined;
  let seqNo = 0;
  const endpoint: BulkEndpoint = {
    url: '',
    documents: new Map(),
    versions: new Map(),
    requests: [],
    rejectItem: () => undefined,
    failNext: (count, status, headers = {}) => {
      failures = { count, status, headers };
    },
    requireAuthorization: undefined,
    hold: false,
    close: async () => undefined,
  };

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  const requestError = (type: string, reason: string, status: number) => ({
    error: { root_cause: [{ type, reason }], type, reason },
    status,
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://node');
    const record: BulkRequestRecord = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      body,
    };
    endpoint.requests.push(record);
    if (endpoint.requireAuthorization !== undefined && req.headers.authorization !== endpoint.requireAuthorization) {
      send(res, 401, requestError('security_exception', 'Unauthorized', 401), {
        'www-authenticate': 'Basic realm="OpenSearch Security"',
      });
      return;
    }
    const match = /^(?:\/([^/]+))?\/_bulk$/.exec(url.pathname);
    if (match === null || (req.method !== 'POST' && req.method !== 'PUT')) {
      send(
        res,
        405,
        requestError(
          'illegal_argument_exception',
          `Incorrect HTTP method for uri [${url.pathname}] and method [${req.method}]`,
          405,
        ),
      );
      return;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (contentType !== 'application/x-ndjson' && contentType !== 'application/json') {
      send(res, 406, {
        error: `Content-Type header [${req.headers['content-type'] ?? ''}] is not supported`,
        status: 406,
      });
      return;
    }
    if (failures !== undefined && failures.count > 0) {
      failures.count--;
      const reason = failures.status === 429 ? 'rejected execution of coordinating operation' : 'the node is not ready';
      send(
        res,
        failures.status,
        requestError(
          failures.status === 429 ? 'rejected_execution_exception' : 'cluster_block_exception',
          reason,
          failures.status,
        ),
        failures.headers,
      );
      return;
    }
    if (body === '') {
      send(
        res,
        400,
        requestError('action_request_validation_exception', 'Validation Failed: 1: no requests added;', 400),
      );
      return;
    }
    if (!body.endsWith('\n')) {
      send(
        res,
        400,
        requestError('illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]', 400),
      );
      return;
    }
    const lines = body.slice(0, -1).split('\n');
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      let action: unknown;
      try {
        action = JSON.parse(lines[i] ?? '');
      } catch {
        send(res, 400, requestError('x_content_parse_exception', `[${i + 1}:1] Malformed action/metadata line`, 400));
        return;
      }
      const keys = typeof action === 'object' && action !== null ? Object.keys(action) : [];
      const name = keys[0];
      if (keys.length !== 1 || name === undefined || !ACTIONS.has(name)) {
        send(
          res,
          400,
          requestError(
            'illegal_argument_exception',
            `Malformed action/metadata line [${i + 1}], expected a simple value for field [${name ?? ''}] but found one of index, create, update, delete`,
            400,
          ),
        );
        return;
      }
      const meta = (action as Record<string, Record<string, unknown>>)[name] ?? {};
      const index = typeof meta['_index'] === 'string' ? meta['_index'] : match[1];
      const id = typeof meta['_id'] === 'string' ? meta['_id'] : undefined;
      if (index === undefined) {
        send(
          res,
          400,
          requestError('action_request_validation_exception', 'Validation Failed: 1: index is missing;', 400),
        );
        return;
      }
      let source: unknown;
      if (name !== 'delete') {
        i++;
        try {
          source = JSON.parse(lines[i] ?? '');
        } catch {
          source = undefined;
        }
        if (typeof source !== 'object' || source === null || Array.isArray(source)) {
          send(
            res,
            400,
            requestError('x_content_parse_exception', `[${i + 1}:1] the document source must be a JSON object`, 400),
          );
          return;
        }
      }
      const problem = indexNameProblem(index);
      const rejection =
        problem !== undefined
          ? { status: 400, type: 'invalid_index_name_exception', reason: `Invalid index name [${index}], ${problem}` }
          : endpoint.rejectItem(source as Record<string, unknown>, { index, id });
      if (rejection !== undefined) {
        errors = true;
        items.push({
          [name]: {
            _index: index,
            _id: id ?? null,
            status: rejection.status,
            error: { type: rejection.type, reason: rejection.reason, index },
          },
        });
        continue;
      }
      const docId = id ?? `auto-${++seqNo}`;
      let docs = endpoint.documents.get(index);
      if (docs === undefined) {
        docs = new Map();
        endpoint.documents.set(index, docs);
      }
      const existed = docs.has(docId);
      docs.set(docId, source);
      const version = (endpoint.versions.get(`${index}/${docId}`) ?? 0) + 1;
      endpoint.versions.set(`${index}/${docId}`, version);
      items.push({
        [name]: {
          _index: index,
          _id: docId,
          _version: version,
          result: existed ? 'updated' : 'created',
          _shards: { total: 2, successful: 1, failed: 0 },
          _seq_no: seqNo++,
          _primary_term: 1,
          status: existed ? 200 : 201,
        },
      });
    }
    send(res, 200, { took: 1, errors, items });
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (!endpoint.hold) handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed = false;
  track('bulk endpoint', server, () => closed);
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  endpoint.close = async () => {
    if (closed) return;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    closed = true;
  };
  return endpoint;
}
