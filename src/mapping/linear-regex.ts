/**
 * Regular expressions that users supply (JSON Schema `pattern`, JSONPath `match()`/`search()`,
 * JSONata `/…/` literals, key scopes), compiled for RE2 semantics with `re2js`.
 *
 * A backtracking engine (V8's RegExp) can take exponential time on patterns such as
 * `(a+)+b`; RE2 matches in time linear in the input, whatever the pattern. The price is the
 * constructs that need backtracking, which RE2 does not run: backreferences (`\1`, `\k<name>`)
 * and lookaround (`(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`). They are refused with
 * UNSUPPORTED_REGEX when the pattern is defined, naming the field. Patterns arrive in
 * ECMAScript syntax (what JSON Schema, I-Regexp and JSONata use) and are translated to RE2's.
 * Internal regexes written by us over fixed inputs do not come here. See docs/expressions.md.
 */
import { RE2JS } from 're2js';
import { RivuletError } from '../kernel/errors.js';

export interface LinearRegexFlags {
  ignoreCase?: boolean;
  /** `^` and `$` match at line breaks too */
  multiline?: boolean;
  /** `.` matches line breaks too */
  dotAll?: boolean;
}

export interface LinearRegexOptions extends LinearRegexFlags {
  /** JSON Pointer of the field that holds the pattern; copied into the error's details */
  pointer?: string;
  /** largest program accepted, for patterns we generate and bound otherwise; MAX_PROGRAM_SIZE by default */
  maxSize?: number;
}

export interface LinearMatch {
  /** UTF-16 offset where the match starts */
  index: number;
  /** UTF-16 offset just after the match */
  end: number;
  /** the matched text, then each capturing group's text (undefined when it took no part) */
  captures: (string | undefined)[];
}

export interface LinearRegex {
  /** the pattern as the user wrote it */
  readonly source: string;
  /** RE2 program size (instructions): matching with groups costs up to size × input length steps */
  readonly size: number;
  /** true when the pattern matches somewhere in `input` */
  test(input: string): boolean;
  /** true when the pattern matches all of `input` */
  testWhole(input: string): boolean;
  /** the leftmost match that starts at or after `from` */
  exec(input: string, from?: number): LinearMatch | null;
  /** `/source/flags`, for caches and messages */
  toString(): string;
}

export type RegexRefusal = 'backreference' | 'lookaround' | 'syntax' | 'size';

export const MAX_PATTERN_LENGTH = 10_000;
/**
 * Largest RE2 program accepted. Matching is linear in the input, but with groups (JSONata's
 * `$match`) the factor is the program size: counted repetitions such as `(\w+\s?){1000}`
 * compile to thousands of instructions and would make one match take seconds.
 */
export const MAX_PROGRAM_SIZE = 1_000;

const CACHE_LIMIT = 256;
/**
 * Characters matched after which a pattern's lazily built DFA is dropped: its states grow with
 * the input (to ~6 MB for a pattern such as `[ab]*a[ab]{20}` over a megabyte), and compiled
 * patterns live long (in caches, in schema validators).
 */
const RESET_AFTER_CHARS = 100_000;
const cache = new Map<string, LinearRegex | RivuletError>();

/** Compiles `source` for linear-time matching, or throws UNSUPPORTED_REGEX saying why not. */
export function compileLinearRegex(source: string, opts: LinearRegexOptions = {}): LinearRegex {
  const flags = flagBits(opts);
  const maxSize = opts.maxSize ?? MAX_PROGRAM_SIZE;
  const key = `${flags}/${maxSize}/${source}`;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = compileUncached(source, flags, maxSize);
    // insertion order: dropping the oldest entry keeps the cache bounded
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, compiled);
  }
  if (compiled instanceof RivuletError) throw withPointer(compiled, opts.pointer);
  return compiled;
}

/** Like `compileLinearRegex`, but answers undefined for a pattern that cannot be compiled. */
export function tryLinearRegex(source: string, flags: LinearRegexFlags = {}): LinearRegex | undefined {
  try {
    return compileLinearRegex(source, flags);
  } catch {
    return undefined;
  }
}

function flagBits(opts: LinearRegexFlags): number {
  return (
    (opts.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) |
    (opts.multiline ? RE2JS.MULTILINE : 0) |
    (opts.dotAll ? RE2JS.DOTALL : 0)
  );
}

function compileUncached(source: string, flags: number, maxSize: number): LinearRegex | RivuletError {
  if (typeof source !== 'string') return refusal('a regular expression must be a string', String(source), 'syntax');
  if (source.length > MAX_PATTERN_LENGTH) {
    return refusal(
      `regular expression is ${source.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`,
      source.slice(0, 100),
      'size',
    );
  }
  const unsupported = unsupportedConstruct(source);
  if (unsupported !== undefined) {
    const what =
      unsupported === 'backreference' ? 'backreferences (\\1, \\k<name>)' : 'lookaround ((?=…), (?!…), (?<=…), (?<!…))';
    return refusal(
      `regular expression ${JSON.stringify(source)} uses ${what}, which linear-time (RE2) matching does not support`,
      source,
      unsupported,
    );
  }
  let re: RE2JS;
  let translated: string;
  try {
    translated = RE2JS.translateRegExp(ecmaScriptClasses(source, (flags & RE2JS.DOTALL) !== 0));
    re = RE2JS.compile(translated, flags);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
    return refusal(
      `regular expression ${JSON.stringify(source)} is not supported by linear-time (RE2) matching: ${reason}`,
      source,
      'syntax',
    );
  }
  const size = re.programSize();
  if (size > maxSize) {
    return refusal(
      `regular expression ${JSON.stringify(source.length > 100 ? `${source.slice(0, 100)}…` : source)} compiles to ${size} instructions; the limit is ${maxSize} (use smaller repetition counts)`,
      source,
      'size',
    );
  }
  return wrap(source, flags, translated, re, size);
}

function wrap(source: string, flags: number, translated: string, compiled: RE2JS, size: number): LinearRegex {
  let re = compiled;
  const text = `/${source}/${flags & RE2JS.CASE_INSENSITIVE ? 'i' : ''}${flags & RE2JS.MULTILINE ? 'm' : ''}${flags & RE2JS.DOTALL ? 's' : ''}`;
  let matched = 0;
  // after the match: the states it built are dropped once enough input has gone through
  const spend = (chars: number): void => {
    matched += chars;
    if (matched <= RESET_AFTER_CHARS) return;
    matched = 0;
    // a fresh compile is the public way to drop the DFA (RE2JS's reset() keeps it)
    re = RE2JS.compile(translated, flags);
  };
  return Object.freeze({
    source,
    size,
    test(input: string): boolean {
      const found = re.test(input);
      spend(input.length);
      return found;
    },
    testWhole(input: string): boolean {
      const found = re.testExact(input);
      spend(input.length);
      return found;
    },
    exec(input: string, from = 0): LinearMatch | null {
      if (from > input.length) return null;
      const m = re.matcher(input);
      const found = m.find(from);
      const captures: (string | undefined)[] = [];
      if (found) for (let g = 0; g <= m.groupCount(); g++) captures.push(m.group(g) ?? undefined);
      spend(input.length - from);
      return found ? { index: m.start(), end: m.end(), captures } : null;
    },
    toString: () => text,
  });
}

/** ECMAScript's `\s`: Unicode white space and line terminators, where RE2's is ASCII only. */
const ECMA_SPACE =
  '\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';

/**
 * Gives `.` and `\s`/`\S` their ECMAScript meaning: `.` stops at all four line terminators
 * (RE2's at `\n` only) unless `dotAll`, and `\s` includes Unicode spaces (RE2's is ASCII).
 * Inside a class only `\s` can be spelt out; `[\S]` keeps RE2's meaning.
 */
export function ecmaScriptClasses(source: string, dotAll: boolean): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i] as string;
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      if (next === 's') out += inClass ? ECMA_SPACE : `[${ECMA_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${ECMA_SPACE}]`;
      else out += ch + next;
      i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
    } else if (ch === '[') {
      inClass = true;
      out += ch;
      // `[^]` and `[]` are ECMAScript's "anything" and "nothing": the bracket after them is no literal
      if (source[i + 1] === '^' && source[i + 2] === ']') {
        out += '^]';
        i += 2;
        inClass = false;
      } else if (source[i + 1] === ']') {
        out += ']';
        i += 1;
        inClass = false;
      }
    } else {
      out += ch === '.' && !dotAll ? '[^\\n\\r\\x{2028}\\x{2029}]' : ch;
    }
  }
  return out;
}

/**
 * Finds what RE2 cannot run, so the refusal names it (RE2's own message for `\1` reads
 * "invalid escape", and the translation step would read `\k<n>` as a literal `k<n>`).
 */
export function unsupportedConstruct(source: string): RegexRefusal | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || (next === 'k' && source[i + 2] === '<'))) return 'backreference';
      i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
    } else if (ch === '[') {
      inClass = true;
    } else if (ch === '(' && source[i + 1] === '?') {
      const kind = source.slice(i + 2, i + 4);
      if (kind[0] === '=' || kind[0] === '!' || kind === '<=' || kind === '<!') return 'lookaround';
    }
  }
  return undefined;
}

function refusal(message: string, pattern: string, reason: RegexRefusal): RivuletError {
  return new RivuletError('UNSUPPORTED_REGEX', message, { details: { pattern, reason } });
}

function withPointer(err: RivuletError, pointer: string | undefined): RivuletError {
  return new RivuletError(err.code, err.message, {
    details: pointer === undefined ? { ...err.details } : { ...err.details, pointer },
  });
}
