/**
 * The console's one way to the API: same origin, the key from this tab's session storage as
 * a Bearer header (never in a URL), problem details turned into ApiError. A 401 signs out.
 */
const STORAGE = 'rivulet.key';

export const session = {
  key(): string | null {
    return sessionStorage.getItem(STORAGE);
  },
  signIn(key: string): void {
    sessionStorage.setItem(STORAGE, key);
  },
  signOut(reason?: string): void {
    sessionStorage.removeItem(STORAGE);
    window.dispatchEvent(new CustomEvent('rivulet:signed-out', { detail: reason ?? '' }));
  },
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** the problem's other fields: `pointer` says where in the request the fault is */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get pointer(): string | undefined {
    return typeof this.details['pointer'] === 'string' ? this.details['pointer'] : undefined;
  }
}

export interface ApiOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** a key to use instead of the stored one (signing in) */
  key?: string;
}

export async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
  const key = options.key ?? session.key();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    cache: 'no-store',
    credentials: 'omit',
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const problem = (body ?? {}) as { code?: string; detail?: string; title?: string };
    const error = new ApiError(
      res.status,
      problem.code ?? `HTTP_${res.status}`,
      problem.detail ?? problem.title ?? res.statusText,
      (body ?? {}) as Record<string, unknown>,
    );
    if (res.status === 401 && options.key === undefined) session.signOut(error.message);
    throw error;
  }
  return body as T;
}

export const enc = encodeURIComponent;

/**
 * The API's shapes the console reads, from their one definition (src/http/api-views.ts), as
 * types only: esbuild erases them, nothing of the server is bundled. The console's own names
 * for them follow.
 */
import type {
  AttemptView,
  ConsumerView,
  DatasetView,
  EventView,
  KeyView,
  LagView,
  PipelineView,
  RetentionPolicy,
  RevisionSummaryView,
  RevisionView,
  RuleView,
  SinkDryRunView,
  SinkStreamLag as SinkStreamLagView,
  SinkView,
  StreamView,
} from '../../http/api-views.js';

export type {
  PipelineStatus,
  RateSeries,
  SinkRateSeries,
  SinkStats,
  SinkStatus,
  StreamStats,
} from '../../http/api-views.js';

export type Retention = RetentionPolicy;
export type Stream = StreamView;
export type RivuletEvent = EventView;
export type Consumer = ConsumerView;
export type Lag = LagView;
export type KeyInfo = KeyView;
export type SinkStreamLag = SinkStreamLagView;
export type Sink = SinkView;
export type SinkDryRunAnswer = SinkDryRunView;
export type Attempt = AttemptView;
export type Dataset = DatasetView;
export type Pipeline = PipelineView;
export type Revision = RevisionView;
export type RevisionSummary = RevisionSummaryView;
export type Rule = RuleView;
