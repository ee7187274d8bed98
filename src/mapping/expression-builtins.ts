/**
 * JSONata built-ins whose cost is not linear in their input, replaced by versions that are.
 * Registered on every compiled expression by expression.ts.
 */
import jsonata from 'jsonata';
import { RivuletError } from '../kernel/errors.js';
import { compileLinearRegex, type LinearRegex } from './linear-regex.js';

/** Longest timestamp `$toMillis` parses with a picture: dates are short, and the match is one uninterrupted call. */
export const MAX_PICTURE_TIMESTAMP = 1000;
/** Largest program a picture may compile to (a word component alone is ~2,700 instructions). */
const MAX_PICTURE_PROGRAM = 50_000;
/** Most program-size × timestamp-length steps of one picture match (about a hundred milliseconds). */
const MAX_PICTURE_WORK = 2_000_000;

/**
 * JSONata's `$distinct` in linear time: items are told apart by a canonical JSON text (keys
 * sorted, as JSONata's deep equality ignores key order), the first of equal items is kept.
 */
export function linearDistinct(arr: unknown): unknown {
  if (!Array.isArray(arr) || arr.length <= 1) return arr;
  const seen = new Set<string>();
  const kept: unknown[] = [];
  for (const [i, item] of arr.entries()) {
    const key = isJsonataFunction(item) ? `function:${i}` : canonicalKey(item);
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(item);
  }
  // a JSONata sequence (a path's result) stays a sequence, so one item still collapses to itself
  if ((arr as { sequence?: boolean }).sequence === true)
    Object.defineProperty(kept, 'sequence', { value: true, enumerable: false, writable: true });
  return kept;
}

function canonicalKey(value: unknown): string {
  if (value === undefined) return 'u';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return `${typeof value}:${String(value)}`;
  if (Array.isArray(value)) return `[${value.map(canonicalKey).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalKey((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** JSONata represents lambdas and built-in functions as objects with marker properties. */
export function isJsonataFunction(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  const marked = value as { _jsonata_lambda?: unknown; _jsonata_function?: unknown };
  return marked._jsonata_lambda === true || marked._jsonata_function === true;
}

type ToMillis = (this: unknown, timestamp: string | undefined, picture?: string) => number | undefined;
let originalToMillis: Promise<ToMillis> | undefined;

/** JSONata's own `$toMillis`, taken from a JSONata environment the first time it is needed. */
function jsonataToMillis(): Promise<ToMillis> {
  originalToMillis ??= (jsonata('$toMillis').evaluate({}) as Promise<{ implementation: ToMillis }>).then(
    (fn) => fn.implementation,
  );
  return originalToMillis;
}

/**
 * `$toMillis(timestamp, picture)`: JSONata turns the picture into a regular expression
 * (`[Yw][Mw][Dw]` becomes three adjacent repeated word alternations) and runs it on the
 * timestamp with `new RegExp`, which backtracks polynomially on a hostile timestamp. The
 * library offers no way to pass an engine in, so for the one synchronous call the global
 * `RegExp` it looks up is an RE2-backed one; nothing else can run before it is put back.
 * Without a picture the fixed ISO 8601 parse runs untouched.
 */
export async function linearToMillis(
  this: unknown,
  timestamp: string | undefined,
  picture?: string,
): Promise<number | undefined> {
  const toMillis = await jsonataToMillis();
  // JSONata calls built-ins with its focus (environment, input) as `this`
  if (picture === undefined) return toMillis.call(this, timestamp);
  if (typeof timestamp === 'string' && timestamp.length > MAX_PICTURE_TIMESTAMP) {
    throw new RivuletError(
      'INVALID_EXPRESSION',
      `$toMillis was given a timestamp of ${timestamp.length} characters to parse with a picture; the limit is ${MAX_PICTURE_TIMESTAMP}`,
      {
        details: { limit: 'maxRegexInput', value: MAX_PICTURE_TIMESTAMP },
      },
    );
  }
  const saved = globalThis.RegExp;
  globalThis.RegExp = PictureRegExp as unknown as RegExpConstructor;
  try {
    return toMillis.call(this, timestamp, picture);
  } finally {
    globalThis.RegExp = saved;
  }
}

function pictureLimit(message: string): RivuletError {
  return new RivuletError('INVALID_EXPRESSION', message, {
    details: { limit: 'maxRegexInput', value: MAX_PICTURE_WORK },
  });
}

/** The part of RegExp JSONata's picture parser uses: `new RegExp(source, 'i').exec(timestamp)`. */
class PictureRegExp {
  private readonly re: LinearRegex;

  constructor(source: string, flags = '') {
    try {
      this.re = compileLinearRegex(source, { ignoreCase: flags.includes('i'), maxSize: MAX_PICTURE_PROGRAM });
    } catch {
      throw pictureLimit(`$toMillis picture is too large to match in bounded time`);
    }
  }

  exec(subject: string): RegExpExecArray | null {
    if (this.re.size * subject.length > MAX_PICTURE_WORK) {
      throw pictureLimit(
        `$toMillis picture of ${this.re.size} instructions against a timestamp of ${subject.length} characters exceeds ${MAX_PICTURE_WORK} steps`,
      );
    }
    const found = this.re.exec(subject, 0);
    return found === null
      ? null
      : (Object.assign(found.captures, { index: found.index, input: subject }) as unknown as RegExpExecArray);
  }
}
