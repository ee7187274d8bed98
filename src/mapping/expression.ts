/**
 * User expressions: JSONata, compiled once and evaluated under limits.
 *
 * Users never send JavaScript. They write JSONata, which is a pure query and transformation
 * language over JSON: it cannot reach the host, the file system or the network. What it can
 * do is spend time and memory, so every compiled expression runs with:
 * - a source length limit, checked before parsing;
 * - a time budget and an evaluation depth limit, checked each time an expression node is
 *   entered; the evaluation also yields to the event loop every few milliseconds, so no
 *   evaluation holds the process longer than that, whatever it does;
 * - a sequence size limit (ranges like `[1..10000000]` and large intermediate results);
 * - a string length limit on every intermediate result, and on `$pad`'s width;
 * - regular expression literals matched in linear time (RE2, src/mapping/linear-regex.ts):
 *   what RE2 cannot run is refused at compile time, and the strings they are run against
 *   are capped;
 * - built-ins whose cost grows faster than their input replaced (`$distinct`, `$toMillis`
 *   with a picture; see expression-builtins.ts);
 * - `$eval` refused, as it would compile unchecked source at evaluation time.
 * Input is handed over as a JSON copy, so JSONata only ever sees plain data.
 *
 * See docs/expressions.md.
 */

import jsonata from 'jsonata';
import { RivuletError, isRivuletError, type ErrorDetails } from '../kernel/errors.js';
import { compileLinearRegex, type LinearRegex } from './linear-regex.js';
import { isJsonataFunction, linearDistinct, linearToMillis } from './expression-builtins.js';

// Node's global, declared here because the console's type check (which reaches this file through
// the rule views it imports) has no Node types
declare function setImmediate(callback: () => void): unknown;

export { isJsonataFunction };

export interface ExpressionLimits {
  /** longest accepted source, in characters */
  maxLength: number;
  /** running time of one evaluation, in milliseconds (time spent yielding does not count) */
  timeoutMs: number;
  /** deepest nesting of expression evaluation (recursion included) */
  maxDepth: number;
  /** most items in one sequence (range, path result, array built on the way) */
  maxSequence: number;
  /** longest string an evaluation may build */
  maxStringLength: number;
  /** longest string a regular expression may be run against */
  maxRegexInput: number;
}

export const DEFAULT_EXPRESSION_LIMITS: Readonly<ExpressionLimits> = Object.freeze({
  maxLength: 10_000,
  timeoutMs: 100,
  maxDepth: 200,
  maxSequence: 100_000,
  maxStringLength: 1_000_000,
  maxRegexInput: 10_000,
});

export interface ExpressionOptions extends Partial<ExpressionLimits> {
  /** JSON Pointer of the expression in the request that defined it; copied into error details */
  pointer?: string;
}

export interface CompiledExpression {
  readonly source: string;
  /** Evaluates over a JSON copy of `input`; undefined when the expression selects nothing. */
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
}

/** The outcome of a condition: an evaluation error is not a match, and comes back for logging. */
export interface ConditionOutcome {
  matched: boolean;
  error?: RivuletError;
}

export interface CompiledCondition {
  readonly source: string;
  /** true when the expression's result is truthy; false on any evaluation error */
  test(input: unknown): Promise<boolean>;
  /** like `test`, with the evaluation error (if any) for the caller to log or report */
  check(input: unknown): Promise<ConditionOutcome>;
}

type JsonataExpression = ReturnType<typeof jsonata>;

/** The fields JSONata puts on the plain objects it throws. */
interface JsonataFailure {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
}

const ENTRY_HOOK = Symbol.for('jsonata.__evaluate_entry');
/** longest stretch an evaluation runs before it lets the event loop turn */
const SLICE_MS = 4;
/** most RE2 program-size × subject-length steps one regex match may take (tens of milliseconds) */
const MAX_MATCH_WORK = 500_000;
const EXIT_HOOK = Symbol.for('jsonata.__evaluate_exit');

export function compileExpression(source: string, opts: ExpressionOptions = {}): CompiledExpression {
  const limits = resolveLimits(opts);
  const pointer = opts.pointer;
  const expr = parse(source, limits, pointer);
  harden(expr, limits);
  return {
    source,
    async evaluate(input, bindings) {
      const data = plainInput(input, pointer);
      try {
        return await expr.evaluate(data, bindings);
      } catch (err) {
        throw withPointer(evaluationError(err, limits), pointer);
      }
    },
  };
}

export function compileCondition(source: string, opts: ExpressionOptions = {}): CompiledCondition {
  const expression = compileExpression(source, opts);
  const check = async (input: unknown): Promise<ConditionOutcome> => {
    try {
      return { matched: isTruthy(await expression.evaluate(input)) };
    } catch (err) {
      // evaluate() only throws RivuletErrors; the fallback keeps the type honest
      return { matched: false, error: isRivuletError(err) ? err : new RivuletError('INVALID_EXPRESSION', String(err)) };
    }
  };
  return { source, check, test: async (input) => (await check(input)).matched };
}

/** JSONata's effective boolean value (the `$boolean` function), with "nothing" as false. */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.some(isTruthy);
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'string':
      return value.length > 0;
    case 'number':
      return value !== 0 && !Number.isNaN(value);
    case 'object':
      return !isJsonataFunction(value) && Object.keys(value).length > 0;
    default:
      return false;
  }
}

/** Returns `err` with `pointer` added to its details (a new error, as errors are immutable). */
export function withPointer(err: RivuletError, pointer: string | undefined): RivuletError {
  if (pointer === undefined || err.details?.pointer !== undefined) return err;
  return new RivuletError(err.code, err.message, { details: { ...err.details, pointer }, cause: err.cause });
}

function resolveLimits(opts: ExpressionOptions): ExpressionLimits {
  const limits = { ...DEFAULT_EXPRESSION_LIMITS };
  for (const key of Object.keys(limits) as (keyof ExpressionLimits)[]) {
    const value = opts[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value <= 0) {
      throw new RivuletError('BAD_REQUEST', `expression limit ${key} must be a positive integer`, {
        details: { limit: key },
      });
    }
    limits[key] = value;
  }
  return limits;
}

// ---------------------------------------------------------------------------------------------
// compile time

function parse(source: string, limits: ExpressionLimits, pointer: string | undefined): JsonataExpression {
  const fail = (message: string, details: ErrorDetails = {}) =>
    new RivuletError('INVALID_EXPRESSION', message, {
      details: pointer === undefined ? details : { ...details, pointer },
    });
  if (typeof source !== 'string') throw fail('expression must be a string');
  if (source.trim() === '') throw fail('expression is empty');
  if (source.length > limits.maxLength) {
    throw fail(`expression is ${source.length} characters long; the limit is ${limits.maxLength}`, {
      limit: limits.maxLength,
    });
  }
  let expr: JsonataExpression;
  try {
    expr = jsonata(source, {
      stack: limits.maxDepth,
      sequence: limits.maxSequence,
      RegexEngine: linearRegExp(limits.maxRegexInput),
    });
  } catch (err) {
    // the parser recurses per nesting level, so absurd nesting ends in a native RangeError
    if (err instanceof RangeError) throw fail('expression is nested too deeply');
    throw withPointer(syntaxError(err), pointer);
  }
  checkRegexes(expr.ast(), pointer);
  return expr;
}

function syntaxError(err: unknown): RivuletError {
  const f = asFailure(err);
  const position = f.position ?? 0;
  const token = f.token ?? null;
  const near =
    token === null ? '' : token === '(end)' ? ' at the end of the expression' : ` near ${JSON.stringify(token)}`;
  return new RivuletError(
    'INVALID_EXPRESSION',
    `syntax error at position ${position}${near}: ${f.message ?? 'unknown error'}`,
    {
      details: { position, token, jsonataCode: f.code ?? null },
    },
  );
}

/**
 * Walks the syntax tree for regular expression literals (the only way to build a regex in
 * JSONata) and compiles each for RE2, so what RE2 cannot run is refused before it is saved.
 */
function checkRegexes(ast: unknown, pointer: string | undefined): void {
  const seen = new WeakSet<object>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node) || node instanceof RegExp) return;
    seen.add(node);
    const { type, value, position } = node as { type?: unknown; value?: unknown; position?: unknown };
    if (type === 'regex' && value instanceof RegExp) {
      try {
        compileLiteral(value);
      } catch (err) {
        if (!isRivuletError(err)) throw err;
        const details = {
          ...err.details,
          position: typeof position === 'number' ? position : 0,
          ...(pointer === undefined ? {} : { pointer }),
        };
        throw new RivuletError(err.code, err.message, { details });
      }
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(ast);
}

/** JSONata's literal flags are `i` and `m` (plus the `g` it adds itself). */
function compileLiteral(literal: RegExp): LinearRegex {
  return compileLinearRegex(literal.source, { ignoreCase: literal.ignoreCase, multiline: literal.multiline });
}

// ---------------------------------------------------------------------------------------------
// evaluation

/**
 * The engine JSONata builds for regex literals (`new RegexEngine(literal)`, then `lastIndex`
 * and `exec` as on a global RegExp): RE2 underneath, and a cap on the subject's length.
 */
function linearRegExp(maxInput: number): RegExpConstructor {
  class LinearRegExp {
    lastIndex = 0;
    private readonly re: LinearRegex;

    constructor(literal: RegExp) {
      this.re = compileLiteral(literal);
    }

    exec(subject: string): RegExpExecArray | null {
      if (subject.length > maxInput) {
        throw limitError(
          `a regular expression was applied to a string of ${subject.length} characters; the limit is ${maxInput}`,
          'maxRegexInput',
          maxInput,
        );
      }
      // with groups RE2 steps through its whole program per character: bound size × length
      const work = this.re.size * (subject.length - this.lastIndex);
      if (work > MAX_MATCH_WORK) {
        throw limitError(
          `a regular expression of ${this.re.size} instructions was applied to ${subject.length - this.lastIndex} characters; size × length may be at most ${MAX_MATCH_WORK}`,
          'maxRegexInput',
          maxInput,
        );
      }
      const found = this.re.exec(subject, this.lastIndex);
      if (found === null) {
        this.lastIndex = 0;
        return null;
      }
      this.lastIndex = found.end;
      return Object.assign(found.captures, { index: found.index, input: subject }) as unknown as RegExpExecArray;
    }
  }
  // JSONata only ever calls it with `new` and uses `lastIndex` and `exec`
  return LinearRegExp as unknown as RegExpConstructor;
}

/** Replaces the few built-ins whose cost is not bounded by the size of their input. */
function harden(expr: JsonataExpression, limits: ExpressionLimits): void {
  expr.registerFunction('eval', () => {
    throw new RivuletError(
      'INVALID_EXPRESSION',
      '$eval is not available: expressions are compiled and checked before they run',
    );
  });
  expr.registerFunction(
    'pad',
    (str: string | undefined, width: number, char?: string) => boundedPad(str, width, char, limits.maxStringLength),
    '<s-ns?:s>',
  );
  // JSONata's own $distinct compares every pair: quadratic in a sequence of up to maxSequence items
  expr.registerFunction('distinct', linearDistinct, '<x:x>');
  // with a picture, JSONata's $toMillis matches the timestamp with a backtracking regex it builds
  expr.registerFunction('toMillis', linearToMillis, '<s-s?:n>');
  // the time budget: JSONata awaits its entry hook at every node, so the hook can both stop
  // an evaluation and let the event loop turn; each evaluation has its own base frame
  // (JSONata evaluates array items and object members side by side, so several branches of one
  // evaluation share its slice and wait on the same turn of the loop)
  const runs = new WeakMap<object, { busy: number; sliceStart: number; turn?: Promise<void> }>();
  const entryHook = (_node: unknown, _input: unknown, env: { base?: object }): Promise<void> | undefined => {
    const base = env.base ?? env;
    const now = performance.now();
    const run = runs.get(base);
    if (run === undefined) {
      runs.set(base, { busy: 0, sliceStart: now });
      return undefined;
    }
    if (run.turn !== undefined) return run.turn;
    const slice = now - run.sliceStart;
    if (run.busy + slice > limits.timeoutMs) {
      throw limitError(`expression exceeded its time budget of ${limits.timeoutMs} ms`, 'timeoutMs', limits.timeoutMs);
    }
    if (slice < SLICE_MS) return undefined;
    run.busy += slice;
    run.turn = new Promise((resolve) =>
      setImmediate(() => {
        run.sliceStart = performance.now();
        run.turn = undefined;
        resolve();
      }),
    );
    return run.turn;
  };
  expr.assign(ENTRY_HOOK as unknown as string, entryHook);
  // a per-node check catches strings that grow step by step (`$s & $s` in a loop)
  const exitHook = (_node: unknown, _input: unknown, _env: unknown, result: unknown) => {
    if (typeof result === 'string' && result.length > limits.maxStringLength) {
      throw limitError(
        `expression built a string of ${result.length} characters; the limit is ${limits.maxStringLength}`,
        'maxStringLength',
        limits.maxStringLength,
      );
    }
  };
  // JSONata looks its hooks up by symbol in the expression's environment
  expr.assign(EXIT_HOOK as unknown as string, exitHook);
}

/** JSONata's `$pad` (width in code points, multi-character padding cut to fit), with a width cap. */
function boundedPad(
  str: string | undefined,
  width: number,
  char: string | undefined,
  maxLength: number,
): string | undefined {
  if (str === undefined) return undefined;
  const target = Math.abs(Math.trunc(width));
  if (target > maxLength) {
    throw limitError(
      `$pad width ${target} exceeds the string length limit of ${maxLength}`,
      'maxStringLength',
      maxLength,
    );
  }
  const fill = char === undefined || char.length === 0 ? ' ' : char;
  const missing = target - Array.from(str).length;
  if (missing <= 0) return str;
  const padding = Array.from(fill.repeat(missing)).slice(0, missing).join('');
  return width > 0 ? str + padding : padding + str;
}

function limitError(message: string, limit: keyof ExpressionLimits, value: number): RivuletError {
  return new RivuletError('INVALID_EXPRESSION', message, { details: { limit, value } });
}

function evaluationError(err: unknown, limits: ExpressionLimits): RivuletError {
  if (isRivuletError(err)) return err;
  if (err instanceof RangeError) {
    return /string length/i.test(err.message)
      ? limitError(
          `expression built a string longer than the limit of ${limits.maxStringLength}`,
          'maxStringLength',
          limits.maxStringLength,
        )
      : limitError(`expression exceeded its recursion depth limit of ${limits.maxDepth}`, 'maxDepth', limits.maxDepth);
  }
  const f = asFailure(err);
  switch (f.code) {
    case 'D1011':
      return limitError(
        `expression exceeded its recursion depth limit of ${limits.maxDepth}`,
        'maxDepth',
        limits.maxDepth,
      );
    case 'D2014':
    case 'D2015':
      return limitError(
        `expression exceeded its sequence size limit of ${limits.maxSequence} items`,
        'maxSequence',
        limits.maxSequence,
      );
    default:
      return new RivuletError(
        'INVALID_EXPRESSION',
        `expression failed at position ${f.position ?? 0}: ${f.message ?? 'unknown error'}`,
        {
          details: { position: f.position ?? 0, token: f.token ?? null, jsonataCode: f.code ?? null },
        },
      );
  }
}

function asFailure(err: unknown): JsonataFailure {
  if (err === null || typeof err !== 'object') return { message: String(err) };
  const { code, position, token, message } = err as Record<string, unknown>;
  return {
    code: typeof code === 'string' ? code : undefined,
    position: typeof position === 'number' ? position : undefined,
    token: typeof token === 'string' ? token : undefined,
    message: typeof message === 'string' ? message : undefined,
  };
}

/**
 * A JSON round trip: the expression sees own data properties only (a `__proto__` key stays an
 * ordinary key), never functions, getters or class instances, and cannot alter the caller's value.
 */
function plainInput(input: unknown, pointer: string | undefined): unknown {
  if (input === undefined) return undefined;
  try {
    const text = JSON.stringify(input);
    return text === undefined ? undefined : JSON.parse(text);
  } catch (err) {
    throw new RivuletError('BAD_REQUEST', 'expression input is not JSON data', {
      details: pointer === undefined ? {} : { pointer },
      cause: err,
    });
  }
}
