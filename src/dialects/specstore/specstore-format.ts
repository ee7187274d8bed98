/**
 * The specstore dialect's shapes (seed 003): a revision as `GET /source/...` answers it, and
 * the messages its upload and update answers carry. Pure functions from core values.
 */
import type { RivuletError } from '../../kernel/errors.js';
import type { JsonObject } from '../../kernel/envelope.js';
import { stateOf, type RevisionDoc, type RevisionState } from '../../core/specs/revision-model.js';

export const MESSAGES = {
  empty: 'Received empty contents (make sure your content-type is correct)',
  missingOwner: 'Missing owner in spec',
  notAuthorised: 'No token or token not authorised for owner',
  invalid: 'Validation failed for contents',
  pipelineNotFound: 'pipeline not found',
  planLimit: (limit: number) => `Max datasets for user exceeded plan limit (${limit})`,
} as const;

export function revisionAnswer(doc: RevisionDoc): JsonObject {
  const pipelines: JsonObject = {};
  for (const p of doc.pipelines)
    pipelines[p.id] = { title: p.title, status: p.status, stats: p.stats, error_log: p.errors };
  return {
    id: doc.id,
    spec_contents: doc.spec,
    modified: doc.updatedAt,
    state: stateOf(doc),
    logs: doc.logs,
    error_log: doc.errors.length > 0 ? doc.errors : doc.pipelines.flatMap((p) => p.errors),
    stats: {
      bytes: doc.stats?.bytes ?? 0,
      count_of_rows: doc.stats?.countOfRows ?? 0,
      dataset_name: doc.dataset,
      hash: doc.hash,
    },
    pipelines,
  };
}

/** The upload answer's `errors` for a refusal: the seed's own sentences where it has one. */
export function uploadErrors(err: RivuletError): string[] {
  switch (err.code) {
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
      return [MESSAGES.notAuthorised];
    case 'AMBIGUOUS_CREDENTIALS':
      return [err.message];
    case 'PLAN_LIMIT':
      return [MESSAGES.planLimit(Number(err.details?.limit ?? 0))];
    case 'UNSUPPORTED_MEDIA_TYPE':
      return [MESSAGES.empty];
    case 'INVALID_JSON':
      return /empty/.test(err.message) ? [MESSAGES.empty] : [MESSAGES.invalid, err.message];
    case 'SPEC_INVALID':
      if (err.details?.missing === 'owner') return [MESSAGES.missingOwner];
      // schedule problems were reported as they are, without the generic sentence
      if (err.details?.pointer === '/meta/schedule') return [String(err.details.problem)];
      return [MESSAGES.invalid, err.message];
    case 'INTERNAL':
      return ['Unexpected error: an unexpected error occurred; it has been logged'];
    case 'STORAGE_FULL':
    case 'STORE_UNAVAILABLE':
    case 'OVERLOADED':
    case 'SHUTTING_DOWN':
      return [`Unexpected error: ${err.message}`];
    default:
      return [MESSAGES.invalid, err.message];
  }
}

/** `success` of an update answer: how the revision stands after the report */
export function updateSuccess(state: RevisionState): 'success' | 'pending' | 'fail' {
  return state === 'SUCCEEDED' ? 'success' : state === 'FAILED' ? 'fail' : 'pending';
}

export function updateErrors(err: RivuletError): string[] {
  if (err.code === 'SPEC_NOT_FOUND') return [MESSAGES.pipelineNotFound];
  if (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN') return [MESSAGES.notAuthorised];
  if (err.code === 'INTERNAL') return ['Unexpected error: an unexpected error occurred; it has been logged'];
  return [err.message];
}
