/**
 * Native API: schemas (`/v1/streams/{name}/schemas/...`) and the dry run (`/v1/streams/{name}/validate`).
 * Event types may hold `/` and `:`: clients percent-encode them in the path (`%2F`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { uuidv7 } from '../../core/events/uuid-v7.js';
import { RivuletError, isRivuletError } from '../../kernel/errors.js';
import type { JsonValue, NewEvent } from '../../kernel/envelope.js';
import { eventFromBinary, eventsFromJson, type InputContext } from '../../core/events/native-input.js';
import { COMPATIBILITY_MODES, type CompatibilityMode } from '../../core/schemas/compatibility.js';
import { validationModeOf } from '../../core/schemas/schema-enforcement.js';
import { schemaUrn } from '../../core/schemas/schema-ref.js';
import type { CoreServices } from '../../core/services.js';
import { problemResponses } from '../schemas.js';

const streamParam = (req: FastifyRequest) => (req.params as { name?: string }).name;

const Mode = Type.Union(
  COMPATIBILITY_MODES.map((m) => Type.Literal(m)),
  { description: 'compatibility mode (Confluent Schema Registry meanings)' },
);
const TypeParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.String({ minLength: 1, maxLength: 256, description: 'event type, percent-encoded where it holds `/`' }),
});
const VersionParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.String({ minLength: 1, maxLength: 256 }),
  version: Type.String({ pattern: '^([1-9][0-9]{0,8}|latest)$', description: 'a version number, or `latest`' }),
});
const DeleteParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.String({ minLength: 1, maxLength: 256 }),
  version: Type.String({ pattern: '^[1-9][0-9]{0,8}$', description: 'a version number' }),
});
const StreamParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

const SchemaVersion = Type.Object({
  stream: Type.String(),
  type: Type.String(),
  version: Type.Integer(),
  draft: Type.String({ description: '2020-12 or draft-07' }),
  schema: Type.Object({}, { additionalProperties: true }),
  createdAt: Type.String(),
  urn: Type.String({ description: 'pins this version in an event’s `dataschema` or data `$schema`' }),
});
const RegisterAnswer = Type.Intersect([SchemaVersion, Type.Object({ compatibility: Mode, created: Type.Boolean() })]);
const RegisterBody = Type.Union([
  Type.Object(
    { schema: Type.Object({}, { additionalProperties: true }), compatibility: Type.Optional(Mode) },
    { additionalProperties: false },
  ),
  Type.Object({}, { additionalProperties: true, description: 'the JSON Schema itself' }),
]);
const TypeSummary = Type.Object({
  type: Type.String(),
  compatibility: Mode,
  compatibilityOverride: Type.Union([Mode, Type.Null()]),
  latest: Type.Integer(),
  versions: Type.Array(Type.Integer()),
});
const VersionList = Type.Object({
  type: Type.String(),
  compatibility: Mode,
  versions: Type.Array(Type.Object({ version: Type.Integer(), draft: Type.String(), createdAt: Type.String() })),
});
const CompatibilityBody = Type.Object(
  { compatibility: Type.Union([Mode, Type.Null()], { description: 'null falls back to the stream’s mode' }) },
  { additionalProperties: false },
);
const CompatibilityAnswer = Type.Object({
  type: Type.String(),
  compatibility: Mode,
  compatibilityOverride: Type.Union([Mode, Type.Null()]),
});
const CompatibilityReportAnswer = Type.Object({
  type: Type.String(),
  mode: Mode,
  compatible: Type.Boolean({ description: 'true when registering would be accepted' }),
  unchanged: Type.Boolean({
    description: 'the latest version already has this schema (registering answers that version)',
  }),
  latest: Type.Union([Type.Integer(), Type.Null()], { description: 'the latest version now' }),
  nextVersion: Type.Integer({ description: 'the version registering would create (or answer, when unchanged)' }),
  incompatibilities: Type.Array(
    Type.Object(
      {},
      { additionalProperties: true, description: '`direction`, `againstVersion`, `pointer`, `rule`, `message`' },
    ),
  ),
});
const DryRunAnswer = Type.Object({
  valid: Type.Boolean({ description: 'true when the batch would be accepted' }),
  validation: Type.String({ description: 'the stream’s validation mode: strict, known or off' }),
  events: Type.Array(
    Type.Object({
      index: Type.Integer(),
      type: Type.String(),
      valid: Type.Boolean(),
      schemaVersion: Type.Union([Type.Integer(), Type.Null()]),
      error: Type.Optional(Type.Object({ code: Type.String(), detail: Type.String() }, { additionalProperties: true })),
    }),
  ),
});

export function schemasRoutes(services: Pick<CoreServices, 'clock' | 'schemaEnforcer' | 'schemas' | 'streams'>) {
  const { schemas } = services;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get<{ Params: Static<typeof StreamParams> }>(
      '/v1/streams/:name/schemas',
      {
        config: { access: { scope: 'consume', stream: streamParam } },
        schema: {
          tags: ['schemas'],
          summary: 'List the event types of a stream that have schemas',
          params: StreamParams,
          response: { 200: Type.Object({ types: Type.Array(TypeSummary) }), ...problemResponses },
        },
      },
      async (req) => ({ types: await schemas.listTypes(req.params.name) }),
    );

    app.post<{ Params: Static<typeof TypeParams> }>(
      '/v1/streams/:name/schemas/:type',
      {
        config: { access: { scope: 'manage', stream: streamParam }, openapiBody: RegisterBody },
        schema: {
          tags: ['schemas'],
          summary: 'Register a new version of an event type’s schema',
          description:
            'The body is the JSON Schema (draft 2020-12 by default; draft-07 when `$schema` says so), or `{schema, compatibility?}` to also set the type’s compatibility mode. The new version must be compatible with earlier ones under the mode, else 409 SCHEMA_INCOMPATIBLE with the report. Registering the latest version’s schema again answers that version with 200.',
          params: TypeParams,
          response: { 200: RegisterAnswer, 201: RegisterAnswer, ...problemResponses, 409: Type.Ref('Problem') },
        },
      },
      async (req, reply) => {
        const { schema, compatibility } = registrationOf(req.body);
        const {
          schema: registered,
          created,
          mode,
        } = await inBody(req.body !== schema, () =>
          schemas.register(req.params.name, req.params.type, schema, { compatibility }),
        );
        const answer = { ...withUrn(registered), compatibility: mode, created };
        if (!created) return reply.code(200).send(answer);
        const location = `/v1/streams/${encodeURIComponent(registered.stream)}/schemas/${encodeURIComponent(registered.type)}/versions/${registered.version}`;
        return reply.code(201).header('location', location).send(answer);
      },
    );

    app.get<{ Params: Static<typeof TypeParams> }>(
      '/v1/streams/:name/schemas/:type',
      {
        config: { access: { scope: 'consume', stream: streamParam } },
        schema: {
          tags: ['schemas'],
          summary: 'List the versions of an event type’s schema',
          params: TypeParams,
          response: { 200: VersionList, ...problemResponses },
        },
      },
      async (req) => schemas.listVersions(req.params.name, req.params.type),
    );

    app.get<{ Params: Static<typeof VersionParams> }>(
      '/v1/streams/:name/schemas/:type/versions/:version',
      {
        config: { access: { scope: 'consume', stream: streamParam } },
        schema: {
          tags: ['schemas'],
          summary: 'Get one version of a schema, or the latest',
          params: VersionParams,
          response: { 200: SchemaVersion, ...problemResponses },
        },
      },
      async (req) => {
        const version = req.params.version === 'latest' ? 'latest' : Number(req.params.version);
        return withUrn(await schemas.get(req.params.name, req.params.type, version));
      },
    );

    app.delete<{ Params: Static<typeof DeleteParams> }>(
      '/v1/streams/:name/schemas/:type/versions/:version',
      {
        config: { access: { scope: 'manage', stream: streamParam } },
        schema: {
          tags: ['schemas'],
          summary: 'Delete one version of a schema',
          description: 'The version number is never given out again; events that pin it are refused from then on.',
          params: DeleteParams,
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (req, reply) => {
        await schemas.delete(req.params.name, req.params.type, Number(req.params.version));
        return reply.code(204).send();
      },
    );

    app.post<{ Params: Static<typeof TypeParams> }>(
      '/v1/streams/:name/schemas/:type/compatibility',
      {
        config: { access: { scope: 'manage', stream: streamParam }, openapiBody: RegisterBody },
        schema: {
          tags: ['schemas'],
          summary:
            'Dry run of a registration: the compatibility report of a schema against the registered versions; nothing is registered',
          description:
            'The body is what POST /v1/streams/{name}/schemas/{type} takes. Answers whether it would be registered (`compatible`), under which mode, as which version, and every incompatibility found. An invalid schema is a 400 as on registration.',
          params: TypeParams,
          response: { 200: CompatibilityReportAnswer, ...problemResponses },
        },
      },
      async (req) => {
        const { schema, compatibility } = registrationOf(req.body);
        return schemas.checkCompatibility(req.params.name, req.params.type, schema, { compatibility });
      },
    );

    app.put<{ Params: Static<typeof TypeParams>; Body: Static<typeof CompatibilityBody> }>(
      '/v1/streams/:name/schemas/:type/compatibility',
      {
        config: { access: { scope: 'manage', stream: streamParam } },
        schema: {
          tags: ['schemas'],
          summary: 'Set an event type’s own compatibility mode',
          params: TypeParams,
          body: CompatibilityBody,
          response: { 200: CompatibilityAnswer, ...problemResponses },
        },
      },
      async (req) =>
        schemas.setCompatibility(req.params.name, req.params.type, req.body.compatibility as CompatibilityMode | null),
    );

    app.post<{ Params: Static<typeof StreamParams> }>(
      '/v1/streams/:name/validate',
      {
        config: {
          access: { scope: 'produce', stream: streamParam },
          openapiBody: Type.Unknown({
            description: 'one event or a batch, in any JSON input shape of POST /v1/streams/{name}/events',
          }),
        },
        schema: {
          tags: ['schemas'],
          summary: 'Dry run: would these events be accepted? Nothing is written',
          description:
            'Answers, per event, whether it matches its schema under the stream’s validation mode and which version it was checked against; `valid` is true when the whole batch would be accepted. Malformed events answer 422 as they would when produced.',
          params: StreamParams,
          response: { 200: DryRunAnswer, ...problemResponses, 415: Type.Ref('Problem'), 422: Type.Ref('Problem') },
        },
      },
      async (req) => {
        const stream = await services.streams.require(req.params.name);
        const ctx: InputContext = {
          stream: stream.name,
          producer: null,
          newId: uuidv7,
          now: () => services.clock.now().toISOString(),
        };
        const events = eventsOfDryRun(req, ctx);
        const outcomes = await services.schemaEnforcer.checkAll(stream, events);
        return {
          valid: outcomes.every((o) => o.ok),
          validation: validationModeOf(stream),
          events: outcomes.map((o, index) => ({
            index,
            type: events[index]!.type,
            valid: o.ok,
            schemaVersion: o.ok ? o.schemaVersion : ((o.error.details?.schemaVersion as number | undefined) ?? null),
            ...(o.ok ? {} : { error: { code: o.error.code, detail: o.error.message, ...o.error.details } }),
          })),
        };
      },
    );
  };
}

/** Pointers into a schema sent as `{"schema": …}` are pointers into the body's `/schema`. */
async function inBody<T>(wrapped: boolean, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const pointer = isRivuletError(err) ? err.details?.pointer : undefined;
    if (
      !wrapped ||
      !isRivuletError(err) ||
      typeof pointer !== 'string' ||
      (err.code !== 'SCHEMA_INVALID' && err.code !== 'UNSUPPORTED_REGEX')
    )
      throw err;
    throw new RivuletError(err.code, err.message, {
      details: { ...err.details, pointer: `/schema${pointer}` },
      cause: err.cause,
    });
  }
}

/** `{schema, compatibility?}` when the body has exactly that form; otherwise the body is the schema. */
function registrationOf(body: unknown): { schema: unknown; compatibility?: CompatibilityMode } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RivuletError(
      'SCHEMA_INVALID',
      'send the JSON Schema (an object), or {"schema": {...}, "compatibility": "BACKWARD"}',
      { details: { pointer: '' } },
    );
  }
  const keys = Object.keys(body);
  const wrapped =
    'schema' in body &&
    typeof (body as { schema: unknown }).schema === 'object' &&
    keys.every((k) => k === 'schema' || k === 'compatibility');
  if (!wrapped) return { schema: body };
  const { schema, compatibility } = body as { schema: unknown; compatibility?: unknown };
  if (
    compatibility !== undefined &&
    !(typeof compatibility === 'string' && (COMPATIBILITY_MODES as readonly string[]).includes(compatibility))
  ) {
    throw new RivuletError('VALIDATION_FAILED', `"compatibility" must be one of ${COMPATIBILITY_MODES.join(', ')}`, {
      details: { pointer: '/compatibility' },
    });
  }
  return { schema, compatibility: compatibility as CompatibilityMode | undefined };
}

function withUrn<T extends { stream: string; type: string; version: number }>(s: T): T & { urn: string } {
  return { ...s, urn: schemaUrn(s.stream, s.type, s.version) };
}

/** The JSON input shapes of the events route: plain, CloudEvents structured or batch, or binary mode with a JSON body. */
function eventsOfDryRun(req: FastifyRequest, ctx: InputContext): NewEvent[] {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (req.headers['ce-specversion'] !== undefined) {
    return [
      eventFromBinary(
        req.headers as Record<string, string | undefined>,
        (req.body ?? null) as JsonValue,
        req.headers['content-type'],
        false,
        ctx,
      ),
    ];
  }
  if (contentType === 'application/cloudevents-batch+json' && !Array.isArray(req.body)) {
    throw new RivuletError('INVALID_EVENT', 'a CloudEvents batch must be a JSON array', { details: { pointer: '' } });
  }
  return eventsFromJson(req.body, ctx, contentType.startsWith('application/cloudevents') ? 'cloudevents' : 'auto');
}
