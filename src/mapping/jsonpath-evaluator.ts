/**
 * Evaluates a parsed JSONPath query with `jsonpath-rfc9535`'s own visitors, but with
 * `match()` and `search()` matching through RE2 (src/mapping/linear-regex.ts) instead of V8's
 * backtracking RegExp, on which `(a+)+b` against a long string holds the process for minutes.
 *
 * The library fixes its function table inside `query()` and exports no way to evaluate a
 * tree, so its query visitor and its other three functions are loaded from the package's
 * CommonJS build by path. The dependency is pinned to an exact version for that reason; the
 * unit tests run every function through here.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tryLinearRegex, type LinearRegex } from './linear-regex.js';

type Visit = (ctx: unknown, root: unknown, input: unknown, tree: unknown, cb: (value: unknown) => void) => void;

interface FunctionDefinition {
  declaration: (ctx: unknown, ...args: unknown[]) => unknown;
  definition: { parameters: string[]; returnType: string };
}

interface Library {
  visitQuery: Visit;
  count: FunctionDefinition;
  length: FunctionDefinition;
  value: FunctionDefinition;
}

let library: Library | undefined;

function load(): Library {
  if (library !== undefined) return library;
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('jsonpath-rfc9535/package.json')), 'dist', 'commonjs', 'core');
  const part = <T>(file: string): T => (require(join(root, file)) as { default: T }).default;
  library = {
    visitQuery: part<Visit>('visitors/query.js'),
    count: part<FunctionDefinition>('functions/count.js'),
    length: part<FunctionDefinition>('functions/length.js'),
    value: part<FunctionDefinition>('functions/value.js'),
  };
  return library;
}

/**
 * RFC 9485 (I-Regexp) → ECMAScript: `.` matches any character but a line break (`\n`, `\r`),
 * while ECMAScript's and RE2's `.` stop at `\n` only. Escapes and classes are left alone.
 */
export function iRegexpSource(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
    } else if (ch === '[') {
      inClass = true;
      out += ch;
    } else {
      out += ch === '.' ? '[^\\n\\r]' : ch;
    }
  }
  return out;
}

/** A pattern RE2 cannot compile makes `match()`/`search()` false, as RFC 9535 §2.4.6 says. */
function patternOf(pattern: string): LinearRegex | undefined {
  return tryLinearRegex(iRegexpSource(pattern));
}

const match: FunctionDefinition = {
  declaration: (_ctx, value, pattern) =>
    typeof value === 'string' && typeof pattern === 'string' && patternOf(pattern)?.testWhole(value) === true,
  definition: { parameters: ['ValueType', 'ValueType'], returnType: 'LogicalType' },
};

const search: FunctionDefinition = {
  declaration: (_ctx, value, pattern) =>
    typeof value === 'string' && typeof pattern === 'string' && patternOf(pattern)?.test(value) === true,
  definition: { parameters: ['ValueType', 'ValueType'], returnType: 'LogicalType' },
};

/** Every value `tree` selects from `doc`, in document order. */
export function evaluateJsonPath(tree: unknown, doc: unknown): unknown[] {
  const lib = load();
  const values: unknown[] = [];
  const ctx = {
    cache: new Map<string, unknown>(),
    capturePaths: false,
    functions: { count: lib.count, length: lib.length, value: lib.value, match, search },
    regexp: 'i-regexp',
  };
  lib.visitQuery(ctx, doc, doc, tree, (value) => values.push(value));
  return values;
}
