/**
 * Native API: sinks (`/v1/sinks`). Managing a sink needs `manage` on each of its source
 * streams (and `produce` on the stream a `stream` target writes into), or admin; a non-admin
 * sees only the sinks it owns. Secrets in targets are never answered (redacted).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { RivuletError } from '../../kernel/errors.js';
import type { Principal } from '../../core/keys/key-service.js';
import type { CoreServices } from '../../core/services.js';
import { assertPublicTargetKind, assertSinkUnmanaged } from '../../core/sinks/sink-management.js';
import type { SinkInput, SinkPatch, SinkRecord } from '../../core/sinks/sink-model.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import { isInternalStream } from '../../core/streams/internal-streams.js';
import { problemResponses } from '../schemas.js';
import { renderEvent } from './events-routes.js';
import { startOf } from './start-of.js';

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const AnyObject = Type.Object({}, { additionalProperties: true });

const Policy = Type.Object(
  {
    batch: Type.Optional(
      Type.Object(
        {
          maxEvents: Type.Optional(Type.Integer()),
          maxBytes: Type.Optional(Type.Integer()),
          maxAgeMs: Type.Optional(Type.Integer()),
        },
        { additionalProperties: false },
      ),
    ),
    concurrency: Type.Optional(Type.Integer()),
    ordering: Type.Optional(Type.Union([Type.Literal('ordered'), Type.Literal('parallel')])),
    rateLimit: Type.Optional(
      Type.Union([
        Type.Null(),
        Type.Object(
          { perSecond: Type.Number(), burst: Type.Optional(Type.Integer()) },
          { additionalProperties: false },
        ),
      ]),
    ),
    timeoutMs: Type.Optional(Type.Integer()),
    retry: Type.Optional(
      Type.Object(
        {
          maxAttempts: Type.Optional(Type.Integer()),
          maxAgeMs: Type.Optional(Type.Integer()),
          initialDelayMs: Type.Optional(Type.Integer()),
          maxDelayMs: Type.Optional(Type.Integer()),
          multiplier: Type.Optional(Type.Number()),
          jitter: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('equal'), Type.Literal('none')])),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Filter = Type.Union([
  Type.Null(),
  Type.Object(
    {
      types: Type.Optional(Type.Array(Type.String())),
      sources: Type.Optional(Type.Array(Type.String())),
      condition: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
]);

const Start = Type.Object(
  {
    from: Type.Union([Type.Literal('beginning'), Type.Literal('end'), Type.Literal('seq'), Type.Literal('time')]),
    seq: Type.Optional(Type.Integer({ minimum: 1 })),
    time: Type.Optional(Type.String()),
    stream: Type.Optional(Type.String({ description: 'with from=seq on a sink of several streams: which one' })),
  },
  { additionalProperties: false },
);

const SinkCreate = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    streams: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 20 }),
    filter: Type.Optional(Filter),
    transform: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 20_000 })])),
    target: Type.Object(
      { kind: Type.String() },
      { additionalProperties: true, description: "`kind` (http, stream, s3, opensearch) and that target's settings" },
    ),
    policy: Type.Optional(Policy),
    deadLetterStream: Type.Optional(Type.Union([Type.Null(), Type.String()])),
    start: Type.Optional(Start),
    state: Type.Optional(Type.Union([Type.Literal('running'), Type.Literal('paused')])),
    labels: Type.Optional(AnyObject),
  },
  { additionalProperties: false },
);

const SinkUpdate = Type.Object(
  {
    version: Type.Optional(Type.Integer({ description: 'refuse the change (409) unless the sink is at this version' })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    streams: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 20 })),
    filter: Type.Optional(Filter),
    transform: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 20_000 })])),
    target: Type.Optional(
      Type.Object(
        { kind: Type.String() },
        {
          additionalProperties: true,
          description:
            'the whole target: its settings replace the stored ones, but a secret field (token, basic_auth pw, secret-looking headers, ' +
            'signing secrets, credentials, auth) that is left out keeps its stored value; "[redacted]", as answers show it, keeps it too; ' +
            'null removes it; a new value replaces it. Signing secrets line up by position with the stored list.',
        },
      ),
    ),
    policy: Type.Optional(Policy),
    deadLetterStream: Type.Optional(Type.Union([Type.Null(), Type.String()])),
    labels: Type.Optional(AnyObject),
  },
  { additionalProperties: false },
);

const Sink = Type.Object(
  {
    id: Type.String(),
    description: Type.String(),
    owner: Type.String(),
    streams: Type.Array(Type.String()),
    filter: Type.Unknown(),
    transform: Type.Union([Type.String(), Type.Null()]),
    target: AnyObject,
    policy: AnyObject,
    deadLetterStream: Type.Union([Type.String(), Type.Null()]),
    state: Type.String(),
    jobs: Type.Array(AnyObject),
    deadLetterGeneration: Type.Integer(),
    labels: AnyObject,
    createdAt: Type.String(),
    updatedAt: Type.String(),
    version: Type.Integer(),
    status: Type.Union([
      Type.Literal('running'),
      Type.Literal('paused'),
      Type.Literal('waiting'),
      Type.Literal('failing'),
      Type.Literal('stopped'),
    ]),
    stats: AnyObject,
    lag: AnyObject,
    deliveredBy: Type.Union([Type.String(), Type.Null()]),
    waitingFor: Type.Array(Type.String()),
  },
  { $id: 'Sink', additionalProperties: true },
);

const Attempt = Type.Object({
  sink: Type.String(),
  stream: Type.String(),
  seq: Type.Integer(),
  eventId: Type.String(),
  deliveryId: Type.String(),
  attempt: Type.Integer(),
  outcome: Type.String(),
  status: Type.Union([Type.Integer(), Type.Null()]),
  latencyMs: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  at: Type.String(),
});

const DryRunBody = Type.Object(
  {
    id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'the sink being edited, whose stored secrets fill those left out or redacted',
      }),
    ),
    streams: SinkCreate.properties.streams,
    filter: Type.Optional(Filter),
    transform: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 20_000 })])),
    target: SinkCreate.properties.target,
    event: Type.Optional(
      Type.Object(
        {
          stream: Type.Optional(
            Type.String({ minLength: 1, maxLength: 200, description: 'one of `streams` (default: the first)' }),
          ),
          seq: Type.Optional(Type.Integer({ minimum: 1, description: 'default: the stream’s latest event' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const DryRunAnswer = Type.Object({
  event: Type.Ref('Event'),
  matched: Type.Boolean({ description: 'the filter let the event through' }),
  filterError: Type.Union([Type.String(), Type.Null()], { description: 'the condition failed to evaluate (no match)' }),
  payload: Type.Unknown({
    description: 'what the transform made (the event’s data without one); null when filtered out or failed',
  }),
  transformError: Type.Union([Type.String(), Type.Null()]),
  delivery: Type.Union([AnyObject, Type.Null()], {
    description: 'what the target would send: for http `{method, url, headers, body, notes}`; null for other targets',
  }),
  deliveryError: Type.Union([Type.String(), Type.Null()]),
});

type ById = { Params: Static<typeof Id> };

export function sinksRoutes(services: Pick<CoreServices, 'read' | 'sinkRates' | 'sinks' | 'streams'>) {
  const sinks = services.sinks;

  /**
   * the caller may manage a sink with these sources and this target. An internal stream (a
   * rule's actions, a dead-letter stream) is reached by no scope: its owner's key reaches it
   * within its own patterns (internal-streams.ts), as it reads it.
   */
  const assertMayManage = async (
    principal: Principal,
    streams: string[],
    target: { kind: string } & Record<string, unknown>,
  ): Promise<void> => {
    if (principal.admin) return;
    const ownsInternal = async (stream: string) =>
      isInternalStream(stream) &&
      principal.canAsOwner('manage', stream, (await services.streams.ownerOf(stream)) ?? '');
    for (const stream of streams) {
      if (!principal.can('manage', stream) && !(await ownsInternal(stream)))
        throw forbidden(`manage:${stream}`, `this key lacks manage access to stream "${stream}"`);
    }
    let writes: string[] = [];
    try {
      writes = sinks.checks.writesTo(target.kind, target as never);
    } catch {
      writes = typeof target['stream'] === 'string' ? [target['stream']] : [];
    }
    for (const stream of writes) {
      if (!principal.can('produce', stream) && !(await ownsInternal(stream)))
        throw forbidden(`produce:${stream}`, `this key lacks produce access to stream "${stream}"`);
    }
  };

  /** the sink, when the caller may see and manage it; SINK_NOT_FOUND for others' sinks */
  const ownedBy = async (principal: Principal, id: string): Promise<SinkRecord> => {
    const sink = await sinks.get(id);
    if (!principal.admin && sink.owner !== principal.owner)
      throw new RivuletError('SINK_NOT_FOUND', `there is no sink "${id}"`, { details: { sink: id } });
    await assertMayManage(principal, sink.streams, sink.target);
    return sink;
  };
  const owned = (req: FastifyRequest<ById>): Promise<SinkRecord> => ownedBy(req.principal!, req.params.id);

  /** the event a dry run tries: the given seq of one of the sink's streams, or that stream's latest */
  const sampleOf = async (
    streams: string[],
    given: { stream?: string; seq?: number } | undefined,
  ): Promise<StoredEvent> => {
    const stream = given?.stream ?? streams[0]!;
    if (!streams.includes(stream))
      throw new RivuletError(
        'VALIDATION_FAILED',
        `event.stream must be one of the sink's streams (${streams.join(', ')})`,
        { details: { pointer: '/event/stream' } },
      );
    const seq = given?.seq ?? (await services.streams.describe(stream)).stats.lastSeq;
    if (seq < 1)
      throw new RivuletError('EVENT_NOT_FOUND', `stream "${stream}" has no events to try the sink on yet`, {
        details: { stream },
      });
    for await (const event of services.read.read(stream, { afterSeq: seq - 1, limit: 1 })) {
      if (event.seq === seq) return event;
    }
    throw new RivuletError('EVENT_NOT_FOUND', `stream "${stream}" has no event at seq ${seq}`, {
      details: { stream, seq },
    });
  };

  return async function routes(app: FastifyInstance): Promise<void> {
    app.addSchema(Sink);
    const tags = ['sinks'];
    const authenticated = { scope: 'authenticated' as const };
    const one = { 200: Type.Ref('Sink'), ...problemResponses };

    app.post<{ Body: Static<typeof SinkCreate> }>(
      '/v1/sinks',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: 'Create a sink',
          body: SinkCreate,
          response: { 201: Type.Ref('Sink'), ...problemResponses, 409: Type.Ref('Problem') },
        },
      },
      async (req, reply) => {
        const { start, ...rest } = req.body;
        assertPublicTargetKind(rest.target.kind);
        await assertMayManage(req.principal!, rest.streams, rest.target);
        const view = await sinks.create(
          { ...(rest as SinkInput), ...(start ? { start: startOf(start) } : {}) },
          req.principal!.owner,
        );
        return reply
          .code(201)
          .header('location', `/v1/sinks/${encodeURIComponent(view.id)}`)
          .send(view);
      },
    );

    app.post<{ Body: Static<typeof DryRunBody> }>(
      '/v1/sinks/dry-run',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary:
            'Dry run: one event of a source stream through a sink definition’s filter, transform and target mapping; nothing is saved or sent',
          description:
            'The definition is checked as a save would check it (400 with a pointer otherwise). With `id`, an existing sink is being edited: ' +
            'secrets left out or sent as "[redacted]" are its stored ones. The event is `event.seq` of `event.stream` (default: the first stream, its latest event). ' +
            'Answers the event, whether the filter matched, the payload the transform made and, for an http target, the request (secrets redacted).',
          body: DryRunBody,
          response: { 200: DryRunAnswer, ...problemResponses },
        },
      },
      async (req) => {
        const { id, event: given, ...definition } = req.body;
        assertPublicTargetKind(definition.target.kind);
        await assertMayManage(req.principal!, definition.streams, definition.target);
        const stored = id === undefined ? null : await ownedBy(req.principal!, id);
        const event = await sampleOf(definition.streams, given);
        return { event: renderEvent(event), ...(await sinks.dryRun(definition as SinkInput, event, stored)) };
      },
    );

    app.get<{ Querystring: { after?: string; limit?: number } }>(
      '/v1/sinks',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: "List sinks (a non-admin key sees its owner's)",
          querystring: Type.Object(
            { after: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ sinks: Type.Array(Type.Ref('Sink')), next: Type.Union([Type.String(), Type.Null()]) }),
            ...problemResponses,
          },
        },
      },
      async (req) => {
        const principal = req.principal!;
        return sinks.list({
          after: req.query.after,
          limit: req.query.limit ?? 100,
          ...(principal.admin ? {} : { owner: principal.owner }),
        });
      },
    );

    app.get<ById>(
      '/v1/sinks/:id',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: 'Describe a sink: settings (secrets redacted), status, stats, lag',
          params: Id,
          response: one,
        },
      },
      async (req) => {
        await owned(req);
        return sinks.describe(req.params.id);
      },
    );

    app.patch<ById & { Body: Static<typeof SinkUpdate> }>(
      '/v1/sinks/:id',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary:
            'Change a sink (a target replaces the stored one, but secrets left out or sent as "[redacted]" are kept)',
          params: Id,
          body: SinkUpdate,
          response: { ...one, 409: Type.Ref('Problem') },
        },
      },
      async (req) => {
        const sink = await owned(req);
        assertSinkUnmanaged(sink, 'change');
        const { version, ...patch } = req.body;
        if (patch.target) assertPublicTargetKind(patch.target.kind);
        await assertMayManage(req.principal!, patch.streams ?? sink.streams, patch.target ?? sink.target);
        return sinks.update(req.params.id, patch as SinkPatch, version, { omittedSecrets: 'keep' });
      },
    );

    app.delete<ById>(
      '/v1/sinks/:id',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: 'Delete a sink, its consumers, stats and attempt log',
          params: Id,
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (req, reply) => {
        assertSinkUnmanaged(await owned(req), 'delete');
        await sinks.delete(req.params.id);
        return reply.code(204).send();
      },
    );

    app.post<ById>(
      '/v1/sinks/:id/pause',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: 'Stop delivering (after the in-flight attempt); the position is kept',
          params: Id,
          response: one,
        },
      },
      async (req) => {
        assertSinkUnmanaged(await owned(req), 'pause', true);
        return sinks.pause(req.params.id);
      },
    );

    app.post<ById>(
      '/v1/sinks/:id/resume',
      {
        config: { access: authenticated },
        schema: { tags, summary: 'Deliver again from where the sink stopped', params: Id, response: one },
      },
      async (req) => {
        assertSinkUnmanaged(await owned(req), 'resume', true);
        return sinks.resume(req.params.id);
      },
    );

    app.post<ById & { Body: Static<typeof Start> }>(
      '/v1/sinks/:id/seek',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: 'Move the sink to a seq or a time (or the beginning or end)',
          params: Id,
          body: Start,
          response: one,
        },
      },
      async (req) => {
        assertSinkUnmanaged(await owned(req), 'move', true);
        return sinks.seek(req.params.id, startOf(req.body), req.body.stream);
      },
    );

    app.post<ById & { Body: { stream: string; fromSeq: number; toSeq?: number } }>(
      '/v1/sinks/:id/replay',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: 'Deliver a range of a source stream again, beside the normal progress',
          params: Id,
          body: Type.Object(
            {
              stream: Type.String({ minLength: 1 }),
              fromSeq: Type.Integer({ minimum: 1 }),
              toSeq: Type.Optional(Type.Integer({ minimum: 1 })),
            },
            { additionalProperties: false },
          ),
          response: { 202: Type.Object({ job: AnyObject }), ...problemResponses },
        },
      },
      async (req, reply) => {
        await owned(req);
        return reply
          .code(202)
          .send({ job: await sinks.replay(req.params.id, req.body.stream, req.body.fromSeq, req.body.toSeq) });
      },
    );

    app.post<ById>(
      '/v1/sinks/:id/dead-letters/retry',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: 'Deliver the events this sink dead-lettered once more',
          params: Id,
          response: { 202: Type.Object({ jobs: Type.Array(AnyObject) }), ...problemResponses },
        },
      },
      async (req, reply) => {
        await owned(req);
        return reply.code(202).send({ jobs: await sinks.retryDeadLetters(req.params.id) });
      },
    );

    app.get<ById & { Querystring: { stream?: string; seq?: number; limit?: number } }>(
      '/v1/sinks/:id/attempts',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: 'The attempt log, newest first (status, latency, error per attempt)',
          params: Id,
          querystring: Type.Object(
            {
              stream: Type.Optional(Type.String()),
              seq: Type.Optional(Type.Integer({ minimum: 1 })),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ attempts: Type.Array(Attempt) }), ...problemResponses },
        },
      },
      async (req) => {
        await owned(req);
        return {
          attempts: await sinks.attempts(req.params.id, {
            stream: req.query.stream,
            seq: req.query.seq,
            limit: req.query.limit ?? 100,
          }),
        };
      },
    );

    app.get<ById & { Querystring: { window?: number; step?: number } }>(
      '/v1/sinks/:id/rates',
      {
        config: { access: authenticated },
        schema: {
          tags,
          summary: 'Deliveries and failed attempts per step over the last hour',
          description:
            'Counted in memory by the process that answers, since it started (the process that delivers the sink); the totals in `stats` are the durable figures.',
          params: Id,
          querystring: Type.Object(
            {
              window: Type.Optional(
                Type.Integer({
                  minimum: 60,
                  maximum: 3600,
                  multipleOf: 60,
                  default: 3600,
                  description: 'seconds back from now, whole minutes',
                }),
              ),
              step: Type.Optional(
                Type.Integer({
                  minimum: 60,
                  maximum: 3600,
                  multipleOf: 60,
                  default: 60,
                  description: 'seconds per point, whole minutes dividing the window',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              sink: Type.String(),
              start: Type.String({ description: 'start of the first step' }),
              stepSeconds: Type.Integer(),
              delivered: Type.Array(Type.Number(), {
                description: 'events delivered per step, oldest first; the last step is still filling',
              }),
              failed: Type.Array(Type.Number(), { description: 'failed attempts per step' }),
            }),
            ...problemResponses,
          },
        },
      },
      async (req) => {
        await owned(req);
        return services.sinkRates.series(req.params.id, req.query.window ?? 3600, req.query.step ?? 60);
      },
    );
  };
}

function forbidden(needs: string, message: string): RivuletError {
  return new RivuletError('FORBIDDEN', message, { details: { needs } });
}
