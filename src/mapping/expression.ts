/**
 * User expressions: JSONata, compiled once and evaluated under limits.
 *
 * Users never send JavaScript. They write JSONata, which is a pure query and transformation
 * language over JSON: it cannot reach the host, the file system or the network. What it can
 * do is spend time and memory, so every compiled expression runs with:
 * - a source length limit, checked before parsing;
 * - a time budget and an evaluation depth limit (JSONata's own per-evaluation guardrails,
 *   checked each time an expression node is entered);
 * - a sequence size limit (ranges like `[1..10000000]` and large intermediate results);
 * - a string length limit on every intermediate result, and on `$pad`'s width;
 * - regular expressions checked for catastrophic backtracking at compile time, and a cap on
 *   the length of the strings they are run against;
 * - `$eval` refused, as it would compile unchecked source at evaluation time.
 * Input is handed over as a JSON copy, so JSONata only ever sees plain data.
 *
 * See docs/expressions.md.
 */

import jsonata from 'jsonata';
import { RivuletError, isRivuletError, type ErrorDetails } from '../core/errors.js';

export interface ExpressionLimits {
  /** longest accepted source, in characters */
  maxLength: number;
  /** wall-clock budget of one evaluation, in milliseconds */
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

/** JSONata represents lambdas and built-in functions as objects with marker properties. */
export function isJsonataFunction(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  const marked = value as { _jsonata_lambda?: unknown; _jsonata_function?: unknown };
  return marked._jsonata_lambda === true || marked._jsonata_function === true;
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
      throw new RivuletError('BAD_REQUEST', `expression limit ${key} must be a positive integer`, { details: { limit: key } });
    }
    limits[key] = value;
  }
  return limits;
}

// ---------------------------------------------------------------------------------------------
// compile time

function parse(source: string, limits: ExpressionLimits, pointer: string | undefined): JsonataExpression {
  const fail = (message: string, details: ErrorDetails = {}) =>
    new RivuletError('INVALID_EXPRESSION', message, { details: pointer === undefined ? details : { ...details, pointer } });
  if (typeof source !== 'string') throw fail('expression must be a string');
  if (source.trim() === '') throw fail('expression is empty');
  if (source.length > limits.maxLength) {
    throw fail(`expression is ${source.length} characters long; the limit is ${limits.maxLength}`, { limit: limits.maxLength });
  }
  let expr: JsonataExpression;
  try {
    expr = jsonata(source, {
      timeout: limits.timeoutMs,
      stack: limits.maxDepth,
      sequence: limits.maxSequence,
      RegexEngine: boundedRegExp(limits.maxRegexInput),
    });
  } catch (err) {
    // the parser recurses per nesting level, so absurd nesting ends in a native RangeError
    if (err instanceof RangeError) throw fail('expression is nested too deeply');
    throw withPointer(syntaxError(err), pointer);
  }
  checkRegexes(expr.ast(), fail);
  return expr;
}

function syntaxError(err: unknown): RivuletError {
  const f = asFailure(err);
  const position = f.position ?? 0;
  const token = f.token ?? null;
  const near = token === null ? '' : token === '(end)' ? ' at the end of the expression' : ` near ${JSON.stringify(token)}`;
  return new RivuletError('INVALID_EXPRESSION', `syntax error at position ${position}${near}: ${f.message ?? 'unknown error'}`, {
    details: { position, token, jsonataCode: f.code ?? null },
  });
}

/** Walks the syntax tree for regular expression literals; the only way to build a regex in JSONata. */
function checkRegexes(ast: unknown, fail: (message: string, details?: ErrorDetails) => RivuletError): void {
  const seen = new WeakSet<object>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node) || node instanceof RegExp) return;
    seen.add(node);
    const { type, value, position } = node as { type?: unknown; value?: unknown; position?: unknown };
    if (type === 'regex' && value instanceof RegExp) {
      const problem = unsafeRegexConstruct(value.source);
      if (problem !== undefined) {
        throw fail(`regular expression /${value.source}/ is refused: ${problem}`, { position: typeof position === 'number' ? position : 0, token: value.source });
      }
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(ast);
}

interface RegexGroup {
  /** a quantifier (any, `?` included) appears inside */
  quantified: boolean;
  /** an alternation appears inside */
  alternates: boolean;
}

/**
 * Finds the constructs that make a backtracking engine take exponential time: a repeated
 * group that itself contains a quantifier or an alternation (`(a+)+`, `(a|a)*`, `(a?){20}`),
 * and back-references. Deliberately conservative: such patterns can nearly always be
 * rewritten with character classes. Returns a reason, or undefined when the pattern is safe.
 */
export function unsafeRegexConstruct(pattern: string): string | undefined {
  const stack: RegexGroup[] = [{ quantified: false, alternates: false }];
  const top = () => stack[stack.length - 1] as RegexGroup;
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === '\\') {
      if (/^\\([1-9]|k<)/.test(pattern.slice(i, i + 3))) return 'back-references are not supported';
      i = afterQuantifier(pattern, i + 2, top());
    } else if (ch === '[') {
      i = afterQuantifier(pattern, endOfClass(pattern, i), top());
    } else if (ch === '(') {
      stack.push({ quantified: false, alternates: false });
      i = afterGroupPrefix(pattern, i + 1);
    } else if (ch === ')') {
      const group = stack.length > 1 ? (stack.pop() as RegexGroup) : { quantified: false, alternates: false };
      const quantifier = readQuantifier(pattern, i + 1);
      if (quantifier?.repeats && (group.quantified || group.alternates)) {
        return 'a repeated group contains a quantifier or an alternation (catastrophic backtracking)';
      }
      top().quantified ||= group.quantified || quantifier !== undefined;
      top().alternates ||= group.alternates;
      i = quantifier === undefined ? i + 1 : quantifier.end;
    } else if (ch === '|') {
      top().alternates = true;
      i += 1;
    } else {
      i = afterQuantifier(pattern, i + 1, top());
    }
  }
  return undefined;
}

/** Skips the quantifier (if any) following an atom that ends before `from`, noting it in `group`. */
function afterQuantifier(pattern: string, from: number, group: RegexGroup): number {
  const quantifier = readQuantifier(pattern, from);
  if (quantifier === undefined) return from;
  group.quantified = true;
  return quantifier.end;
}

function readQuantifier(pattern: string, at: number): { repeats: boolean; end: number } | undefined {
  const ch = pattern[at];
  let end: number;
  let repeats: boolean;
  if (ch === '*' || ch === '+' || ch === '?') {
    end = at + 1;
    repeats = ch !== '?';
  } else {
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at));
    if (braces === null) return undefined;
    end = at + braces[0].length;
    const max = braces[2] === undefined ? Number(braces[1]) : braces[3] === '' ? Infinity : Number(braces[3]);
    repeats = max > 1;
  }
  if (pattern[end] === '?') end += 1; // lazy modifier
  return { repeats, end };
}

function endOfClass(pattern: string, open: number): number {
  let i = open + 1;
  while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
  return i + 1;
}

function afterGroupPrefix(pattern: string, at: number): number {
  const prefix = /^\?(:|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(pattern.slice(at));
  return prefix === null ? at : at + prefix[0].length;
}

// ---------------------------------------------------------------------------------------------
// evaluation

/** The RegExp JSONata builds for regex literals: refuses over-long subject strings. */
function boundedRegExp(maxInput: number): RegExpConstructor {
  class BoundedRegExp extends RegExp {
    override exec(subject: string): RegExpExecArray | null {
      if (subject.length > maxInput) {
        throw limitError(`a regular expression was applied to a string of ${subject.length} characters; the limit is ${maxInput}`, 'maxRegexInput', maxInput);
      }
      return super.exec(subject);
    }
  }
  // JSONata only ever calls it with `new`, so the callable half of RegExpConstructor is unused
  return BoundedRegExp as unknown as RegExpConstructor;
}

/** Replaces the few built-ins whose cost is not bounded by the size of their input. */
function harden(expr: JsonataExpression, limits: ExpressionLimits): void {
  expr.registerFunction('eval', () => {
    throw new RivuletError('INVALID_EXPRESSION', '$eval is not available: expressions are compiled and checked before they run');
  });
  expr.registerFunction('pad', (str: string | undefined, width: number, char?: string) => boundedPad(str, width, char, limits.maxStringLength), '<s-ns?:s>');
  // a per-node check catches strings that grow step by step (`$s & $s` in a loop)
  const exitHook = (_node: unknown, _input: unknown, _env: unknown, result: unknown) => {
    if (typeof result === 'string' && result.length > limits.maxStringLength) {
      throw limitError(`expression built a string of ${result.length} characters; the limit is ${limits.maxStringLength}`, 'maxStringLength', limits.maxStringLength);
    }
  };
  // JSONata looks its hooks up by symbol in the expression's environment
  expr.assign(EXIT_HOOK as unknown as string, exitHook);
}

/** JSONata's `$pad` (width in code points, multi-character padding cut to fit), with a width cap. */
function boundedPad(str: string | undefined, width: number, char: string | undefined, maxLength: number): string | undefined {
  if (str === undefined) return undefined;
  const target = Math.abs(Math.trunc(width));
  if (target > maxLength) {
    throw limitError(`$pad width ${target} exceeds the string length limit of ${maxLength}`, 'maxStringLength', maxLength);
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
      ? limitError(`expression built a string longer than the limit of ${limits.maxStringLength}`, 'maxStringLength', limits.maxStringLength)
      : limitError(`expression exceeded its recursion depth limit of ${limits.maxDepth}`, 'maxDepth', limits.maxDepth);
  }
  const f = asFailure(err);
  switch (f.code) {
    case 'D1012':
      return limitError(`expression exceeded its time budget of ${limits.timeoutMs} ms`, 'timeoutMs', limits.timeoutMs);
    case 'D1011':
      return limitError(`expression exceeded its recursion depth limit of ${limits.maxDepth}`, 'maxDepth', limits.maxDepth);
    case 'D2014':
    case 'D2015':
      return limitError(`expression exceeded its sequence size limit of ${limits.maxSequence} items`, 'maxSequence', limits.maxSequence);
    default:
      return new RivuletError('INVALID_EXPRESSION', `expression failed at position ${f.position ?? 0}: ${f.message ?? 'unknown error'}`, {
        details: { position: f.position ?? 0, token: f.token ?? null, jsonataCode: f.code ?? null },
      });
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
