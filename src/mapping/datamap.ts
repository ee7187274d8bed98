/**
 * The DataMap of seed 001 (aether REST consumer): named JSONPath expressions that pull
 * values out of an event, e.g. `{"id": "$.msg.id", "schema_name": "$.schema.name"}`.
 *
 * As the original did: a key whose expression matches nothing is left out of the result,
 * one match gives that value, several matches give the list of them. (So a single match that
 * is itself an array stays that array; write `$.msg.tags[*]` when you want the elements.)
 */
import { RivuletError, isRivuletError } from '../kernel/errors.js';
import { compileJsonPath } from './jsonpath.js';
import type { CompiledPath } from './jsonpath.js';

/** What the expressions are evaluated against; see docs/delivery-mapping.md. */
export interface DataMapDocument {
  /** the event's schema: `{name, version}` */
  schema: unknown;
  /** the event's data */
  msg: unknown;
  /** the job's `constant` object */
  constant: unknown;
  [extra: string]: unknown;
}

export interface CompiledDataMap {
  /** the datamap's keys, in the order they were given */
  readonly keys: readonly string[];
  /** mapped values by key; keys that matched nothing are absent */
  apply(doc: DataMapDocument): Record<string, unknown>;
}

/** Compiles every expression up front, so a bad one is reported when the job is saved. */
export function compileDataMap(map: Record<string, string>): CompiledDataMap {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new RivuletError('BAD_REQUEST', 'datamap must be an object of {key: JSONPath expression}', {
      details: { pointer: '/datamap' },
    });
  }
  const entries = Object.entries(map).map(([key, expression]): [string, CompiledPath] => [
    key,
    compileEntry(key, expression),
  ]);
  return Object.freeze({
    keys: Object.freeze(entries.map(([key]) => key)),
    apply: (doc: DataMapDocument) => applyEntries(entries, doc),
  });
}

function compileEntry(key: string, expression: unknown): CompiledPath {
  const pointer = `/datamap/${escapePointer(key)}`;
  if (typeof expression !== 'string') {
    throw new RivuletError('INVALID_EXPRESSION', `datamap key "${key}" must be a JSONPath string`, {
      details: { key, pointer },
    });
  }
  try {
    return compileJsonPath(expression);
  } catch (err) {
    if (!isRivuletError(err)) throw err;
    // a pattern RE2 cannot run keeps its own code; everything else is a bad expression
    const code = err.code === 'UNSUPPORTED_REGEX' ? err.code : 'INVALID_EXPRESSION';
    throw new RivuletError(code, `datamap key "${key}": ${err.message}`, {
      details: { ...err.details, key, pointer },
      cause: err,
    });
  }
}

function applyEntries(entries: ReadonlyArray<[string, CompiledPath]>, doc: DataMapDocument): Record<string, unknown> {
  const mapped: Array<[string, unknown]> = [];
  for (const [key, path] of entries) {
    const matches = path.query(doc);
    if (matches.length === 1) mapped.push([key, matches[0]]);
    else if (matches.length > 1) mapped.push([key, matches]);
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays plain data.
  return Object.fromEntries(mapped);
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
