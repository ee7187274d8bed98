/**
 * Native API: rules (`/v1/rules`), iFLUX's event-condition-action rules (docs/rules.md).
 * Every route needs `manage` on the rules' stream (the iFLUX stream), and `manage` on any other
 * stream a rule reads, or admin; a non-admin sees only its owner's rules. Action targets'
 * secrets never appear: a rule holds references, and its sinks answer redacted.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { RivuletError } from '../../kernel/errors.js';
import { parseRfc3339 } from '../../core/events/event-fields.js';
import type { Principal } from '../../core/keys/key-service.js';
import type { RuleInput, RulePatch } from '../../core/rules/rule-service.js';
import type { CoreServices } from '../../core/services.js';
import type { StartPosition } from '../../store/port.js';
import { problemResponses } from '../schemas.js';

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const AnyObject = Type.Object({}, { additionalProperties: true });

const Condition = Type.Object(
  {
    eventSourceId: Type.Optional(Type.String({ description: 'an event source id: its events match' })),
    eventTypeId: Type.Optional(Type.String({ description: 'an event type id: events of its type match' })),
    expression: Type.Optional(
      Type.String({ description: 'a JSONata condition over the event envelope (`data` holds the iFLUX properties)' }),
    ),
  },
  {
    additionalProperties: true,
    description: 'matches when every part it gives matches; an empty condition never matches',
  },
);

const Action = Type.Object(
  {
    actionTargetId: Type.String({ description: 'an action target id' }),
    actionTypeId: Type.String({ description: 'the action type, a name or URL the receiver understands' }),
    transform: Type.Optional(
      Type.String({
        description: "a JSONata expression over the event building the action's properties (default: the event's data)",
      }),
    ),
  },
  { additionalProperties: true },
);

const Start = Type.Object(
  {
    from: Type.Union([Type.Literal('end'), Type.Literal('beginning'), Type.Literal('time')], {
      description: 'end (the tail, default), beginning, or time',
    }),
    time: Type.Optional(Type.String({ description: 'with from=time: an RFC 3339 timestamp' })),
  },
  { additionalProperties: false },
);

const Delivery = Type.Object(
  {},
  {
    additionalProperties: true,
    description: "the action deliveries' policy: retry, timeoutMs, concurrency, rateLimit (as a sink's)",
  },
);

const RuleCreate = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    enabled: Type.Optional(Type.Boolean()),
    streams: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
        minItems: 1,
        maxItems: 20,
        description: 'the streams the rule reads (default: the iFLUX stream)',
      }),
    ),
    conditions: Type.Array(Condition, { maxItems: 100 }),
    actions: Type.Array(Action, { maxItems: 100 }),
    delivery: Type.Optional(Type.Union([Type.Null(), Delivery])),
    start: Type.Optional(Start),
  },
  { additionalProperties: false },
);

const RuleUpdate = Type.Object(
  {
    version: Type.Optional(Type.Integer({ description: 'refuse the change (409) unless the rule is at this version' })),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    streams: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 20 })),
    conditions: Type.Optional(Type.Array(Condition, { maxItems: 100 })),
    actions: Type.Optional(Type.Array(Action, { maxItems: 100 })),
    delivery: Type.Optional(Type.Union([Type.Null(), Delivery])),
  },
  { additionalProperties: false },
);

const Rule = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    owner: Type.String(),
    enabled: Type.Boolean(),
    streams: Type.Array(Type.String()),
    conditions: Type.Array(AnyObject),
    actions: Type.Array(AnyObject),
    status: Type.Union([
      Type.Literal('running'),
      Type.Literal('disabled'),
      Type.Literal('failing'),
      Type.Literal('stopped'),
    ]),
    version: Type.Integer(),
    stats: AnyObject,
    lag: AnyObject,
    sinks: AnyObject,
    actionsStream: Type.String(),
  },
  { $id: 'Rule', additionalProperties: true },
);

type ById = { Params: Static<typeof Id> };

export function rulesRoutes(services: Pick<CoreServices, 'rules'>) {
  const rules = services.rules;
  const access = { scope: 'manage' as const, stream: () => rules.defaultStream };

  /** manage on every stream the rule reads (the route's access covered the default one) */
  const assertMayRead = (principal: Principal, streams: string[] | undefined): void => {
    for (const stream of streams ?? []) {
      if (!principal.can('manage', stream)) {
        throw new RivuletError('FORBIDDEN', `this key lacks manage access to stream "${stream}"`, {
          details: { needs: `manage:${stream}` },
        });
      }
    }
  };
  const owned = async (req: FastifyRequest<ById>) => {
    const rule = await rules.get(req.params.id, req.principal!);
    assertMayRead(req.principal!, rule.streams);
    return rule;
  };

  return async function routes(app: FastifyInstance): Promise<void> {
    app.addSchema(Rule);
    const tags = ['rules'];
    const one = { 200: Type.Ref('Rule'), ...problemResponses };

    app.post<{ Body: Static<typeof RuleCreate> }>(
      '/v1/rules',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Create a rule (it runs from the tail unless `start` says otherwise)',
          body: RuleCreate,
          response: { 201: Type.Ref('Rule'), ...problemResponses },
        },
      },
      async (req, reply) => {
        const { start, ...rest } = req.body;
        assertMayRead(req.principal!, rest.streams);
        const view = await rules.create(
          { ...(rest as RuleInput), ...(start ? { start: startOf(start) } : {}) },
          req.principal!,
        );
        return reply
          .code(201)
          .header('location', `/v1/rules/${encodeURIComponent(view.id)}`)
          .send(view);
      },
    );

    app.get<{ Querystring: { after?: string; limit?: number } }>(
      '/v1/rules',
      {
        config: { access },
        schema: {
          tags,
          summary: "List rules (a non-admin key sees its owner's)",
          querystring: Type.Object(
            { after: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ rules: Type.Array(Type.Ref('Rule')), next: Type.Union([Type.String(), Type.Null()]) }),
            ...problemResponses,
          },
        },
      },
      async (req) => rules.list(req.principal!, { after: req.query.after, limit: req.query.limit ?? 100 }),
    );

    app.get<ById>(
      '/v1/rules/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Describe a rule: definition, status, stats of evaluation and of action deliveries',
          params: Id,
          response: one,
        },
      },
      async (req) => {
        await owned(req);
        return rules.describe(req.params.id, req.principal!);
      },
    );

    app.patch<ById & { Body: Static<typeof RuleUpdate> }>(
      '/v1/rules/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Change a rule (fields given replace the stored ones)',
          params: Id,
          body: RuleUpdate,
          response: one,
        },
      },
      async (req) => {
        await owned(req);
        const { version, ...patch } = req.body;
        assertMayRead(req.principal!, patch.streams);
        return rules.update(req.params.id, patch as RulePatch, req.principal!, version);
      },
    );

    app.delete<ById>(
      '/v1/rules/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Delete a rule, its sinks and its actions stream',
          params: Id,
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (req, reply) => {
        await owned(req);
        await rules.delete(req.params.id, req.principal!);
        return reply.code(204).send();
      },
    );

    app.post<ById>(
      '/v1/rules/:id/enable',
      {
        config: { access, openapiBody: Type.Object({ start: Type.Optional(Start) }) },
        schema: {
          tags,
          summary: 'Enable a rule from the tail, or from `start` (a time: replay)',
          params: Id,
          response: one,
        },
      },
      async (req) => {
        await owned(req);
        const body = req.body as { start?: unknown } | undefined | null;
        const start = body?.start === undefined ? undefined : checkStart(body.start);
        return rules.enable(req.params.id, req.principal!, start);
      },
    );

    app.post<ById>(
      '/v1/rules/:id/disable',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Disable a rule: no events are evaluated and no actions sent',
          params: Id,
          response: one,
        },
      },
      async (req) => {
        await owned(req);
        return rules.disable(req.params.id, req.principal!);
      },
    );

    app.post<ById>(
      '/v1/rules/:id/validate',
      {
        config: {
          access,
          openapiBody: Type.Object(
            {},
            {
              additionalProperties: true,
              description:
                'a sample event: iFLUX {timestamp, source, type, properties} or native {type, source, time, data}; or {sample, conditions?, actions?} to try a change before saving it',
            },
          ),
        },
        schema: {
          tags,
          summary: 'Dry run: the conditions a sample event matches and the actions that would be sent (422 when none)',
          params: Id,
          description:
            'The body is the sample event, tried on the saved rule; or `{"sample": {...}, "conditions": [...], "actions": [...]}`, where the conditions and actions given (checked as a change would check them) stand in for the saved ones. Nothing is saved.',
          response: {
            200: Type.Object({ matchedConditions: Type.Array(AnyObject), matchedActions: Type.Array(AnyObject) }),
            ...problemResponses,
            422: Type.Ref('Problem'),
          },
        },
      },
      async (req) => {
        await owned(req);
        const body = req.body as Record<string, unknown> | null;
        const drafted =
          body !== null &&
          typeof body === 'object' &&
          !Array.isArray(body) &&
          Object.hasOwn(body, 'sample') &&
          Object.keys(body).every((k) => k === 'sample' || k === 'conditions' || k === 'actions');
        if (!drafted) return rules.validate(req.params.id, req.body, req.principal!);
        const { sample, conditions, actions } = body as { sample: unknown; conditions?: unknown; actions?: unknown };
        if (conditions !== undefined && !Array.isArray(conditions))
          throw new RivuletError('VALIDATION_FAILED', 'conditions must be an array', {
            details: { pointer: '/conditions' },
          });
        if (actions !== undefined && !Array.isArray(actions))
          throw new RivuletError('VALIDATION_FAILED', 'actions must be an array', { details: { pointer: '/actions' } });
        return rules.validate(req.params.id, sample, req.principal!, {
          conditions: conditions as never,
          actions: actions as never,
        });
      },
    );

    app.get<ById & { Querystring: { limit?: number } }>(
      '/v1/rules/:id/attempts',
      {
        config: { access },
        schema: {
          tags,
          summary: "The action deliveries' attempt log, newest first",
          params: Id,
          querystring: Type.Object(
            { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ attempts: Type.Array(AnyObject) }), ...problemResponses },
        },
      },
      async (req) => {
        await owned(req);
        return { attempts: await rules.attempts(req.params.id, req.principal!, { limit: req.query.limit ?? 100 }) };
      },
    );

    app.post<ById>(
      '/v1/rules/:id/dead-letters/retry',
      {
        config: { access },
        schema: {
          tags,
          summary: "Send the rule's dead-lettered actions once more",
          params: Id,
          response: { 202: Type.Object({ jobs: Type.Integer() }), ...problemResponses },
        },
      },
      async (req, reply) => {
        await owned(req);
        return reply.code(202).send({ jobs: await rules.retryDeadLetters(req.params.id, req.principal!) });
      },
    );
  };
}

function checkStart(value: unknown): StartPosition {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RivuletError('VALIDATION_FAILED', 'start must be {"from": "end" | "beginning" | "time", "time"?}', {
      details: { pointer: '/start' },
    });
  }
  const { from, time } = value as { from?: unknown; time?: unknown };
  if (from !== 'end' && from !== 'beginning' && from !== 'time') {
    throw new RivuletError('VALIDATION_FAILED', 'start.from must be "end", "beginning" or "time"', {
      details: { pointer: '/start/from' },
    });
  }
  return startOf({ from, ...(typeof time === 'string' ? { time } : {}) });
}

function startOf(body: Static<typeof Start>): StartPosition {
  if (body.from !== 'time') return { from: body.from };
  const ms = body.time === undefined ? undefined : parseRfc3339(body.time);
  if (ms === undefined)
    throw new RivuletError('VALIDATION_FAILED', 'from=time needs "time" as an RFC 3339 timestamp', {
      details: { pointer: '/start/time' },
    });
  return { from: 'time', timeMs: ms };
}
