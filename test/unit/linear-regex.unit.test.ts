import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RivuletError } from '../../src/kernel/errors.js';
import { compileLinearRegex, tryLinearRegex, unsupportedConstruct } from '../../src/mapping/linear-regex.js';
import { compileJsonPath } from '../../src/mapping/jsonpath.js';
import { iRegexpSource } from '../../src/mapping/jsonpath-evaluator.js';
import { parseGrants, grantsAllow } from '../../src/core/keys/scopes.js';

function refused(source: string): RivuletError {
  try {
    compileLinearRegex(source, { pointer: '/p' });
  } catch (err) {
    assert.ok(err instanceof RivuletError);
    return err;
  }
  assert.fail(`expected ${source} to be refused`);
}

describe('linear-time regular expressions (RE2)', () => {
  it('matches with ECMAScript syntax translated to RE2', () => {
    assert.equal(compileLinearRegex('^\\d{3}-\\w+$').test('123-abc'), true);
    assert.equal(compileLinearRegex('\\u00e9t\\u00e9').test('été'), true);
    assert.equal(compileLinearRegex('^(?<year>\\d{4})$').test('2024'), true);
    assert.equal(compileLinearRegex('ORDER', { ignoreCase: true }).test('an order'), true);
    assert.equal(compileLinearRegex('^b', { multiline: true }).test('a\nb'), true);
    assert.equal(compileLinearRegex('^b').test('a\nb'), false);
    assert.equal(compileLinearRegex('a|b').testWhole('ab'), false);
    assert.equal(compileLinearRegex('a|b').testWhole('b'), true);
  });

  it("keeps ECMAScript's meaning of `.`, `\\s`, `\\S` and `[^]` where RE2's differs", () => {
    const cases: Array<[string, string, boolean?]> = [
      ['^a.b$', 'a\rb'],
      ['^a.b$', 'a\u2028b'],
      ['^a.b$', 'a\rb', true],
      ['^a.b$', 'axb'],
      ['^\\s+$', '\u00a0\u2003\v\ufeff'],
      ['^[\\s,]+$', '\u00a0,'],
      ['^\\S+$', 'a\u00a0'],
      ['^[^\\s]+$', 'ab'],
      ['^[^]$', '\n'],
      ['^[.]$', 'x'],
      ['^\\.$', '.'],
      ['\\\\s', '\\s'],
    ];
    for (const [pattern, input, dotAll = false] of cases) {
      assert.equal(
        compileLinearRegex(pattern, { dotAll }).test(input),
        new RegExp(pattern, dotAll ? 'us' : 'u').test(input),
        `${pattern} on ${JSON.stringify(input)}`,
      );
    }
  });

  it('agrees with ECMAScript on where generated patterns match (seeded)', () => {
    // patterns from pieces both engines read alike; subjects from the same small alphabet
    const atom = fc.constantFrom(
      'a',
      'b',
      '.',
      '\\d',
      '\\w',
      '\\s',
      '[ab]',
      '[^a]',
      '[a-c\\s]',
      '(?:ab|b)',
      '(a|bb?)',
      '\\.',
      'é',
    );
    const quantifier = fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,3}', '*?', '+?');
    const pattern = fc
      .tuple(
        fc.constantFrom('', '^'),
        fc.array(fc.tuple(atom, quantifier), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('', '$'),
      )
      .map(([start, parts, end]) => `${start}${parts.map(([a, q]) => a + q).join('')}${end}`);
    const subject = fc
      .array(fc.constantFrom('a', 'b', 'c', '1', ' ', '.', '\n', '\u00a0', 'é'), { maxLength: 12 })
      .map((chars) => chars.join(''));
    fc.assert(
      fc.property(pattern, subject, fc.boolean(), (source, input, ignoreCase) => {
        const ours = compileLinearRegex(source, { ignoreCase }).exec(input, 0);
        const theirs = new RegExp(source, ignoreCase ? 'iu' : 'u').exec(input);
        assert.equal(ours === null, theirs === null, `${source} on ${JSON.stringify(input)}`);
        if (ours !== null && theirs !== null) {
          // leftmost match and its text agree (RE2 and ECMAScript both prefer the leftmost, first alternative)
          assert.equal(ours.index, theirs.index, `${source} on ${JSON.stringify(input)}`);
          assert.equal(ours.captures[0], theirs[0], `${source} on ${JSON.stringify(input)}`);
        }
      }),
      { seed: 21, numRuns: 1000 },
    );
  });

  it('answers matches with UTF-16 offsets and groups', () => {
    const m = compileLinearRegex('(é)(x)?').exec('😀aé', 0);
    assert.deepEqual(m, { index: 3, end: 4, captures: ['é', 'é', undefined] });
    assert.equal(compileLinearRegex('a').exec('aba', 1)?.index, 2);
    assert.equal(compileLinearRegex('a').exec('ab', 3), null);
  });

  it('runs (a+)+b and ^(a+)+$ against 100,000 characters (a backtracking engine would not return)', () => {
    const long = 'a'.repeat(100_000);
    assert.equal(compileLinearRegex('(a+)+b').test(long), false);
    assert.equal(compileLinearRegex('^(a+)+$').test(`${long}!`), false);
    assert.equal(compileLinearRegex('(a+)+b').testWhole(`${long}b`), true);
    assert.equal(compileLinearRegex('(a|aa)*c').exec(long, 0), null);
  });

  it('keeps matching the same after it drops its DFA (every 100,000 characters)', () => {
    const re = compileLinearRegex('^[ab]*a[ab]{20}$');
    const long = 'ab'.repeat(60_000);
    for (let i = 0; i < 3; i++) {
      assert.equal(re.test(long), false);
      assert.equal(re.test(`b${'a'.repeat(21)}`), true);
      assert.deepEqual(re.exec(`${'a'.repeat(21)}`)?.captures, ['a'.repeat(21)]);
    }
  });

  it('refuses backreferences and lookaround with a typed error naming the field', () => {
    for (const [source, reason] of [
      ['(a)\\1', 'backreference'],
      ['(?<n>a)\\k<n>', 'backreference'],
      ['a(?=b)', 'lookaround'],
      ['a(?!b)', 'lookaround'],
      ['(?<=a)b', 'lookaround'],
      ['(?<!a)b', 'lookaround'],
      ['(', 'syntax'],
      ['a++', 'syntax'],
      // linear, but with a factor of thousands of instructions per character
      ['(\\w+\\s?){1000}', 'size'],
      ['.{1000}', 'size'],
    ] as const) {
      const err = refused(source);
      assert.equal(err.code, 'UNSUPPORTED_REGEX', source);
      assert.equal(err.details?.reason, reason, source);
      assert.equal(err.details?.pointer, '/p');
      assert.equal(err.details?.pattern, source);
    }
    // escaped or inside a class, the same characters are ordinary
    for (const source of ['\\(?=a\\)', '[(?=]', '\\\\1', '[\\1-\\2]x'])
      assert.equal(unsupportedConstruct(source), undefined, source);
    assert.equal(tryLinearRegex('(?=a)'), undefined);
  });
});

describe('JSONPath match() and search() on RE2', () => {
  it("match() is a whole-string match and search() a substring one, with I-Regexp's dot", () => {
    assert.deepEqual(compileJsonPath('$[?match(@, "a|b")]').query(['a', 'b', 'ab']), ['a', 'b']);
    assert.deepEqual(compileJsonPath('$[?search(@, "a.c")]').query(['xabc', 'a\rc', 'a\nc']), ['xabc']);
    assert.equal(iRegexpSource('a.[.]\\.'), 'a[^\\n\\r][.]\\.');
  });

  it('runs (a+)+b on a long string in linear time', () => {
    const long = 'a'.repeat(100_000);
    assert.deepEqual(
      compileJsonPath('$[?match(@.s, "(a+)+b")].n').query([
        { s: long, n: 1 },
        { s: `${long}b`, n: 2 },
      ]),
      [2],
    );
  });

  it('refuses a literal pattern RE2 cannot run when compiled; a pattern from the data that cannot run matches nothing', () => {
    assert.throws(
      () => compileJsonPath('$[?search(@, "(?=a)")]'),
      (err: unknown) =>
        err instanceof RivuletError && err.code === 'UNSUPPORTED_REGEX' && err.details?.reason === 'lookaround',
    );
    assert.deepEqual(
      compileJsonPath('$[?match(@.s, @.p)].s').query([
        { s: 'aa', p: 'a+' },
        { s: 'aa', p: '(a)\\1' },
      ]),
      ['aa'],
    );
  });

  it('keeps the other functions working through the same evaluator', () => {
    assert.deepEqual(
      compileJsonPath('$[?count(@.*) > 1 && length(@.a) == 2 && value(@.a) == "xy"]').query([
        { a: 'xy', b: 1 },
        { a: 'xy' },
      ]),
      [{ a: 'xy', b: 1 }],
    );
  });
});

describe('key scopes on RE2', () => {
  it('matches many-star scopes against long names without backtracking', () => {
    const { grants } = parseGrants([`produce:${'a*'.repeat(60)}b`]);
    assert.equal(grantsAllow(grants, 'produce', 'a'.repeat(190)), false);
    assert.equal(grantsAllow(grants, 'produce', `${'a'.repeat(100)}b`), true);
    assert.equal(grantsAllow(parseGrants(['consume:orders.*']).grants, 'consume', 'orders.eu'), true);
    assert.equal(grantsAllow(parseGrants(['consume:orders.*']).grants, 'consume', 'ordersXeu'), false);
  });
});
