/**
 * Native API: produce rates (`/v1/streams/{name}/rates`, `/v1/rates`), events per step over
 * the last hour at most, as counted by this process since it started (see ProduceRates).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CoreServices } from '../../core/services.js';
import { StreamName, problemResponses } from '../schemas.js';

const streamParam = (req: FastifyRequest) => (req.params as { name?: string }).name;

const RatesFields = {
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
};
const RatesQuery = Type.Object(RatesFields, { additionalProperties: false });
const AllRatesQuery = Type.Object(
  { ...RatesFields, prefix: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);

const Series = Type.Object({
  stream: Type.String(),
  start: Type.String({ description: 'start of the first step' }),
  stepSeconds: Type.Integer(),
  counts: Type.Array(Type.Number(), {
    description: 'events produced in each step, oldest first; the last step is still filling',
  }),
  perSecond: Type.Array(Type.Number()),
});

const description =
  'Counted in memory by the process that answers, since it started: after a restart the history is empty, and where several processes share a store each counts only the events produced through it.';

export function ratesRoutes(services: Pick<CoreServices, 'rates' | 'streams'>) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get<{ Params: Static<typeof StreamName>; Querystring: Static<typeof RatesQuery> }>(
      '/v1/streams/:name/rates',
      {
        config: { access: { scope: 'consume', stream: streamParam } },
        schema: {
          tags: ['streams'],
          summary: 'Events produced per step over the last hour',
          description,
          params: StreamName,
          querystring: RatesQuery,
          response: { 200: Series, ...problemResponses },
        },
      },
      async (req) => {
        await services.streams.require(req.params.name);
        return services.rates.series(req.params.name, req.query.window ?? 3600, req.query.step ?? 60);
      },
    );

    app.get<{ Querystring: Static<typeof AllRatesQuery> }>(
      '/v1/rates',
      {
        config: { access: { scope: 'authenticated' } },
        schema: {
          tags: ['streams'],
          summary: 'Produce rates of the streams this key can see (the first 1000 by name)',
          description,
          querystring: AllRatesQuery,
          response: { 200: Type.Object({ streams: Type.Array(Series) }), ...problemResponses },
        },
      },
      async (req) => {
        const principal = req.principal!;
        const { streams } = await services.streams.list({
          limit: 1000,
          prefix: req.query.prefix,
          visible: (name, owner) => principal.sees(name, owner),
        });
        return {
          streams: streams.map((s) => services.rates.series(s.name, req.query.window ?? 3600, req.query.step ?? 60)),
        };
      },
    );
  };
}
