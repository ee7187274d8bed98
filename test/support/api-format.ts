/**
 * Which API a path belongs to, and whether a refusal is in that API's own error format:
 * problem+json on the native API, a JSON string on the event server, `{"error"}` on iFLUX,
 * `{"message"}` on okdata, `{"error", "code"}` (or a 401 text) on aether, `{"errors": []}`
 * (or an upload/update answer) on the spec store, plain text on durable streams.
 */
import assert from 'node:assert/strict';

export type Api =
  'native' | 'eventserver' | 'iflux' | 'okdata' | 'aether' | 'specstore' | 'durable-streams' | 'console';

export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/** the API whose mount a path hits; okdata's root mount is named by the route the test aimed at */
export function apiOf(path: string, routePattern?: string): Api {
  const p = path.split('?')[0]!;
  if (p === '/api/v1/streams' || p.startsWith('/api/v1/streams/')) return 'eventserver';
  if (p === '/events' || p === '/events/') return 'iflux';
  if (p === '/source' || p.startsWith('/source/')) return 'specstore';
  if (p.startsWith('/job/') || p === '/jobs' || p.startsWith('/jobs/')) return 'aether';
  if (p === '/ds' || p.startsWith('/ds/')) return 'durable-streams';
  if (p.startsWith('/streams/')) return 'okdata';
  if (p === '/console' || p.startsWith('/console/')) return 'console';
  if (routePattern?.startsWith('/:dataset')) return 'okdata';
  return 'native';
}

function json(res: Answer): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    return undefined;
  }
}

/** asserts a refusal (4xx/5xx) is in the format of `api`; answers a short reason for messages */
export function assertApiError(res: Answer, api: Api, what: string): void {
  const type = String(res.headers['content-type'] ?? '');
  const body = json(res) as Record<string, unknown> | string | undefined;
  const fail = (why: string) =>
    assert.fail(`${what}: ${why} (${api}, ${res.statusCode} ${type}): ${res.body.slice(0, 200)}`);
  switch (api) {
    case 'native':
    case 'console': {
      if (!type.startsWith('application/problem+json')) fail('not problem+json');
      const p = body as Record<string, unknown>;
      if (typeof p?.code !== 'string' || p.status !== res.statusCode || typeof p.detail !== 'string')
        fail('not a problem with code, status and detail');
      return;
    }
    case 'eventserver':
      if (typeof body !== 'string' || body.length === 0) fail('not a JSON string');
      return;
    case 'iflux':
      if (typeof (body as Record<string, unknown>)?.error !== 'string') fail('no "error"');
      return;
    case 'okdata':
      if (typeof (body as Record<string, unknown>)?.message !== 'string') fail('no "message"');
      return;
    case 'aether':
      if (res.statusCode === 401) {
        if (res.body !== 'Bad Credentials') fail('401 is not "Bad Credentials"');
        return;
      }
      if (
        typeof (body as Record<string, unknown>)?.error !== 'string' ||
        typeof (body as Record<string, unknown>)?.code !== 'string'
      )
        fail('no "error" and "code"');
      return;
    case 'durable-streams':
      if (!type.startsWith('text/plain') || res.body.length === 0) fail('not plain text with a reason');
      return;
    case 'specstore': {
      const o = body as Record<string, unknown>;
      if (!Array.isArray(o?.errors)) fail('no "errors" list');
      return;
    }
  }
}
