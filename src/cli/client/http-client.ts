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
    super(EXIT.UNREACHABLE, `cannot reach ${url}: ${describeCause(cause)}`, 'check that the server is running and the URL is right (`rivulet status`, or log in again with `rivulet login <url>`)');
  }
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

export class ApiClient {
  constructor(readonly connection: Connection, private readonly timeoutMs = 60_000) {}

  get url(): string {
    return this.connection.url;
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
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
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new UnreachableError(this.connection.url, err);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.ok || (options.allowFailure && (res.status === 429 || res.status >= 500))) {
      return { status: res.status, headers: res.headers, body: parsed as T };
    }
    throw failureOf(res.status, parsed, method, path);
  }
}

/** Turns a refused or failed answer into an error saying what went wrong and what to do. */
export function failureOf(status: number, body: unknown, method: string, path: string): CliError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as ProblemBody;
  const detail = problem.detail ?? (typeof body === 'string' && body.length > 0 ? body.slice(0, 500) : problem.title ?? 'no details');
  const code = problem.code ? ` ${problem.code}` : '';
  const message = `${method} ${path} → ${status}${code}: ${detail}`;
  if (status >= 500) return new CliError(EXIT.SERVER, message, 'the server failed; try again later, and look in its log for the request id', status);
  return new CliError(EXIT.REFUSED, message, HINTS[status], status);
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
