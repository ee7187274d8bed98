/**
 * JSONPath (RFC 9535) for mappings: compile once, query many times.
 *
 * A thin layer over `jsonpath-rfc9535` that makes four things true which the library alone
 * does not (version 1.3):
 * - a bad expression fails when it is compiled, with the expression, the column and the
 *   reason, instead of silently matching nothing: syntax is checked by the library's parser,
 *   and RFC 9535's well-typedness rules for function extensions (§2.4.3) and the I-JSON
 *   range of indexes and slice bounds (§2.1) are checked here;
 * - `match()` and `search()` run in linear time (RE2, see jsonpath-evaluator.ts), and a
 *   literal pattern RE2 cannot run (a backreference, lookaround) is refused when compiled;
 * - `a && b && c` means what it says: the library folds a conjunction of three or more
 *   operands into `a && (b || c)` (upstream issue P0lip/jsonpath-rfc9535#5), so such chains
 *   are bracketed pairwise before evaluation — see `groupConjunctions`;
 * - compiled paths are cached and parsed once, so a datamap compiled per sink or per dry-run
 *   is cheap.
 */
import parse from 'jsonpath-rfc9535/parser';
import { RivuletError } from '../kernel/errors.js';
import { compileLinearRegex } from './linear-regex.js';
import { evaluateJsonPath, iRegexpSource } from './jsonpath-evaluator.js';

export interface CompiledPath {
  /** the expression as written */
  readonly expression: string;
  /** every value the expression selects from `doc`, in document order; `[]` when none */
  query(doc: unknown): unknown[];
}

const CACHE_LIMIT = 1000;
const cache = new Map<string, CompiledPath>();

/** Checks `expression` and returns a reusable query; a bad expression → INVALID_EXPRESSION. */
export function compileJsonPath(expression: string): CompiledPath {
  const cached = cache.get(expression);
  if (cached !== undefined) return cached;
  const compiled = compileUncached(expression);
  if (cache.size >= CACHE_LIMIT) {
    // Maps iterate in insertion order: dropping the oldest entry keeps the cache bounded.
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(expression, compiled);
  return compiled;
}

function compileUncached(expression: string): CompiledPath {
  if (typeof expression !== 'string' || expression.length === 0) {
    throw invalid(String(expression), 'the expression is empty');
  }
  const parsed = parseOrFail(expression);
  checkTree(expression, parsed);
  const rewritten = groupConjunctions(expression);
  const tree = rewritten === expression ? parsed : parseOrFail(rewritten);
  return Object.freeze({
    expression,
    query: (doc: unknown): unknown[] => evaluateJsonPath(tree, doc),
  });
}

function invalid(expression: string, problem: string, details: Record<string, unknown> = {}): RivuletError {
  return new RivuletError(
    'INVALID_EXPRESSION',
    `Invalid JSONPath expression ${JSON.stringify(expression)}: ${problem}`,
    {
      details: { expression, ...details },
    },
  );
}

interface SyntaxErrorShape {
  message: string;
  location?: { start?: { offset?: number; column?: number } };
}

function parseOrFail(expression: string): unknown {
  try {
    return parse(expression);
  } catch (err) {
    const { message, location } = err as SyntaxErrorShape;
    const column = location?.start?.column;
    const where = column === undefined ? '' : `at column ${column}: `;
    throw invalid(expression, `${where}${message}`, column === undefined ? {} : { column });
  }
}

// ---------------------------------------------------------------------------------------
// RFC 9535 checks the parser leaves out
// ---------------------------------------------------------------------------------------

/** Declared types of the function extensions RFC 9535 defines (§2.4.4–2.4.8). */
type FnType = 'value' | 'logical' | 'nodes';
const FUNCTIONS: Record<string, { params: FnType[]; result: FnType }> = {
  length: { params: ['value'], result: 'value' },
  count: { params: ['nodes'], result: 'value' },
  match: { params: ['value', 'value'], result: 'logical' },
  search: { params: ['value', 'value'], result: 'logical' },
  value: { params: ['nodes'], result: 'value' },
};

/** I-JSON's exact integer range, which RFC 9535 requires of indexes and slice bounds. */
const MAX_INDEX = Number.MAX_SAFE_INTEGER;

interface Node {
  type: string;
  [field: string]: unknown;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** Walks the whole tree, so a function nested anywhere (inside an argument, a nested filter) is checked. */
function checkTree(expression: string, root: unknown): void {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const item = pending.pop();
    if (Array.isArray(item)) {
      pending.push(...item);
    } else if (isNode(item)) {
      checkNode(expression, item);
      for (const child of Object.values(item)) if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
}

function checkNode(expression: string, node: Node): void {
  switch (node.type) {
    case 'IndexSelector':
      return checkInteger(expression, node['value'], 'index');
    case 'SliceSelector':
      for (const bound of ['start', 'end', 'step']) checkInteger(expression, node[bound], `slice ${bound}`);
      return;
    case 'FunctionExpr':
      return checkCall(expression, node);
    case 'TestExpr':
      return checkTestedFunction(expression, node['expression']);
    case 'ComparisonExpr':
      checkComparedFunction(expression, node['left']);
      return checkComparedFunction(expression, node['right']);
    default:
      return;
  }
}

function checkInteger(expression: string, value: unknown, what: string): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > MAX_INDEX) {
    throw invalid(expression, `${what} ${String(value)} is outside the range ±(2^53-1)`);
  }
}

function declaration(expression: string, call: Node): { params: FnType[]; result: FnType } {
  const name = String(call['name']);
  const declared = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  if (declared === undefined) {
    throw invalid(
      expression,
      `unknown function ${name}() (RFC 9535 defines ${Object.keys(FUNCTIONS)
        .map((f) => `${f}()`)
        .join(', ')})`,
    );
  }
  return declared;
}

function checkCall(expression: string, call: Node): void {
  const name = String(call['name']);
  const { params } = declaration(expression, call);
  const args = Array.isArray(call['arguments']) ? (call['arguments'] as unknown[]) : [];
  if (name === 'match' || name === 'search') checkLiteralPattern(expression, args[1]);
  if (args.length !== params.length) {
    const plural = params.length === 1 ? 'argument' : 'arguments';
    throw invalid(expression, `${name}() takes ${params.length} ${plural}, got ${args.length}`);
  }
  params.forEach((param, i) => {
    if (!argumentFits(expression, args[i], param)) {
      throw invalid(expression, `argument ${i + 1} of ${name}() must be ${describeType(param)}`);
    }
  });
}

/** A pattern written in the expression is compiled now, so what RE2 cannot run is refused now. */
function checkLiteralPattern(expression: string, arg: unknown): void {
  if (!isNode(arg) || arg.type !== 'Literal' || typeof arg['value'] !== 'string') return;
  try {
    compileLinearRegex(iRegexpSource(arg['value']));
  } catch (err) {
    if (!(err instanceof RivuletError)) throw err;
    throw new RivuletError(err.code, `Invalid JSONPath expression ${JSON.stringify(expression)}: ${err.message}`, {
      details: { expression, ...err.details, pattern: arg['value'] },
    });
  }
}

function describeType(type: FnType): string {
  if (type === 'value') return 'a value (a literal, a singular query such as @.name, or a function returning a value)';
  if (type === 'nodes') return 'a query (such as @.items[*])';
  return 'a logical expression';
}

/** RFC 9535 §2.4.3: which arguments are well-typed for a parameter of each declared type. */
function argumentFits(expression: string, arg: unknown, param: FnType): boolean {
  if (!isNode(arg)) return false;
  if (arg.type === 'FunctionExpr') {
    const { result } = declaration(expression, arg);
    return param === 'logical' ? result !== 'value' : result === param;
  }
  if (param === 'value') return arg.type === 'Literal' || (arg.type === 'FilterQuery' && isSingular(arg));
  if (param === 'nodes') return arg.type === 'FilterQuery';
  return arg.type !== 'Literal';
}

/** A singular query selects at most one node: only names and indexes, one per child segment. */
function isSingular(filterQuery: Node): boolean {
  const path = filterQuery['value'];
  if (!isNode(path) || !Array.isArray(path['segments'])) return false;
  return (path['segments'] as unknown[]).every((segment) => {
    if (!isNode(segment) || segment.type !== 'ChildSegment' || !isNode(segment['node'])) return false;
    const selection = segment['node'];
    if (selection.type === 'MemberNameShorthand') return true;
    const selectors = selection['selectors'];
    return (
      selection.type === 'BracketedSelection' &&
      Array.isArray(selectors) &&
      selectors.length === 1 &&
      isNode(selectors[0]) &&
      (selectors[0].type === 'NameSelector' || selectors[0].type === 'IndexSelector')
    );
  });
}

function checkTestedFunction(expression: string, tested: unknown): void {
  if (!isNode(tested) || tested.type !== 'FunctionExpr') return;
  if (declaration(expression, tested).result === 'value') {
    throw invalid(
      expression,
      `the result of ${String(tested['name'])}() must be compared, e.g. ${String(tested['name'])}(…) > 0`,
    );
  }
}

function checkComparedFunction(expression: string, side: unknown): void {
  if (!isNode(side) || side.type !== 'FunctionExpr') return;
  if (declaration(expression, side).result !== 'value') {
    throw invalid(
      expression,
      `the result of ${String(side['name'])}() is true or false and cannot be compared; use it on its own`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Working around `a && b && c`
// ---------------------------------------------------------------------------------------

interface Frame {
  /** where the current chain of operands starts */
  start: number;
  /** offsets of the `&&` operators of the current chain */
  ands: number[];
}

/**
 * Brackets every chain of three or more `&&` operands pairwise, left to right:
 * `a && b && c && d` → `((a && b) && c) && d`, which the library evaluates correctly. It
 * scans the text, skipping string literals: a chain is delimited by the brackets or
 * parentheses around it, by `?` (start of a filter), `,` and `||`. Expressions without such
 * a chain are returned unchanged.
 */
export function groupConjunctions(expression: string): string {
  const inserts: Array<{ at: number; text: string }> = [];
  const stack: Frame[] = [{ start: 0, ands: [] }];
  const top = (): Frame => stack[stack.length - 1] as Frame;
  const endChain = (frame: Frame): void => {
    if (frame.ands.length < 2) return;
    inserts.push({ at: frame.start, text: '('.repeat(frame.ands.length - 1) });
    for (const at of frame.ands.slice(1)) inserts.push({ at, text: ')' });
  };
  const restart = (frame: Frame, at: number): void => {
    endChain(frame);
    frame.start = at;
    frame.ands = [];
  };
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    const pair = expression.slice(i, i + 2);
    if (ch === "'" || ch === '"') i = endOfString(expression, i);
    else if (ch === '[' || ch === '(') stack.push({ start: i + 1, ands: [] });
    else if ((ch === ']' || ch === ')') && stack.length > 1) endChain(stack.pop() as Frame);
    else if (ch === ',' || ch === '?') restart(top(), i + 1);
    else if (pair === '||') restart(top(), ++i + 1);
    else if (pair === '&&') top().ands.push(i++);
  }
  endChain(top());
  if (inserts.length === 0) return expression;
  return applyInserts(expression, inserts);
}

/** Offset of the quote that closes the string literal opening at `from`. */
function endOfString(text: string, from: number): number {
  const quote = text[from];
  for (let i = from + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return text.length;
}

function applyInserts(text: string, inserts: Array<{ at: number; text: string }>): string {
  const ordered = [...inserts].sort((x, y) => x.at - y.at);
  let out = '';
  let last = 0;
  for (const { at, text: piece } of ordered) {
    out += text.slice(last, at) + piece;
    last = at;
  }
  return out + text.slice(last);
}
