/**
 * The mapping dry-run: a job (or only a datamap) and a sample event in, the request the job
 * would send out (method, URL, headers with secrets redacted, body), nothing sent. It runs the
 * same planner the http target delivers with (src/mapping/job-request.ts).
 */
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject, JsonValue, StoredEvent } from '../../kernel/envelope.js';
import { compileDataMap } from '../../mapping/datamap.js';
import { mappingDocument, planJobRequest } from '../../mapping/job-request.js';
import type { AetherJob } from './aether-job.js';
import { REDACTED } from '../../kernel/secret-names.js';
import { requestFieldsOf } from './aether-job.js';
import { redactedUrl } from '../../kernel/secret-urls.js';
import { redactHeaders } from './aether-view.js';

export interface DryRunAnswer {
  request?: { method: string; url: string; headers: Record<string, string>; body: string | null };
  /** the datamap's output: keys that matched nothing are absent */
  mapped: Record<string, unknown> | null;
  notes: string[];
}

const invalid = (message: string, pointer: string) =>
  new RivuletError('VALIDATION_FAILED', message, { details: { pointer } });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The sample event: `event` (an envelope with `data`, the rest optional) or `msg` (the data
 * alone); `schema` names the schema `$.schema.name` sees (default: the event's type).
 */
export function sampleEvent(body: Record<string, unknown>): { event: StoredEvent; schema: string | undefined } {
  const schema = body['schema'];
  if (schema !== undefined && typeof schema !== 'string') throw invalid('schema must be a schema name', '/schema');
  if ((body['event'] === undefined) === (body['msg'] === undefined))
    throw invalid(
      'give the sample as "event" (an envelope with "data") or as "msg" (the data alone), not both',
      '/event',
    );
  const given = body['event'] ?? { data: body['msg'] };
  if (!isObject(given) || !Object.hasOwn(given, 'data'))
    throw invalid('event must be an object with "data" (the event\'s payload)', '/event/data');
  const text = (field: string, fallback: string): string => {
    const value = given[field];
    if (value === undefined) return fallback;
    if (typeof value !== 'string') throw invalid(`event.${field} must be a string`, `/event/${field}`);
    return value;
  };
  const seq = given['seq'] ?? 1;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1)
    throw invalid('event.seq must be a positive integer', '/event/seq');
  if (given['meta'] !== undefined && !isObject(given['meta']))
    throw invalid('event.meta must be an object', '/event/meta');
  const now = new Date().toISOString();
  return {
    event: {
      id: text('id', '00000000-0000-7000-8000-000000000000'),
      stream: text('stream', 'sample'),
      seq: seq as number,
      typeSeq: seq as number,
      type: text('type', 'sample'),
      source: text('source', 'sample'),
      time: text('time', now),
      received: now,
      producer: null,
      data: given['data'] as JsonValue,
      meta: (given['meta'] as JsonObject | undefined) ?? {},
      schemaVersion: null,
    },
    schema: schema as string | undefined,
  };
}

/** The request `job` gives for the sample; secrets shown as "[redacted]". */
export function dryRunJob(job: AetherJob, event: StoredEvent, schema: string | undefined): DryRunAnswer {
  const plan = planJobRequest({ type: job.type, url: job.url, ...requestFieldsOf(job) }, event, schema);
  const headers = redactHeaders(plan.headers);
  if (headers['authorization'] !== undefined) headers['authorization'] = REDACTED;
  return {
    request: { method: plan.method, url: redactedUrl(plan.url), headers, body: plan.body ?? null },
    mapped: plan.mapped,
    notes: [
      ...plan.notes,
      ...(job.rate_limit === undefined ? [] : [`rate_limit: the job waits ${job.rate_limit} s between requests`]),
    ],
  };
}

/** Only a datamap: the mapped values, no request. */
export function dryRunDataMap(
  datamap: unknown,
  constant: unknown,
  event: StoredEvent,
  schema: string | undefined,
): DryRunAnswer {
  if (constant !== undefined && !isObject(constant)) throw invalid('constant must be an object', '/constant');
  const mapped = compileDataMap(datamap as Record<string, string>).apply(
    mappingDocument(event, schema, (constant ?? {}) as JsonObject),
  );
  const keys = Object.keys(datamap as object);
  return {
    mapped,
    notes: keys
      .filter((k) => !Object.hasOwn(mapped, k))
      .map((k) => `datamap key "${k}" matched nothing, so it is left out`),
  };
}
