/**
 * The specstore dialect (seed 003), mounted at `/source`:
 *   POST /source/upload                          a spec → its next revision, queued (`Auth-Token`)
 *   POST /source/update                          an external runner's pipeline event
 *   GET  /source/:owner/:dataset/:N|latest|successful   a revision
 * Upload and update answer 200 with `success` and `errors`, as the seed does, except that a
 * request without a valid key gets 401 (with the same body); a GET that finds nothing answers 404. Keys authenticate as `Auth-Token` (or any Rivulet form);
 * a key acts for its own owner, an admin key for any.
 */
import type { FastifyInstance } from 'fastify';
import { RivuletError } from '../../kernel/errors.js';
import type { CoreServices } from '../../core/services.js';
import { parsePipelineReport } from '../../core/specs/pipeline-report.js';
import { stateOf } from '../../core/specs/revision-model.js';
import { assertOwner } from '../../core/specs/spec-service.js';
import { toRivuletError } from '../../http/error-translation.js';
import {
  UNEXPECTED_MESSAGE,
  answerError,
  errorHandlerFor,
  nativeStatus,
  type ErrorFormat,
} from '../../http/dialect-errors.js';
import type { ApiMount } from '../../http/unrouted.js';
import { MESSAGES, revisionAnswer, updateErrors, updateSuccess, uploadErrors } from './specstore-format.js';

const JSON_UTF8 = 'application/json; charset=utf-8';

interface RevisionParams {
  owner: string;
  dataset: string;
  revision: string;
}

/** upload and update answer refusals with 200 and a list of errors, as the seed did; a server that cannot serve (a full disk) says so with its 5xx */
function answerStatus(err: RivuletError): number {
  const status = nativeStatus(err);
  return status >= 500 ? status : 200;
}

/**
 * Upload and update refuse in their own shape (errors raised before the handler ran, auth and
 * body parsing, too): a request without a valid key gets 401 (every Rivulet route does), one
 * with two keys 400. The revision reads answer `{"errors": [message]}` with native statuses.
 */
const specstoreErrors: ErrorFormat = {
  answer(err, req) {
    const url = req.routeOptions.url ?? '';
    const status =
      err.code === 'UNAUTHENTICATED' ? 401 : err.code === 'AMBIGUOUS_CREDENTIALS' ? 400 : answerStatus(err);
    if (url.endsWith('/upload'))
      return {
        status,
        type: JSON_UTF8,
        body: { success: false, dataset_id: null, flow_id: null, errors: uploadErrors(err) },
      };
    if (url.endsWith('/update'))
      return { status, type: JSON_UTF8, body: { success: 'fail', id: null, errors: updateErrors(err) } };
    const native = nativeStatus(err);
    const message =
      err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN'
        ? MESSAGES.notAuthorised
        : native >= 500
          ? UNEXPECTED_MESSAGE
          : err.message;
    return { status: native, type: JSON_UTF8, body: { errors: [message] } };
  },
  challenge: 'Bearer realm="rivulet"',
};

const specstoreErrorHandler = errorHandlerFor(specstoreErrors);

export const specstoreMount: ApiMount = {
  name: 'specstore',
  claims: (path) => path === '/source' || path.startsWith('/source/'),
  errorHandler: specstoreErrorHandler,
};

export function specstoreDialect(services: Pick<CoreServices, 'specs'>) {
  const { specs } = services;
  return async function specstore(app: FastifyInstance): Promise<void> {
    app.setErrorHandler(specstoreErrorHandler);

    app.post(
      '/upload',
      { config: { access: { scope: 'authenticated' } }, schema: { hide: true } },
      async (req, reply) => {
        const body = req.body;
        if (body === undefined || body === null || body === '') {
          return reply
            .code(200)
            .type(JSON_UTF8)
            .send({ success: false, dataset_id: null, flow_id: null, errors: [MESSAGES.empty] });
        }
        try {
          const revision = await specs.upload(body, req.principal!, { prune: false });
          return reply
            .code(200)
            .type(JSON_UTF8)
            .send({
              success: true,
              dataset_id: `${revision.owner}/${revision.dataset}`,
              flow_id: revision.id,
              errors: [],
            });
        } catch (error) {
          answerError(specstoreErrors, toRivuletError(error), req, reply);
          return reply;
        }
      },
    );

    app.post(
      '/update',
      { config: { access: { scope: 'authenticated' } }, schema: { hide: true } },
      async (req, reply) => {
        try {
          const report = parsePipelineReport(req.body);
          const revision = await specs.report(report, req.principal!);
          return reply
            .code(200)
            .type(JSON_UTF8)
            .send({ success: updateSuccess(stateOf(revision)), id: revision.id, errors: report.errors ?? [] });
        } catch (error) {
          answerError(specstoreErrors, toRivuletError(error), req, reply);
          return reply;
        }
      },
    );

    app.get<{ Params: RevisionParams }>(
      '/:owner/:dataset/:revision',
      { config: { access: { scope: 'authenticated' } }, schema: { hide: true } },
      async (req, reply) => {
        const { owner, dataset, revision } = req.params;
        const which =
          revision === 'latest' || revision === 'successful'
            ? revision
            : /^[1-9][0-9]{0,9}$/.test(revision)
              ? Number(revision)
              : null;
        if (which === null)
          throw new RivuletError(
            'SPEC_NOT_FOUND',
            `"${revision}" is not a revision: use a number, latest or successful`,
          );
        assertOwner(req.principal!, owner);
        const doc = await specs.get(owner, dataset, which);
        return reply
          .code(200)
          .type(JSON_UTF8)
          .send(revisionAnswer(specs.shown(doc)));
      },
    );
  };
}
