/**
 * okdata's sink routes (seed 000), on the same mount as the rest of the dialect:
 *   POST   /{dataset}/{version}/sinks              {"type": "s3" | "elasticsearch"} → 201
 *   GET    /{dataset}/{version}/sinks              the sinks not deleted
 *   GET    /{dataset}/{version}/sinks/{sink_type}
 *   DELETE /{dataset}/{version}/sinks/{sink_type}  "disables" the sink
 * All need okdata:dataset:update, that is `manage` on the processed stream.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { processedStreamName, type OkdataId } from './okdata-names.js';
import type { OkdataService } from './okdata-service.js';
import { sinkOut } from './okdata-mapping.js';

const Params = Type.Object({
  dataset: Type.String({ pattern: '^[a-z0-9-]{3,70}$' }),
  version: Type.String({ pattern: '^[A-Za-z0-9_-]{1,50}$' }),
});
type Params = Static<typeof Params>;

const SinkParams = Type.Object({
  dataset: Params.properties.dataset,
  version: Params.properties.version,
  // any text: an unknown type is okdata's 400 "Invalid sink type", not a 422
  sinkType: Type.String({ minLength: 1, maxLength: 100 }),
});
type SinkParams = Static<typeof SinkParams>;

const SinkIn = Type.Object({ type: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: true });

const idOf = (req: FastifyRequest): OkdataId => {
  const p = req.params as Params;
  return { dataset: p.dataset, version: p.version };
};
const processedOf = (req: FastifyRequest) => processedStreamName(idOf(req));
const updatedBy = (req: FastifyRequest) => req.principal?.owner ?? 'okdata';

export function okdataSinkRoutes(app: FastifyInstance, base: string, okdata: OkdataService): void {
  app.post<{ Params: Params; Body: Static<typeof SinkIn> }>(
    `${base}/sinks`,
    {
      config: { access: { scope: 'manage', stream: processedOf }, okdataOp: 'sinks-create' },
      schema: { hide: true, params: Params, body: SinkIn },
    },
    async (req, reply) =>
      reply.code(201).send(sinkOut(await okdata.sinks.create(idOf(req), req.body.type, updatedBy(req)))),
  );

  app.get<{ Params: Params }>(
    `${base}/sinks`,
    {
      config: { access: { scope: 'manage', stream: processedOf }, okdataOp: 'sinks-list' },
      schema: { hide: true, params: Params },
    },
    async (req) => (await okdata.sinks.list(idOf(req))).map(sinkOut),
  );

  app.get<{ Params: SinkParams }>(
    `${base}/sinks/:sinkType`,
    {
      config: { access: { scope: 'manage', stream: processedOf }, okdataOp: 'sink-get' },
      schema: { hide: true, params: SinkParams },
    },
    async (req) => sinkOut(await okdata.sinks.get(idOf(req), req.params.sinkType)),
  );

  app.delete<{ Params: SinkParams }>(
    `${base}/sinks/:sinkType`,
    {
      config: { access: { scope: 'manage', stream: processedOf }, okdataOp: 'sink-delete' },
      schema: { hide: true, params: SinkParams },
    },
    async (req) => {
      const id = idOf(req);
      await okdata.sinks.delete(id, req.params.sinkType, updatedBy(req));
      return { message: `Disabled sink of type ${req.params.sinkType} for stream ${id.dataset}/${id.version}` };
    },
  );
}
