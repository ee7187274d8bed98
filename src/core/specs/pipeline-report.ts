/** Reads an external runner's report `{pipeline, event, success?, errors?, log?, stats?}`. */
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject } from '../../kernel/envelope.js';
import { REPORT_EVENTS, type PipelineReport } from './spec-service.js';
import { isPlainObject } from './spec-invalid.js';

const bad = (message: string, pointer: string) =>
  new RivuletError('VALIDATION_FAILED', message, { details: { pointer } });

function strings(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string') || value.length > 1000)
    throw bad(`"${field}" is a list of at most 1000 strings`, `/${field}`);
  return value as string[];
}

export function parsePipelineReport(body: unknown): PipelineReport {
  if (!isPlainObject(body)) throw bad('the report is an object: {pipeline, event, success, errors}', '');
  if (typeof body.pipeline !== 'string' || body.pipeline.length === 0 || body.pipeline.length > 1000)
    throw bad('"pipeline" is the id of a pipeline', '/pipeline');
  if (typeof body.event !== 'string' || !(REPORT_EVENTS as readonly string[]).includes(body.event))
    throw bad(`"event" is one of ${REPORT_EVENTS.join(', ')}`, '/event');
  if (body.success !== undefined && body.success !== null && typeof body.success !== 'boolean')
    throw bad('"success" is true or false', '/success');
  if (body.event === 'finish' && typeof body.success !== 'boolean')
    throw bad('a "finish" event says whether it succeeded: "success": true or false', '/success');
  if (body.stats !== undefined && body.stats !== null && !isPlainObject(body.stats))
    throw bad('"stats" is an object', '/stats');
  return {
    pipeline: body.pipeline,
    event: body.event as PipelineReport['event'],
    ...(typeof body.success === 'boolean' && { success: body.success }),
    ...(strings(body.errors, 'errors') && { errors: strings(body.errors, 'errors') }),
    ...(strings(body.log, 'log') && { log: strings(body.log, 'log') }),
    ...(isPlainObject(body.stats) && { stats: body.stats as JsonObject }),
  };
}
