/**
 * The aether REST consumer dialect (seed 001), at the root:
 *   GET  /jobs/{owner}                    the owner's jobs
 *   GET  /job/{id}                        one job (secrets redacted)
 *   POST /job/{id}                        upsert; `modified` and `hash` generated
 *   DELETE /job/{id}                      delete the job
 *   GET|POST /job/{id}/start | /stop      resume | pause delivery
 *   GET|POST /job/{id}/set_offset/{offset}  next event delivered: Kafka offset `offset` = seq offset+1 (or beginning, end)
 *   POST /job/{id}/dry-run                the request the stored job would send for a sample event
 *   POST /jobs/dry-run                    the same for a job (or a datamap) in the body
 * and the original implementation's routes: POST /jobs/add, POST /jobs/update, GET /jobs/get?id=,
 * GET /jobs/list, GET|POST|DELETE /jobs/delete?id=, POST /jobs/validate.
 * Keys authenticate as the Basic password (any user name) or any Rivulet form.
 * See docs/dialects/aether.md.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RivuletError, isRivuletError } from '../../kernel/errors.js';
import type { StartPosition } from '../../core/ports.js';
import { AetherJobs, type AetherServices, type AetherOptions } from './aether-jobs.js';
import { dryRunDataMap, dryRunJob, sampleEvent } from './aether-dry-run.js';
import { aetherAnswer, aetherErrorHandler } from './aether-errors.js';
import { assertJobId, parseJob, sinkInputOf } from './aether-job.js';
import { parseIntegerParam } from '../../http/request-params.js';
import type { ApiMount } from '../../http/unrouted.js';

interface IdParams {
  id: string;
}
interface OffsetParams {
  id: string;
  offset: string;
}

const access = { access: { scope: 'authenticated' as const } };
const hidden = { hide: true };

function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const body = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RivuletError('VALIDATION_FAILED', 'the body must be a JSON object', { details: { pointer: '' } });
  return body as Record<string, unknown>;
}

function queryId(req: FastifyRequest): string {
  const id = (req.query as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '')
    throw new RivuletError('VALIDATION_FAILED', 'the query needs ?id=<job id>', { details: { pointer: '/id' } });
  return assertJobId(id);
}

/**
 * A Kafka offset, as the original's consumers used them: 0 is a topic's first event. Rivulet's
 * seqs start at 1, so offset N is seq N + 1 (both count every event, gap-free).
 */
export function parseOffset(text: string): StartPosition {
  if (text === 'beginning' || text === 'earliest') return { from: 'beginning' };
  if (text === 'end' || text === 'latest') return { from: 'end' };
  if (!/^-?[0-9]+$/.test(text))
    throw new RivuletError(
      'VALIDATION_FAILED',
      'offset must be a Kafka offset (0 = the first event, 1, 2, …), "beginning" or "end"',
      { details: { in: 'params', pointer: '/offset' } },
    );
  return {
    from: 'seq',
    seq: parseIntegerParam(text, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER - 1, in: 'params' }) + 1,
  };
}

export const aetherMount: ApiMount = {
  name: 'aether',
  claims: (path) => path.startsWith('/job/') || path === '/jobs' || path.startsWith('/jobs/'),
  errorHandler: aetherErrorHandler,
};

export function aetherDialect(services: AetherServices, options: AetherOptions = {}) {
  const jobs = new AetherJobs(services, options);

  return async function aether(app: FastifyInstance): Promise<void> {
    app.setErrorHandler(aetherErrorHandler);

    // ---- the seed's API -------------------------------------------------------------

    app.get<{ Params: { owner: string } }>('/jobs/:owner', { config: access, schema: hidden }, async (req) =>
      jobs.list(req.params.owner, req.principal!),
    );

    app.get<{ Params: IdParams }>('/job/:id', { config: access, schema: hidden }, async (req) =>
      jobs.get(req.params.id, req.principal!),
    );

    app.post<{ Params: IdParams }>('/job/:id', { config: access, schema: hidden }, async (req, reply) => {
      const outcome = await jobs.upsert(req.body, req.principal!, { pathId: req.params.id });
      return reply.code(outcome.created ? 201 : 200).send(outcome.job);
    });

    app.delete<{ Params: IdParams }>('/job/:id', { config: access, schema: hidden }, async (req, reply) => {
      await jobs.delete(req.params.id, req.principal!);
      return reply.code(204).send();
    });

    for (const method of ['GET', 'POST'] as const) {
      app.route<{ Params: IdParams }>({
        method,
        url: '/job/:id/start',
        config: access,
        schema: hidden,
        handler: async (req) => jobs.start(req.params.id, req.principal!),
      });
      app.route<{ Params: IdParams }>({
        method,
        url: '/job/:id/stop',
        config: access,
        schema: hidden,
        handler: async (req) => jobs.stop(req.params.id, req.principal!),
      });
      app.route<{ Params: OffsetParams; Querystring: { topic?: string } }>({
        method,
        url: '/job/:id/set_offset/:offset',
        config: access,
        schema: hidden,
        handler: async (req) =>
          jobs.setOffset(req.params.id, req.principal!, parseOffset(req.params.offset), req.query.topic),
      });
    }

    // ---- the mapping dry-run --------------------------------------------------------

    app.post<{ Params: IdParams }>('/job/:id/dry-run', { config: access, schema: hidden }, async (req) => {
      const body = bodyObject(req);
      const job = await jobs.stored(req.params.id, req.principal!);
      const { event, schema } = sampleEvent(body);
      return dryRunJob(job, event, schema);
    });

    app.post('/jobs/dry-run', { config: access, schema: hidden }, async (req) => {
      const body = bodyObject(req);
      const { event, schema } = sampleEvent(body);
      if (body['job'] !== undefined) {
        const given = body['job'];
        if (typeof given !== 'object' || given === null || Array.isArray(given))
          throw new RivuletError('VALIDATION_FAILED', 'job must be an object', { details: { pointer: '/job' } });
        // a job tried out needs no id, owner or topic yet
        const job = parseJob({ id: 'dry-run', topic: ['sample'], ...given }, undefined, req.principal!.owner);
        return dryRunJob(job, event, schema);
      }
      if (body['datamap'] !== undefined) return dryRunDataMap(body['datamap'], body['constant'], event, schema);
      throw new RivuletError('VALIDATION_FAILED', 'give "job" (a job) or "datamap" (a datamap) to try on the sample', {
        details: { pointer: '/job' },
      });
    });

    // ---- the original implementation's routes ---------------------------------------

    // add and update both upsert and answer `true`, as the original did
    for (const url of ['/jobs/add', '/jobs/update']) {
      app.post(url, { config: access, schema: hidden }, async (req) => {
        await jobs.upsert(req.body, req.principal!);
        return true;
      });
    }

    app.get('/jobs/get', { config: access, schema: hidden }, async (req) => jobs.get(queryId(req), req.principal!));

    app.get('/jobs/list', { config: access, schema: hidden }, async (req) => jobs.ids(req.principal!));

    // the original served delete on GET; POST and DELETE are taken too
    app.route({
      method: ['GET', 'POST', 'DELETE'],
      url: '/jobs/delete',
      config: access,
      schema: hidden,
      handler: async (req) => {
        await jobs.delete(queryId(req), req.principal!);
        return true;
      },
    });

    app.post('/jobs/validate', { config: access, schema: hidden }, async (req) => {
      try {
        const job = parseJob(req.body, undefined, req.principal!.owner);
        await services.sinks.checks.target(
          'http',
          sinkInputOf(job, { id: job.id, modified: '', hash: '', rate_limit: null }).target,
        );
        return { valid: true };
      } catch (err) {
        if (!isRivuletError(err) || aetherAnswer(err).status >= 500) throw err;
        return { valid: false, ...aetherAnswer(err).body };
      }
    });
  };
}
