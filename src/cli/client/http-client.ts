/**
 * A small client for the native API. Every failure becomes a CliError carrying the exit code
 * scripts rely on and a hint saying what to do: 4xx → 1, cannot connect → 3, 5xx → 4.
 */
import { CliError, EXIT } from './cli-error.js';
import type { Connection } from './profile.js';

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

export interface RequestOptions {
  query?: Query;
  /** a JSON value, serialised here */
  json?: unknown;
  /** a body already serialised as JSON */
  body?: string;
  headers?: Record<string, string>;
  /** answer 5xx/429 as a response instead of throwing, for callers that retry */
  allowFailure?: boolean;
  /** hints for refusals, by status, where the generic ones would point the wrong way */
  hints?: Partial<Record<number, string>>;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ProblemBody {
  title?: string;
  detail?: string;
  code?: string;
  status?: number;
}

/** Network-level failures worth another try; a server that answered is judged by its status. */
export class UnreachableError extends CliError {
  constructor(url: string, cause: unknown) {
    super(
      EXIT.UNREACHABLE,
      `cannot reach ${url}: ${describeCause(cause)}`,
      'check that the server is running and the URL is right (`rivulet status`, or log in again with `rivulet login <url>`)',
    );
  }
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

export class ApiClient {
  constructor(
    readonly connection: Connection,
    private readonly timeoutMs = 60_000,
  ) {}

  get url(): string {
    return this.connection.url;
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const { url, init } = this.prepare(method, path, options);
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new UnreachableError(this.connection.url, err);
    }
    const parsed = parseBody(await res.text());
    if (res.ok || (options.allowFailure && (res.status === 429 || res.status >= 500))) {
      return { status: res.status, headers: res.headers, body: parsed as T };
    }
    throw failureOf(res.status, parsed, method, path, options.hints);
  }

  /**
   * Opens a response whose body the caller reads as it arrives (Server-Sent Events). A
   * refusal is thrown like `request`'s; `signal` ends the request.
   */
  async open(method: string, path: string, options: RequestOptions & { signal?: AbortSignal } = {}): Promise<Response> {
    const { url, init } = this.prepare(method, path, options);
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: options.signal });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw new UnreachableError(this.connection.url, err);
    }
    if (res.ok) return res;
    throw failureOf(res.status, parseBody(await res.text().catch(() => '')), method, path, options.hints);
  }

  private prepare(method: string, path: string, options: RequestOptions): { url: URL; init: RequestInit } {
    const url = new URL(this.connection.url + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(name, v);
      else url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.connection.key) headers.authorization = `Bearer ${this.connection.key}`;
    const body = options.body ?? (options.json === undefined ? undefined : JSON.stringify(options.json));
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    return { url, init: { method, headers, body } };
  }
}

function parseBody(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Turns a refused or failed answer into an error saying what went wrong and what to do. */
export function failureOf(
  status: number,
  body: unknown,
  method: string,
  path: string,
  hints: Partial<Record<number, string>> = {},
): CliError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as ProblemBody;
  const detail =
    problem.detail ??
    (typeof body === 'string' && body.length > 0 ? body.slice(0, 500) : (problem.title ?? 'no details'));
  const code = problem.code ? ` ${problem.code}` : '';
  const message = `${method} ${path} → ${status}${code}: ${detail}`;
  if (status >= 500)
    return new CliError(
      EXIT.SERVER,
      message,
      'the server failed; try again later, and look in its log for the request id',
      status,
    );
  return new CliError(EXIT.REFUSED, message, hints[status] ?? HINTS[status], status);
}

const HINTS: Record<number, string> = {
  401: 'the key is missing, wrong or expired: run `rivulet login <url>` (or set RIVULET_KEY)',
  403: 'this key lacks the scope for that; ask an admin for one (`rivulet keys create`)',
  404: 'check the name (`rivulet streams ls`)',
  409: 'it already exists or changed meanwhile; look at it with `describe`',
  413: 'the request is too large; send smaller batches (`produce --batch-events`, `--batch-bytes`)',
  415: 'send JSON events',
  422: 'the input does not fit the rules shown above; fix it and send again',
  423: 'another producer owns this stream (exclusive producer)',
  429: 'the server is rate limiting; slow down or try again shortly',
};
