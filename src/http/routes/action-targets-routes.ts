/**
 * Native API: action targets (`/v1/action-targets`), where iFLUX rules send actions
 * (docs/rules.md). Secrets (auth password or token, secret-looking headers, signing secrets)
 * are never answered; sent back as answered (`[redacted]`) they keep the stored ones, and a
 * PATCH keeps those it leaves out. Every route needs `manage` on the rules' stream (the iFLUX
 * stream), or admin; a non-admin sees only its owner's. Deleting one a rule uses is refused
 * (409 naming it).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { redactActionTarget } from '../../core/rules/action-target-service.js';
import type { CoreServices } from '../../core/services.js';
import { problemResponses } from '../schemas.js';

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Auth = Type.Union([
  Type.Null(),
  Type.Object(
    { type: Type.Literal('basic'), user: Type.String(), password: Type.String() },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('bearer'), token: Type.String() }, { additionalProperties: false }),
]);
const Headers = Type.Record(Type.String(), Type.String());
const Signing = Type.Union([
  Type.Null(),
  Type.Object({ secrets: Type.Array(Type.String(), { minItems: 1, maxItems: 5 }) }, { additionalProperties: false }),
]);

/**
 * On a PATCH a secret may be left out (kept), null (removed: a header, a signing secret by
 * position) or `[redacted]` (kept); the service resolves them before its checks. A type list,
 * not a union, so the coercion of types leaves null and "" as sent.
 */
const StringOrNull = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const AuthChange = Type.Union([
  Type.Null(),
  Type.Object(
    { type: Type.Literal('basic'), user: Type.String(), password: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('bearer'), token: Type.Optional(Type.String()) }, { additionalProperties: false }),
]);
const HeadersChange = Type.Record(Type.String(), StringOrNull);
const SigningChange = Type.Union([
  Type.Null(),
  Type.Object({ secrets: Type.Array(StringOrNull, { minItems: 1, maxItems: 5 }) }, { additionalProperties: false }),
]);

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  url: Type.String({ minLength: 1, maxLength: 2000, description: 'where actions are sent' }),
  method: Type.Optional(Type.String({ description: 'POST (default), PUT or PATCH' })),
  auth: Type.Optional(Auth),
  headers: Type.Optional(Headers),
  signing: Type.Optional(Signing),
};

const ActionTargetCreate = Type.Object(
  { id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), ...fields },
  { additionalProperties: false },
);
const ActionTargetUpdate = Type.Object(
  {
    name: Type.Optional(fields.name),
    description: fields.description,
    url: Type.Optional(fields.url),
    method: fields.method,
    auth: Type.Optional(AuthChange),
    headers: Type.Optional(HeadersChange),
    signing: Type.Optional(SigningChange),
  },
  { additionalProperties: false },
);

const ActionTarget = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    owner: Type.String(),
    url: Type.String(),
    method: Type.String(),
    auth: Type.Union([Type.Null(), Type.Object({}, { additionalProperties: true })]),
    headers: Type.Object({}, { additionalProperties: true }),
    signing: Type.Union([Type.Null(), Type.Object({}, { additionalProperties: true })]),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'ActionTarget', additionalProperties: true, description: 'secrets are shown as [redacted]' },
);

type ById = { Params: Static<typeof Id> };

export function actionTargetsRoutes(services: Pick<CoreServices, 'actionTargets' | 'rules'>) {
  const targets = services.actionTargets;
  const access = { scope: 'manage' as const, stream: () => services.rules.defaultStream };
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addSchema(ActionTarget);
    const tags = ['rules'];
    const one = { 200: Type.Ref('ActionTarget'), ...problemResponses };

    app.post<{ Body: Static<typeof ActionTargetCreate> }>(
      '/v1/action-targets',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Create an action target',
          body: ActionTargetCreate,
          response: { 201: Type.Ref('ActionTarget'), ...problemResponses },
        },
      },
      async (req, reply) => {
        const created = await targets.create(req.body, req.principal!);
        return reply
          .code(201)
          .header('location', `/v1/action-targets/${encodeURIComponent(created.id)}`)
          .send(redactActionTarget(created));
      },
    );

    app.get<{ Querystring: { after?: string; limit?: number } }>(
      '/v1/action-targets',
      {
        config: { access },
        schema: {
          tags,
          summary: "List action targets (a non-admin key sees its owner's)",
          querystring: Type.Object(
            { after: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              actionTargets: Type.Array(Type.Ref('ActionTarget')),
              next: Type.Union([Type.String(), Type.Null()]),
            }),
            ...problemResponses,
          },
        },
      },
      async (req) => {
        const page = await targets.list(req.principal!, { after: req.query.after, limit: req.query.limit ?? 100 });
        return { actionTargets: page.items.map(redactActionTarget), next: page.next };
      },
    );

    app.get<ById>(
      '/v1/action-targets/:id',
      {
        config: { access },
        schema: { tags, summary: 'Describe an action target (secrets redacted)', params: Id, response: one },
      },
      async (req) => redactActionTarget(await targets.get(req.params.id, req.principal!)),
    );

    app.patch<ById & { Body: Static<typeof ActionTargetUpdate> }>(
      '/v1/action-targets/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Change an action target; rules using it follow',
          description:
            'Fields given replace the stored ones. Secrets (auth password or token, secret-looking headers, signing secrets) left out of a given auth, headers or signing are kept, "[redacted]" keeps the stored one, null removes.',
          params: Id,
          body: ActionTargetUpdate,
          response: one,
        },
      },
      async (req) =>
        redactActionTarget(await targets.update(req.params.id, req.body, req.principal!, { omittedSecrets: 'keep' })),
    );

    app.delete<ById>(
      '/v1/action-targets/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Delete an action target (409 while a rule uses it)',
          params: Id,
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (req, reply) => {
        await targets.delete(req.params.id, req.principal!);
        return reply.code(204).send();
      },
    );
  };
}
