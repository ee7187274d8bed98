/**
 * Native API: specs (`/v1/specs`). A spec is uploaded as its dataset's next revision and
 * applied in the background; a plan shows what applying would change, changing nothing.
 * Bodies are JSON, or YAML with `Content-Type: application/yaml`. A key acts for its own
 * owner (the spec's `meta.owner`), an admin key for any.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { RivuletError } from '../../kernel/errors.js';
import type { CoreServices } from '../../core/services.js';
import { parsePipelineReport } from '../../core/specs/pipeline-report.js';
import { stateOf, type RevisionDoc } from '../../core/specs/revision-model.js';
import { assertOwner, type RevisionSelector } from '../../core/specs/spec-service.js';
import { parseSpecText } from '../../core/specs/spec-text.js';
import { decodeUtf8 } from '../plugins/json-body.js';
import { problemResponses } from '../schemas.js';
import type { RevisionSummaryView } from '../api-views.js';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const Name = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.~-]{0,99}$' });
const DatasetParams = Type.Object({ owner: Name, dataset: Name });
const RevisionParams = Type.Object({
  owner: Name,
  dataset: Name,
  revision: Type.String({
    pattern: '^([1-9][0-9]{0,9}|latest|successful)$',
    description: 'a revision number, `latest` (whatever its state) or `successful` (the latest that succeeded)',
  }),
});
const PruneQuery = Type.Object({
  prune: Type.Optional(
    Type.Boolean({ default: false, description: 'delete what the dataset manages but the spec no longer declares' }),
  ),
});
const SpecBody = Type.Object(
  { meta: Type.Object({ owner: Type.String(), dataset: Type.String(), schedule: Type.Optional(Type.String()) }) },
  {
    additionalProperties: true,
    description:
      'a spec: meta, streams, schemas, eventSources, actionTargets, sinks, rules, external (see docs/specs.md)',
  },
);
const Revision = Type.Object(
  {
    id: Type.String(),
    owner: Type.String(),
    dataset: Type.String(),
    revision: Type.Integer(),
    state: Type.String({ description: 'QUEUED, INPROGRESS, SUCCEEDED or FAILED, derived from the pipelines' }),
    trigger: Type.Optional(
      Type.Union([Type.Literal('upload'), Type.Literal('schedule')], {
        description:
          'upload, or a scheduled check that found the world drifted from the latest revision (meta.schedule)',
      }),
    ),
  },
  { additionalProperties: true },
);
const Plan = Type.Object({ dataset: Type.String(), prune: Type.Boolean() }, { additionalProperties: true });
const Dataset = Type.Object({
  owner: Type.String(),
  dataset: Type.String(),
  latest: Type.Integer(),
  managed: Type.Array(Type.String()),
  scheduleCheckedAt: Type.Optional(
    Type.String({ description: 'when meta.schedule last compared the latest revision with the world' }),
  ),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export function revisionView(doc: RevisionDoc): Record<string, unknown> {
  return { ...doc, state: stateOf(doc) };
}

function selector(text: string): RevisionSelector {
  return text === 'latest' || text === 'successful' ? text : Number(text);
}

export function specsRoutes(services: Pick<CoreServices, 'specs'>, options: { maxJsonDepth: number }) {
  const { specs } = services;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addContentTypeParser(YAML_TYPES, { parseAs: 'buffer' }, (_req, body, done) => {
      try {
        done(null, parseSpecText(decodeUtf8(body as Buffer), options.maxJsonDepth));
      } catch (err) {
        done(err as Error, undefined);
      }
    });

    app.post<{ Querystring: Static<typeof PruneQuery> }>(
      '/v1/specs',
      {
        config: { access: { scope: 'authenticated' }, openapiBody: SpecBody },
        schema: {
          tags: ['specs'],
          summary: 'Upload a spec as its dataset’s next revision, and apply it',
          description:
            'Answers 201 with the revision, its pipelines QUEUED; they run in the background (poll the revision). Refusals: 400 SPEC_INVALID, 403 FORBIDDEN (another owner, or a stream the key may not manage), 403 PLAN_LIMIT (a new dataset beyond the owner’s limit).',
          querystring: PruneQuery,
          response: { 201: Revision, ...problemResponses },
        },
      },
      async (req, reply) => {
        const doc = await specs.upload(req.body, req.principal!, { prune: req.query.prune ?? false });
        return reply
          .code(201)
          .header('location', `/v1/specs/${doc.owner}/${doc.dataset}/revisions/${doc.revision}`)
          .send(revisionView(specs.shown(doc)));
      },
    );

    app.post<{ Querystring: Static<typeof PruneQuery> }>(
      '/v1/specs/plan',
      {
        config: { access: { scope: 'authenticated' }, openapiBody: SpecBody },
        schema: {
          tags: ['specs'],
          summary: 'Plan a spec (dry run): what applying it would create, update and delete',
          querystring: PruneQuery,
          response: { 200: Plan, ...problemResponses },
        },
      },
      async (req) => specs.plan(req.body, req.principal!, { prune: req.query.prune ?? false }),
    );

    app.get<{ Querystring: { owner?: string } }>(
      '/v1/specs',
      {
        config: { access: { scope: 'authenticated' } },
        schema: {
          tags: ['specs'],
          summary: 'List datasets with specs (a key sees its owner’s; an admin key every one)',
          querystring: Type.Object({ owner: Type.Optional(Name) }),
          response: { 200: Type.Object({ datasets: Type.Array(Dataset) }), ...problemResponses },
        },
      },
      async (req) => {
        const principal = req.principal!;
        const owner = req.query.owner ?? (principal.admin ? undefined : principal.owner);
        if (owner !== undefined) assertOwner(principal, owner);
        return { datasets: await specs.datasets(owner) };
      },
    );

    app.get<{ Params: Static<typeof DatasetParams> }>(
      '/v1/specs/:owner/:dataset/revisions',
      {
        config: { access: { scope: 'authenticated' } },
        schema: {
          tags: ['specs'],
          summary: 'List a dataset’s revisions, oldest first (without their specs and logs)',
          params: DatasetParams,
          response: { 200: Type.Object({ revisions: Type.Array(Revision) }), ...problemResponses },
        },
      },
      async (req) => {
        assertOwner(req.principal!, req.params.owner);
        const all = await specs.revisions.revisions(req.params.owner, req.params.dataset);
        if (all.length === 0)
          throw new RivuletError('SPEC_NOT_FOUND', `${req.params.owner}/${req.params.dataset} has no revisions`, {
            details: { owner: req.params.owner, dataset: req.params.dataset },
          });
        return {
          revisions: all.map((r): RevisionSummaryView => ({
            id: r.id,
            owner: r.owner,
            dataset: r.dataset,
            revision: r.revision,
            state: stateOf(r),
            hash: r.hash,
            prune: r.prune,
            createdAt: r.createdAt,
            updatedAt: r.updatedAt,
            finishedAt: r.finishedAt,
          })),
        };
      },
    );

    app.get<{ Params: Static<typeof RevisionParams> }>(
      '/v1/specs/:owner/:dataset/revisions/:revision',
      {
        config: { access: { scope: 'authenticated' } },
        schema: {
          tags: ['specs'],
          summary: 'Get a revision: a number, latest, or successful',
          params: RevisionParams,
          response: { 200: Revision, ...problemResponses },
        },
      },
      async (req) => {
        assertOwner(req.principal!, req.params.owner);
        return revisionView(
          specs.shown(await specs.get(req.params.owner, req.params.dataset, selector(req.params.revision))),
        );
      },
    );

    app.post<{ Params: Static<typeof RevisionParams>; Querystring: Static<typeof PruneQuery> }>(
      '/v1/specs/:owner/:dataset/revisions/:revision/apply',
      {
        config: { access: { scope: 'authenticated' } },
        schema: {
          tags: ['specs'],
          summary: 'Apply an earlier revision’s spec again, as the next revision (a roll-back)',
          params: RevisionParams,
          querystring: PruneQuery,
          response: { 201: Revision, ...problemResponses },
        },
      },
      async (req, reply) => {
        assertOwner(req.principal!, req.params.owner);
        const earlier = await specs.get(req.params.owner, req.params.dataset, selector(req.params.revision));
        const doc = await specs.upload(earlier.spec, req.principal!, { prune: req.query.prune ?? false });
        return reply
          .code(201)
          .header('location', `/v1/specs/${doc.owner}/${doc.dataset}/revisions/${doc.revision}`)
          .send(revisionView(specs.shown(doc)));
      },
    );

    app.post(
      '/v1/specs/pipeline-events',
      {
        config: { access: { scope: 'authenticated' } },
        schema: {
          tags: ['specs'],
          summary: 'Report an event of an external pipeline: queue, start, progress or finish',
          body: Type.Object({
            pipeline: Type.String({ description: 'the pipeline id, as the revision lists it' }),
            event: Type.Union([
              Type.Literal('queue'),
              Type.Literal('start'),
              Type.Literal('progress'),
              Type.Literal('finish'),
            ]),
            success: Type.Optional(Type.Boolean()),
            errors: Type.Optional(Type.Array(Type.String())),
            log: Type.Optional(Type.Array(Type.String())),
            stats: Type.Optional(Type.Object({}, { additionalProperties: true })),
          }),
          response: { 200: Revision, ...problemResponses, 409: Type.Ref('Problem') },
        },
      },
      async (req) => revisionView(specs.shown(await specs.report(parsePipelineReport(req.body), req.principal!))),
    );
  };
}
