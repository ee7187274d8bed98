/** JSON Schemas of the native API's resources: they validate requests and generate /openapi.json. */
import { Type } from '@sinclair/typebox';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    code: Type.String(),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);

export const problemResponses = {
  400: Type.Ref('Problem'),
  401: Type.Ref('Problem'),
  403: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
};

// One type list rather than anyOf: with type coercion on, anyOf's null branch would turn 0 into null (no limit).
const positiveOrNull = (description: string) =>
  Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, description });

export const Retention = Type.Object(
  {
    maxAgeMs: Type.Optional(positiveOrNull('keep events at most this many milliseconds')),
    maxEvents: Type.Optional(positiveOrNull('keep at most this many events')),
    maxBytes: Type.Optional(positiveOrNull('keep at most this many bytes of event data')),
  },
  { additionalProperties: false },
);

export const StreamCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    retention: Type.Optional(Retention),
    exclusiveProducer: Type.Optional(Type.Boolean()),
    options: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

export const StreamUpdate = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    retention: Type.Optional(Retention),
    exclusiveProducer: Type.Optional(Type.Boolean()),
    options: Type.Optional(Type.Object({}, { additionalProperties: true })),
    version: Type.Optional(
      Type.Integer({ minimum: 1, description: 'answer 409 unless the stream is at this version' }),
    ),
  },
  { additionalProperties: false },
);

export const StreamStats = Type.Object({
  count: Type.Integer(),
  firstSeq: Type.Integer(),
  lastSeq: Type.Integer(),
  firstTime: Type.Union([Type.String(), Type.Null()]),
  lastTime: Type.Union([Type.String(), Type.Null()]),
  bytes: Type.Integer(),
});

export const Stream = Type.Object(
  {
    name: Type.String(),
    owner: Type.String(),
    description: Type.String(),
    retention: Retention,
    exclusiveProducer: Type.Boolean(),
    lockedBy: Type.Union([Type.String(), Type.Null()]),
    options: Type.Object({}, { additionalProperties: true }),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    version: Type.Integer(),
    stats: StreamStats,
  },
  { $id: 'Stream' },
);

export const StreamName = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

export const Event = Type.Object(
  {
    id: Type.String(),
    stream: Type.String(),
    seq: Type.Integer(),
    typeSeq: Type.Integer(),
    type: Type.String(),
    source: Type.String(),
    time: Type.String(),
    received: Type.String(),
    producer: Type.Union([Type.String(), Type.Null()]),
    data: Type.Unknown(),
    meta: Type.Optional(Type.Object({}, { additionalProperties: true })),
    schemaVersion: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  },
  { $id: 'Event' },
);

export const EventInput = Type.Object(
  {
    type: Type.String({ description: 'event type, e.g. order.placed' }),
    source: Type.Optional(Type.String()),
    time: Type.Optional(Type.String({ format: 'date-time' })),
    id: Type.Optional(Type.String({ description: 'supply one to make retries idempotent' })),
    data: Type.Optional(Type.Unknown()),
  },
  {
    additionalProperties: true,
    description: 'a plain event, or a CloudEvents 1.0 structured event (with specversion)',
  },
);

export const AppendAnswer = Type.Object({
  stream: Type.String(),
  events: Type.Array(
    Type.Object({ id: Type.String(), seq: Type.Integer(), typeSeq: Type.Integer(), duplicate: Type.Boolean() }),
  ),
  replayed: Type.Boolean(),
});

export const KeyCreate = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    owner: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(Type.String(), { minItems: 1, maxItems: 100 }),
    expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const Key = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    owner: Type.String(),
    scopes: Type.Array(Type.String()),
    createdAt: Type.String(),
    expiresAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Key' },
);
