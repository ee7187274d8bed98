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
    const error = new ApiError(res.status, problem.code ?? `HTTP_${res.status}`, problem.detail ?? problem.title ?? res.statusText, (body ?? {}) as Record<string, unknown>);
    if (res.status === 401 && options.key === undefined) session.signOut(error.message);
    throw error;
  }
  return body as T;
}

export const enc = encodeURIComponent;

/**
 * The API's shapes the console reads (see /openapi.json). Those the server answers exactly as
 * its core declares them come from there as types only: esbuild erases them, nothing of the
 * server is bundled.
 */
import type { RetentionPolicy, StreamStats } from '../../store/port.js';
import type { AttemptRecord, SinkDryRun, SinkStats, SinkStatus } from '../../core/sinks/sink-model.js';
import type { EventAnswer } from '../../kernel/envelope.js';
import type { RuleView } from '../../core/rules/rule-model.js';

export type { StreamStats, SinkStats, SinkStatus };
/** `POST /v1/sinks/dry-run` answers the core's dry run with the event it was run on */
export type SinkDryRunAnswer = SinkDryRun & { event: EventAnswer };
export type { RateSeries } from '../../core/streams/produce-rates.js';
export type { SinkRateSeries } from '../../core/sinks/sink-rates.js';

export type Retention = RetentionPolicy;

export interface Stream {
  name: string;
  owner: string;
  description: string;
  retention: Retention;
  exclusiveProducer: boolean;
  createdAt: string;
  version: number;
  stats: StreamStats;
}

export type RivuletEvent = EventAnswer;

export interface Consumer {
  name: string;
  stream: string;
  types: string[];
  committedSeq: number;
  deadLetterStream: string | null;
}

export interface Lag {
  committedSeq: number;
  lastSeq: number;
  pending: number;
  leased: number;
  oldestUnackedAgeMs: number | null;
}

export interface KeyInfo {
  id: string;
  name: string;
  owner: string;
  scopes: string[];
  createdAt?: string;
  expiresAt?: string | null;
}

export interface SinkStreamLag {
  stream: string;
  committedSeq: number;
  lastSeq: number;
  pending: number;
  oldestUnackedAgeMs: number | null;
}

export interface Sink {
  id: string;
  description: string;
  owner: string;
  streams: string[];
  filter: unknown;
  transform: string | null;
  target: { kind: string } & Record<string, unknown>;
  policy: Record<string, unknown>;
  deadLetterStream: string | null;
  state: 'running' | 'paused';
  jobs: Record<string, unknown>[];
  status: SinkStatus;
  stats: SinkStats;
  lag: { pending: number; streams: SinkStreamLag[] };
  deliveredBy: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export type Attempt = AttemptRecord;

export type PipelineStatus = 'QUEUED' | 'INPROGRESS' | 'SUCCEEDED' | 'FAILED';

export interface Dataset {
  owner: string;
  dataset: string;
  latest: number;
  managed: string[];
  createdAt: string;
  updatedAt: string;
}

export interface Pipeline {
  id: string;
  title: string;
  runner: 'rivulet' | 'external';
  kind: string | null;
  key: string | null;
  action: string | null;
  changes: { path: string; from?: unknown; to?: unknown }[];
  dependencies: string[];
  status: PipelineStatus;
  stats: Record<string, unknown> | null;
  errors: string[];
  log: string[];
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RevisionSummary {
  id: string;
  owner: string;
  dataset: string;
  revision: number;
  state: PipelineStatus;
  hash: string;
  prune: boolean;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface Revision extends RevisionSummary {
  spec: Record<string, unknown>;
  pipelines: Pipeline[];
  logs: string[];
  errors: string[];
  stats: { bytes: number; countOfRows: number; datasetName: string; hash: string } | null;
  orphans: string[];
}

export type Rule = RuleView;
