/** Where a live subscription starts, from its query and the Last-Event-ID header. */
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { RivuletError } from '../../kernel/errors.js';
import { parseRfc3339 } from '../../core/events/event-fields.js';
import type { LiveStart } from '../../core/live/live-service.js';
import { parseIntegerParam } from '../request-params.js';

export const LiveQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'deliver events with seq greater than this' })),
    from: Type.Optional(
      Type.String({
        description: 'deliver from the first event whose time is at or after this (RFC 3339), then in seq order',
      }),
    ),
    type: Type.Optional(
      Type.Array(Type.String(), {
        description: 'only these event types; repeat the parameter or separate with commas',
      }),
    ),
    token: Type.Optional(
      Type.String({
        maxLength: 256,
        description: 'a live token from POST /v1/live-tokens, for clients that cannot send headers',
      }),
    ),
    events: Type.Optional(
      Type.Union([Type.Literal('unnamed'), Type.Literal('named')], {
        description:
          'SSE only. unnamed (default): every event is an unnamed message (EventSource onmessage); named: each carries `event:` its type (addEventListener per type)',
      }),
    ),
  },
  { additionalProperties: false },
);

export type LiveQueryParams = Static<typeof LiveQuery>;

/** Last-Event-ID (a reconnecting EventSource) wins over the query, which still holds the first start. */
export function liveStartOf(req: FastifyRequest<{ Querystring: LiveQueryParams }>): LiveStart {
  const lastEventId = req.headers['last-event-id'];
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    return { at: 'after', seq: parseIntegerParam(lastEventId, 'Last-Event-ID', { in: 'header' }) };
  }
  const q = req.query;
  if (q.after !== undefined && q.from !== undefined) {
    throw new RivuletError('VALIDATION_FAILED', 'give after or from, not both', {
      details: { in: 'querystring', pointer: '/from' },
    });
  }
  if (q.after !== undefined) return { at: 'after', seq: q.after };
  if (q.from !== undefined) {
    const ms = parseRfc3339(q.from);
    if (ms === undefined || Number.isNaN(ms)) {
      throw new RivuletError('VALIDATION_FAILED', 'from must be an RFC 3339 timestamp', {
        details: { in: 'querystring', pointer: '/from' },
      });
    }
    return { at: 'time', timeMs: ms };
  }
  return { at: 'tail' };
}

export function liveTypesOf(q: LiveQueryParams): string[] | undefined {
  const types = q.type
    ?.flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  return types && types.length > 0 ? types : undefined;
}
