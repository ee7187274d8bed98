/**
 * The one parser of numbers that arrive in a URL: query parameters, path parameters and the
 * few headers that carry a position. Every API (native and dialects) reads them through here,
 * so `1e309`, `-1`, `1.5`, `0x10`, ` 5`, `007` or a 40-digit number is refused the same way
 * everywhere: a VALIDATION_FAILED naming the parameter, which each API renders in its own
 * error format. The value itself is never echoed back.
 *
 * Routes that declare a TypeBox querystring or params schema need no call of their own:
 * `parseSchemaNumbers` (a preValidation hook) runs every integer and number field of those
 * schemas through this parser before Ajv sees them, because Ajv's type coercion turns
 * `"1e309"` into `Infinity` and then skips `minimum`/`maximum` for non-finite numbers.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { RivuletError } from '../kernel/errors.js';

export type ParamPlace = 'querystring' | 'params' | 'header';

export interface IntegerBounds {
  /** smallest value allowed; 0 when absent (no URL number of this API is negative) */
  min?: number;
  /** largest value allowed; Number.MAX_SAFE_INTEGER when absent */
  max?: number;
  /** where the parameter is, for the error's details; querystring when absent */
  in?: ParamPlace;
}

// canonical decimal text only (no sign but '-', no leading zeros), at most 16 digits: anything
// longer is beyond a safe integer anyway, and never parsed
const INTEGER_TEXT = /^-?(0|[1-9][0-9]{0,15})$/;
const DECIMAL_TEXT = /^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,16})?$/;

export function paramError(name: string, place: ParamPlace, message: string): RivuletError {
  const details = place === 'header' ? { header: name.toLowerCase() } : { in: place, pointer: `/${name}` };
  return new RivuletError('VALIDATION_FAILED', message, { details });
}

function rangeText(min: number, max: number): string {
  return max >= Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
}

/** one value of a parameter given once; a repeated parameter is refused */
function single(raw: unknown, name: string, place: ParamPlace): unknown {
  if (!Array.isArray(raw)) return raw;
  if (raw.length === 1) return raw[0];
  throw paramError(name, place, `${name} must be given once`);
}

/** A whole number within bounds, from the text of a URL (or a number Ajv already made of it). */
export function parseIntegerParam(raw: unknown, name: string, bounds: IntegerBounds = {}): number {
  const place = bounds.in ?? 'querystring';
  const min = bounds.min ?? 0;
  const max = Math.min(bounds.max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const value = single(raw, name, place);
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && INTEGER_TEXT.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw paramError(name, place, `${name} must be a whole number ${rangeText(min, max)}`);
  }
  return n;
}

/** The same, for a parameter that may be absent. */
export function optionalIntegerParam(raw: unknown, name: string, bounds: IntegerBounds = {}): number | undefined {
  return raw === undefined ? undefined : parseIntegerParam(raw, name, bounds);
}

/** A finite decimal number within bounds (no exponent, no hex, no Infinity or NaN). */
export function parseNumberParam(raw: unknown, name: string, bounds: IntegerBounds = {}): number {
  const place = bounds.in ?? 'querystring';
  const min = bounds.min ?? 0;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  const value = single(raw, name, place);
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && DECIMAL_TEXT.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max) {
    throw paramError(name, place, `${name} must be a number ${rangeText(min, max)}`);
  }
  return n;
}

interface NumericSchema {
  type?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  exclusiveMinimum?: unknown;
  exclusiveMaximum?: unknown;
}

function boundsOf(schema: NumericSchema, place: ParamPlace): IntegerBounds {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const exMin = num(schema.exclusiveMinimum);
  const exMax = num(schema.exclusiveMaximum);
  return {
    in: place,
    min: num(schema.minimum) ?? (exMin === undefined ? undefined : exMin + 1),
    max: num(schema.maximum) ?? (exMax === undefined ? undefined : exMax - 1),
  };
}

/** every integer and number field of a route's querystring or params schema, parsed in place */
function parseFields(values: unknown, schema: unknown, place: ParamPlace): void {
  const properties = (schema as { properties?: Record<string, NumericSchema> } | undefined)?.properties;
  if (!properties || typeof values !== 'object' || values === null) return;
  const record = values as Record<string, unknown>;
  for (const [name, field] of Object.entries(properties)) {
    const raw = record[name];
    if (raw === undefined) continue;
    if (field.type === 'integer') record[name] = parseIntegerParam(raw, name, boundsOf(field, place));
    else if (field.type === 'number') record[name] = parseNumberParam(raw, name, boundsOf(field, place));
  }
}

/** preValidation hook: the route's declared numeric query and path parameters pass through the parser first */
export function parseSchemaNumbers(req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const schema = req.routeOptions.schema;
  if (!schema || (!schema.querystring && !schema.params)) return done();
  try {
    parseFields(req.query, schema.querystring, 'querystring');
    parseFields(req.params, schema.params, 'params');
  } catch (err) {
    return done(err as Error);
  }
  done();
}
