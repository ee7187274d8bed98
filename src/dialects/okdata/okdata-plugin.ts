/**
 * The okdata dialect (seed 000): event streams per dataset version, mounted at the root (as
 * the seed's curl examples) and under `/streams` (as okdata ran in production):
 *   POST|GET|PUT|DELETE /{dataset}/{version}         the stream (PUT: 501, as okdata)
 *   GET|PUT  /{dataset}/{version}/subscribable       the live-following switch
 *   POST     /{dataset}/{version}/events             a JSON array of event objects → the raw stream
 *   GET      /{dataset}/{version}/events?from_date&to_date&page&page_size   history
 *   POST|GET /{dataset}/{version}/sinks, GET|DELETE …/sinks/{sink_type}   (okdata-sinks-routes.ts)
 * Bearer keys; okdata's read / write / update map to consume / produce / manage on the
 * processed stream (write: produce on the stream the events go to). Errors: {"message"}.
 * At the root the dataset segment is constrained, so other APIs' paths (`/v1/...`) never
 * fall into this dialect; static routes win over it anyway.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { uuidv7 } from '../../core/events/uuid-v7.js';
import { RivuletError } from '../../kernel/errors.js';
import { ACCESS_RIGHTS } from './okdata-settings.js';
import { MAX_PAGE_SIZE, type OkdataService } from './okdata-service.js';
import { processedStreamName, rawStreamName, type OkdataId } from './okdata-names.js';
import { parseOkdataTime, type OkdataTime } from './okdata-time.js';
import { okdataErrorHandler } from './okdata-errors.js';
import { notFoundWith, type ApiMount } from '../../http/unrouted.js';
import { historyOut, streamOut, streamWithAccessOut, subscribableOut } from './okdata-mapping.js';
import { okdataSinkRoutes } from './okdata-sinks-routes.js';

/** the root mount's dataset segment: anything but an API version (`v1`, …), which belongs to the native API */
export const ROOT_DATASET_SEGMENT = '/:dataset(^(?!v[0-9]+$)[a-z0-9-]{1,70}$)';

const Params = Type.Object({
  dataset: Type.String({ pattern: '^[a-z0-9-]{3,70}$' }),
  version: Type.String({ pattern: '^[A-Za-z0-9_-]{1,50}$' }),
});
type Params = Static<typeof Params>;

const StreamIn = Type.Object(
  {
    create_raw: Type.Optional(Type.Boolean()),
    // Rivulet's additions: okdata read these from its dataset catalogue
    accessRights: Type.Optional(Type.Union(ACCESS_RIGHTS.map((a) => Type.Literal(a)))),
    timestamp_field: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    // the processing step (raw → processed): a sink filter and a JSONata transform; none: identity
    processing: Type.Optional(
      Type.Object(
        {
          filter: Type.Optional(
            Type.Object(
              {
                types: Type.Optional(Type.Array(Type.String(), { maxItems: 100 })),
                sources: Type.Optional(Type.Array(Type.String(), { maxItems: 100 })),
                condition: Type.Optional(Type.String({ maxLength: 4000 })),
              },
              { additionalProperties: false },
            ),
          ),
          transform: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: true },
);

const SubscribableIn = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: true });

const HistoryQuery = Type.Object({
  from_date: Type.String({ minLength: 1, maxLength: 64 }),
  to_date: Type.String({ minLength: 1, maxLength: 64 }),
  page: Type.Integer({ minimum: 1, default: 1 }),
  page_size: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 10 }),
});

const idOf = (req: FastifyRequest): OkdataId => {
  const p = req.params as Params;
  return { dataset: p.dataset, version: p.version };
};
const processedOf = (req: FastifyRequest) => processedStreamName(idOf(req));
const updatedBy = (req: FastifyRequest) => req.principal?.owner ?? null;

function dateParam(value: string, name: string): OkdataTime {
  const parsed = parseOkdataTime(value);
  if (!parsed) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `${name} must be an ISO date (2020-10-18) or date-time (2020-10-18T12:00:00+02:00)`,
      {
        details: { in: 'querystring', pointer: `/${name}` },
      },
    );
  }
  return parsed;
}

/** okdata answers under /streams/, and at the root for the paths its routes match */
export const okdataApiMount: ApiMount = {
  name: 'okdata',
  claims: (path, routeUrl) => path.startsWith('/streams/') || (routeUrl?.startsWith('/:dataset') ?? false),
  errorHandler: okdataErrorHandler,
};

export interface OkdataMount {
  /** the path before `/{version}`: the dataset segment, constrained at the root */
  datasetSegment: string;
  /** answer unknown paths under the mount in okdata's format (only where the mount has a prefix of its own) */
  ownNotFound: boolean;
}

export function okdataDialect(okdata: OkdataService, mount: OkdataMount) {
  return async function okdataApi(app: FastifyInstance): Promise<void> {
    app.setErrorHandler(okdataErrorHandler);
    // A request without a body has none, whatever its Content-Type says: the seed's DELETE
    // commands send `Content-Type: application/json` and nothing else, as FastAPI allowed.
    app.addHook('onRequest', async (req) => {
      const length = req.headers['content-length'];
      if ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined)
        delete req.headers['content-type'];
    });
    if (mount.ownNotFound) {
      app.setNotFoundHandler(notFoundWith(okdataErrorHandler));
    }
    const base = `${mount.datasetSegment}/:version`;

    app.post<{ Params: Params; Body: Static<typeof StreamIn> | undefined }>(
      base,
      {
        config: { access: { scope: 'manage', stream: processedOf }, okdataOp: 'stream-create' },
        schema: { hide: true, params: Params, body: StreamIn },
        // okdata's create takes no body at all as `{}`
        preValidation: async (req) => {
          req.body ??= {};
        },
      },
      async (req, reply) => {
        const body = req.body ?? {};
        const view = await okdata.create(
          idOf(req),
          {
            createRaw: body.create_raw,
            accessRights: body.accessRights,
            timestampField: body.timestamp_field,
            processing: body.processing,
          },
          updatedBy(req) ?? 'okdata',
        );
        return reply.code(201).send(streamOut(view));
      },
    );

    app.get<{ Params: Params }>(
      base,
      {
        config: { access: { scope: 'manage', stream: processedOf }, okdataOp: 'stream-get' },
        schema: { hide: true, params: Params },
      },
      async (req) => streamWithAccessOut(await okdata.get(idOf(req))),
    );

    app.put<{ Params: Params }>(
      base,
      {
        config: { access: { scope: 'manage', stream: processedOf }, okdataOp: 'stream-put' },
        schema: { hide: true, params: Params },
      },
      async (_req, reply) => reply.code(501).send({ message: null }),
    );

    app.delete<{ Params: Params }>(
      base,
      {
        config: { access: { scope: 'manage', stream: processedOf }, okdataOp: 'stream-delete' },
        schema: { hide: true, params: Params },
      },
      async (req) => {
        const id = idOf(req);
        await okdata.delete(id, updatedBy(req) ?? 'okdata');
        return { message: `Deleted event stream with id ${id.dataset}/${id.version}` };
      },
    );

    app.get<{ Params: Params }>(
      `${base}/subscribable`,
      {
        config: { access: { scope: 'consume', stream: processedOf }, okdataOp: 'subscribable-get' },
        schema: { hide: true, params: Params },
      },
      async (req) => subscribableOut(await okdata.subscribable(idOf(req))),
    );

    app.put<{ Params: Params; Body: Static<typeof SubscribableIn> }>(
      `${base}/subscribable`,
      {
        config: { access: { scope: 'manage', stream: processedOf }, okdataOp: 'subscribable-put' },
        schema: { hide: true, params: Params, body: SubscribableIn },
      },
      async (req) =>
        subscribableOut(await okdata.setSubscribable(idOf(req), req.body.enabled, updatedBy(req) ?? 'okdata')),
    );

    app.post<{ Params: Params }>(
      `${base}/events`,
      {
        config: { access: { scope: 'produce', stream: (req) => rawStreamName(idOf(req)) }, okdataOp: 'events-post' },
        schema: { hide: true, params: Params },
      },
      async (req, reply) => {
        const id = idOf(req);
        // a stream made without a raw stream takes events straight into the processed one
        const target = await okdata.eventTarget(id);
        if (!req.principal?.can('produce', target.stream)) {
          throw new RivuletError('FORBIDDEN', `this key lacks produce access to stream "${target.stream}"`, {
            details: { needs: `produce:${target.stream}` },
          });
        }
        await okdata.postEvents(id, req.body, {
          producer: req.principal ? `key:${req.principal.key.id}` : null,
          newId: uuidv7,
        });
        // okdata answered 200 with an empty (null) body
        return reply.code(200).type('application/json').send('null');
      },
    );

    app.get<{ Params: Params; Querystring: Static<typeof HistoryQuery> }>(
      `${base}/events`,
      {
        config: { access: { scope: 'consume', stream: processedOf }, okdataOp: 'events-get' },
        schema: { hide: true, params: Params, querystring: HistoryQuery },
      },
      async (req) => {
        const id = idOf(req);
        const page = await okdata.history(id, {
          from: dateParam(req.query.from_date, 'from_date'),
          to: dateParam(req.query.to_date, 'to_date'),
          page: req.query.page,
          pageSize: req.query.page_size,
        });
        if (page.values.length === 0)
          throw new RivuletError('NOT_FOUND', `Could not find event: ${id.dataset}/${id.version}`, {
            details: { okdata: `${id.dataset}/${id.version}` },
          });
        return historyOut(page);
      },
    );

    okdataSinkRoutes(app, base, okdata);
  };
}
