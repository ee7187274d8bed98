/**
 * Transforms: a JSONata expression that builds a new JSON value from its input (usually an
 * event envelope). Without an expression the transform is the identity.
 *
 * The result must be JSON, because it is sent or stored: `undefined` (the expression selected
 * nothing) becomes null at the top and is left out inside objects, as JSON.stringify does;
 * functions, non-finite numbers and over-deep values are refused with INVALID_EXPRESSION.
 * See docs/expressions.md.
 */

import { RivuletError } from '../kernel/errors.js';
import type { JsonObject, JsonValue } from '../kernel/envelope.js';
import { compileExpression, isJsonataFunction, type ExpressionOptions } from './expression.js';

export interface CompiledTransform {
  /** the expression, or undefined for the identity */
  readonly source: string | undefined;
  apply(input: unknown): Promise<JsonValue>;
}

/** deeper results are refused: nothing legitimate needs them, and copying them recurses */
export const MAX_RESULT_DEPTH = 256;

export function compileTransform(source?: string, opts: ExpressionOptions = {}): CompiledTransform {
  const pointer = opts.pointer;
  if (source === undefined) {
    return { source, apply: async (input) => toJsonResult(input, pointer) };
  }
  const expression = compileExpression(source, opts);
  return {
    source,
    async apply(input) {
      return toJsonResult(await expression.evaluate(input), pointer);
    },
  };
}

/** Converts an expression result (or an identity input) into a fresh JSON value. */
export function toJsonResult(value: unknown, pointer?: string): JsonValue {
  return convert(value, '', 0, pointer) ?? null;
}

/** Returns undefined for "nothing here" so the caller can drop the key or write null. */
function convert(value: unknown, path: string, depth: number, pointer: string | undefined): JsonValue | undefined {
  if (depth > MAX_RESULT_DEPTH) throw refused(`is nested deeper than ${MAX_RESULT_DEPTH} levels`, path, pointer);
  if (value === undefined || value === null) return value === null ? null : undefined;
  if (isJsonataFunction(value)) throw refused('is a function, which is not JSON', path, pointer);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw refused(`is ${value}, which is not a JSON number`, path, pointer);
      return value;
    case 'object':
      return Array.isArray(value)
        ? convertArray(value, path, depth, pointer)
        : convertObject(value, path, depth, pointer);
    default:
      throw refused(`is a ${typeof value}, which is not JSON`, path, pointer);
  }
}

function convertArray(items: unknown[], path: string, depth: number, pointer: string | undefined): JsonValue[] {
  // a plain array: JSONata marks its sequences with extra properties, which are dropped here
  return items.map((item, i) => convert(item, `${path}/${i}`, depth + 1, pointer) ?? null);
}

function convertObject(value: object, path: string, depth: number, pointer: string | undefined): JsonObject {
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const converted = convert(item, `${path}/${escapePointer(key)}`, depth + 1, pointer);
    if (converted === undefined) continue;
    // defineProperty keeps a "__proto__" key an ordinary key instead of changing the prototype
    Object.defineProperty(out, key, { value: converted, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function refused(problem: string, path: string, pointer: string | undefined): RivuletError {
  const where = path === '' ? 'the result' : `the result at ${path}`;
  return new RivuletError('INVALID_EXPRESSION', `transform rejected: ${where} ${problem}`, {
    details: pointer === undefined ? { resultPath: path } : { pointer, resultPath: path },
  });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
