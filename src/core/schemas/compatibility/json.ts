/**
 * JSON values as the checker sees them: type sets as bit masks, equality, numbers as Ajv
 * computes them, regular expressions as Ajv compiles them, and the work budget of one analysis.
 */

import { tryLinearRegex, type LinearRegex } from '../../../mapping/linear-regex.js';

export type JsonSchema = boolean | Record<string, unknown>;

// Type atoms as bits; "number" is integer | fraction, so integer ⊂ number falls out of set logic.
export const NULL = 1;
export const BOOLEAN = 2;
export const OBJECT = 4;
export const ARRAY = 8;
export const STRING = 16;
const INTEGER = 32;
export const FRACTION = 64;
export const NUMBER = INTEGER | FRACTION;
export const ALL_TYPES = NULL | BOOLEAN | OBJECT | ARRAY | STRING | NUMBER;
export const TYPE_GROUPS = [NULL, BOOLEAN, OBJECT, ARRAY, STRING, NUMBER] as const;

const TYPE_BITS: Readonly<Record<string, number>> = {
  null: NULL,
  boolean: BOOLEAN,
  object: OBJECT,
  array: ARRAY,
  string: STRING,
  integer: INTEGER,
  number: NUMBER,
};

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function typeOfValue(value: unknown): number {
  if (value === null) return NULL;
  switch (typeof value) {
    case 'boolean':
      return BOOLEAN;
    case 'string':
      return STRING;
    case 'number':
      return Number.isInteger(value) ? INTEGER : Number.isFinite(value) ? FRACTION : 0;
    case 'object':
      return Array.isArray(value) ? ARRAY : OBJECT;
    default:
      return 0;
  }
}

export function parseTypes(declared: unknown): number | undefined {
  const names = typeof declared === 'string' ? [declared] : Array.isArray(declared) ? declared : undefined;
  if (!names) return undefined;
  let mask = 0;
  for (const name of names) {
    const bit = typeof name === 'string' && Object.hasOwn(TYPE_BITS, name) ? TYPE_BITS[name] : undefined;
    if (bit === undefined) return undefined;
    mask |= bit;
  }
  return mask;
}

/** Names and nouns for a set of types, e.g. ["null"] / ["null"], ["integer"] / ["an integer"]. */
export function typeWords(mask: number): { names: string[]; nouns: string[] } {
  const names: string[] = [];
  const nouns: string[] = [];
  const add = (name: string, noun: string): void => {
    names.push(name);
    nouns.push(noun);
  };
  if (mask & NULL) add('null', 'null');
  if (mask & BOOLEAN) add('boolean', 'a boolean');
  if (mask & OBJECT) add('object', 'an object');
  if (mask & ARRAY) add('array', 'an array');
  if (mask & STRING) add('string', 'a string');
  if ((mask & NUMBER) === NUMBER) add('number', 'a number');
  else if (mask & INTEGER) add('integer', 'an integer');
  else if (mask & FRACTION) add('non-integer number', 'a non-integer number');
  return { names, nouns };
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ra = asRecord(a);
  const rb = asRecord(b);
  if (!ra || !rb) return false;
  const keys = Object.keys(ra);
  return keys.length === Object.keys(rb).length && keys.every((k) => Object.hasOwn(rb, k) && jsonEqual(ra[k], rb[k]));
}

export function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/**
 * `multipleOf` as Ajv checks it: in floating point, `x / m` must print as an integer. This is
 * not the arithmetic of exact decimals: it refuses 0.35 under 0.001 though it accepts it under
 * 0.01, lets tiny subnormal numbers pass any divisor above 1, and refuses every value whose
 * quotient reaches 1e21 (which prints in exponent form).
 */
export function passesMultipleOf(value: number, divisor: number): boolean {
  const quotient = value / divisor;
  return quotient === Number.parseInt(String(quotient), 10);
}

/**
 * Work allowed for one analysis. Every costly step (a comparison, an evaluation, an expansion,
 * a disjointness test) spends from it; once it is spent each of them gives its conservative
 * answer at once, so a hostile schema cannot hold the server. Analyses are synchronous, so
 * one budget at a time is enough.
 */
const WORK_LIMIT = 25_000;
let work = { remaining: Number.POSITIVE_INFINITY };

export function spend(): boolean {
  return --work.remaining >= 0;
}

export function withWorkBudget<T>(run: () => T): T {
  const outer = work;
  work = { remaining: WORK_LIMIT };
  try {
    return run();
  } finally {
    work = outer;
  }
}

/** Compiles a JSON Schema pattern the way Ajv runs it here (RE2, linear time); undefined when it cannot. */
export function compilePattern(source: string): LinearRegex | undefined {
  return tryLinearRegex(source);
}

/** Patterns that every string matches (an unanchored search always finds them). */
export const UNIVERSAL_PATTERNS = new Set(['', '.*', '^.*', '[\\s\\S]*', '^[\\s\\S]*$']);
