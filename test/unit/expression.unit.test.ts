import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RivuletError } from '../../src/kernel/errors.js';
import { compileCondition, compileExpression, isTruthy, type ExpressionOptions } from '../../src/mapping/expression.js';
import { compileTransform } from '../../src/mapping/transform.js';

const order = {
  type: 'order.placed',
  source: '/shops/42',
  data: {
    total: 150,
    currency: 'CHF',
    customer: { name: 'Ada Lovelace', tier: 'gold' },
    items: [
      { sku: 'a', price: 100, qty: 1 },
      { sku: 'b', price: 25, qty: 2 },
    ],
  },
};

async function evaluate(source: string, input: unknown = order, opts?: ExpressionOptions): Promise<unknown> {
  return compileExpression(source, opts).evaluate(input);
}

/** Raw results may be JSONata sequences (arrays with marker properties): compare their JSON. */
function json(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** Asserts that `run` rejects with an INVALID_EXPRESSION whose message matches `message`. */
async function rejectsInvalid(run: () => Promise<unknown> | unknown, message: RegExp): Promise<RivuletError> {
  let caught: unknown;
  try {
    await run();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof RivuletError, `expected a RivuletError, got ${String(caught)}`);
  assert.equal(caught.code, 'INVALID_EXPRESSION');
  assert.match(caught.message, message);
  return caught;
}

describe('compileExpression: the language', () => {
  it('compares values', async () => {
    assert.equal(await evaluate('data.total > 100'), true);
    assert.equal(await evaluate('data.total <= 100'), false);
    assert.equal(await evaluate('type = "order.placed"'), true);
    assert.equal(await evaluate('data.currency != "EUR"'), true);
    assert.equal(await evaluate('data.currency in ["CHF", "EUR"]'), true);
  });

  it('selects nothing when a compared field is missing', async () => {
    assert.equal(await evaluate('data.missing > 1'), undefined);
    assert.equal(await evaluate('data.missing'), undefined);
    assert.equal(await compileCondition('data.missing > 1').test(order), false);
  });

  it('combines conditions with and / or / $not', async () => {
    assert.equal(await evaluate('data.total > 100 and type = "order.placed"'), true);
    assert.equal(await evaluate('data.total > 1000 or data.customer.tier = "gold"'), true);
    assert.equal(await evaluate('$not(data.total > 100)'), false);
    assert.equal(await evaluate('(data.total > 1000 or data.currency = "CHF") and $exists(data.customer)'), true);
  });

  it('offers the string functions', async () => {
    assert.equal(await evaluate('$uppercase(data.customer.name)'), 'ADA LOVELACE');
    assert.equal(await evaluate('$substringBefore(data.customer.name, " ")'), 'Ada');
    assert.equal(await evaluate('$contains(source, "/shops/")'), true);
    assert.equal(await evaluate('$length(data.currency)'), 3);
    assert.equal(await evaluate('type & "@" & source'), 'order.placed@/shops/42');
    assert.equal(await evaluate('$pad(data.currency, 5, "-")'), 'CHF--');
    assert.equal(await evaluate('$pad(data.currency, -6, "ab")'), 'abaCHF');
    assert.equal(await evaluate('$match(type, /^order\\.[a-z]+$/) ? "yes" : "no"'), 'yes');
  });

  it('offers the numeric and aggregate functions', async () => {
    assert.equal(await evaluate('$sum(data.items.(price * qty))'), 150);
    assert.equal(await evaluate('$max(data.items.price)'), 100);
    assert.equal(await evaluate('$count(data.items)'), 2);
    assert.equal(await evaluate('$round(data.total / 7, 2)'), 21.43);
    assert.equal(await evaluate('data.total % 40'), 30);
  });

  it('builds objects and arrays', async () => {
    assert.deepEqual(json(await evaluate('{"who": data.customer.name, "skus": data.items.sku}')), {
      who: 'Ada Lovelace',
      skus: ['a', 'b'],
    });
    assert.deepEqual(await evaluate('data.items[price > 50].sku'), 'a');
  });

  it('accepts caller bindings', async () => {
    const expr = compileExpression('data.total > $threshold');
    assert.equal(await expr.evaluate(order, { threshold: 100 }), true);
    assert.equal(await expr.evaluate(order, { threshold: 200 }), false);
  });

  it('keeps the source', () => {
    assert.equal(compileExpression('data.total').source, 'data.total');
  });
});

describe('compileExpression: syntax errors', () => {
  it('reports the position and the offending token', async () => {
    const err = await rejectsInvalid(
      () => compileExpression('data.total > )'),
      /syntax error at position 14 near "\)"/,
    );
    assert.equal(err.details?.position, 14);
    assert.equal(err.details?.token, ')');
  });

  it('reports an unexpected end of the expression', async () => {
    const err = await rejectsInvalid(
      () => compileExpression('data.total > {'),
      /syntax error at position 14 at the end of the expression/,
    );
    assert.equal(err.details?.token, '(end)');
  });

  it('reports an unterminated string', async () => {
    const err = await rejectsInvalid(() => compileExpression('type = "order'), /syntax error at position \d+/);
    assert.equal(typeof err.details?.position, 'number');
  });

  it('refuses empty and non-string sources', async () => {
    await rejectsInvalid(() => compileExpression(''), /empty/);
    await rejectsInvalid(() => compileExpression('   '), /empty/);
    await rejectsInvalid(() => compileExpression(42 as unknown as string), /must be a string/);
  });

  it('carries the pointer given by the caller', async () => {
    const err = await rejectsInvalid(() => compileExpression('a +', { pointer: '/filter/condition' }), /syntax error/);
    assert.equal(err.details?.pointer, '/filter/condition');
  });

  it('reports evaluation errors with their position', async () => {
    const err = await rejectsInvalid(() => evaluate('data.currency + 1'), /expression failed at position \d+/);
    assert.equal(err.details?.token, '+');
  });
});

describe('compileExpression: limits', () => {
  it('refuses a source longer than the length limit', async () => {
    await rejectsInvalid(() => compileExpression('1 + 1', { maxLength: 4 }), /5 characters long; the limit is 4/);
    await rejectsInvalid(() => compileExpression(`"${'x'.repeat(10_000)}"`), /the limit is 10000/);
  });

  it('refuses absurd nesting without crashing the parser', async () => {
    await rejectsInvalid(() => compileExpression(`${'('.repeat(4_900)}1${')'.repeat(4_900)}`), /nested too deeply/);
  });

  it('stops an endless (tail-recursive) loop at the time budget', async () => {
    const started = Date.now();
    const err = await rejectsInvalid(
      () => evaluate('($f := function($x){$f($x)}; $f(1))'),
      /exceeded its time budget of 100 ms/,
    );
    assert.equal(err.details?.limit, 'timeoutMs');
    assert.ok(Date.now() - started < 2_000);
  });

  it('honours a configured time budget', async () => {
    const started = Date.now();
    await rejectsInvalid(
      () => evaluate('($f := function($x){$f($x)}; $f(1))', {}, { timeoutMs: 20 }),
      /time budget of 20 ms/,
    );
    assert.ok(Date.now() - started < 1_000);
  });

  it('stops deep recursion at the depth limit', async () => {
    // a generous time budget, so a busy machine cannot make the time budget trip first
    const err = await rejectsInvalid(
      () => evaluate('($f := function($x){1 + $f($x)}; $f(1))', {}, { timeoutMs: 10_000 }),
      /recursion depth limit of 200/,
    );
    assert.equal(err.details?.limit, 'maxDepth');
    await evaluate('($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(5))');
  });

  it('refuses huge ranges before allocating them', async () => {
    const started = Date.now();
    await rejectsInvalid(() => evaluate('[1..10000000]'), /sequence size limit of 100000 items/);
    await rejectsInvalid(() => evaluate('$count([1..9999999])'), /sequence size limit/);
    assert.ok(Date.now() - started < 1_000);
    assert.equal(await evaluate('$count([1..1000])'), 1000);
  });

  it('stops a range fan-out at the budget or the sequence limit', async () => {
    await rejectsInvalid(() => evaluate('$count([1..99999].[1..99999])'), /time budget|sequence size/);
  });

  it('refuses strings that grow past the string limit', async () => {
    await rejectsInvalid(
      () => evaluate('$reduce([1..40], function($a, $b){$a & $a}, "x")'),
      /string of \d+ characters; the limit is 1000000/,
    );
    await rejectsInvalid(() => evaluate('$pad("x", 500000000)'), /\$pad width 500000000 exceeds/);
  });

  it('refuses $eval, which would run unchecked source', async () => {
    await rejectsInvalid(() => evaluate('$eval("1 + 1")'), /\$eval is not available/);
    await rejectsInvalid(() => evaluate('($e := $eval; $e("1"))'), /\$eval is not available/);
  });

  it('matches regular expression literals with RE2, in linear time', async () => {
    // a backtracking engine takes exponential time on these; RE2 does not
    const long = { text: `${'a'.repeat(9_000)}!` };
    assert.equal(await evaluate('$contains(text, /^(a+)+$/)', long), false);
    assert.equal(await evaluate('$contains(text, /(a|aa)*b/)', long), false);
    assert.deepEqual(json(await evaluate('$match("ab12cd345", /(\\d)(\\d)?/)')), [
      { match: '12', index: 2, groups: ['1', '2'] },
      { match: '34', index: 6, groups: ['3', '4'] },
      { match: '5', index: 8, groups: ['5', null] },
    ]);
    assert.equal(await evaluate('$replace("hello world", /o/, "0")'), 'hell0 w0rld');
    assert.deepEqual(json(await evaluate('$split("a1b22c", /\\d+/)')), ['a', 'b', 'c']);
    assert.equal(await evaluate('$contains("ORDER.placed", /^order\\.(placed|paid)$/i)'), true);
    assert.equal(await evaluate('$contains("a\\nb", /^b/m)'), true);
  });

  it("bounds one match by the pattern's size times the string's length", async () => {
    // 200 RE2 instructions × 9 000 characters: a match with groups could take a good part of a second
    await rejectsInvalid(
      () => evaluate('$match(text, /(\\w+\\s?){33}/)', { text: 'a'.repeat(9_000) }),
      /200 instructions was applied to 9000 characters/,
    );
    assert.equal(await evaluate('$count($match(text, /(\\w+\\s?){33}/))', { text: 'a'.repeat(1_000) }), 1);
  });

  it('refuses at compile time what RE2 cannot run, naming the pattern and its position', async () => {
    for (const [source, reason] of [
      ['$contains(type, /(x)\\1/)', 'backreference'],
      ['$contains(type, /(?<n>x)\\k<n>/)', 'backreference'],
      ['$contains(type, /a(?=b)/)', 'lookaround'],
      ['$match(type, /(?<!a)b/)', 'lookaround'],
    ] as const) {
      let caught: unknown;
      try {
        compileExpression(source, { pointer: '/filter/condition' });
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof RivuletError, source);
      assert.equal(caught.code, 'UNSUPPORTED_REGEX', source);
      assert.equal(caught.details?.reason, reason, source);
      assert.equal(caught.details?.pointer, '/filter/condition');
      assert.equal(typeof caught.details?.position, 'number');
    }
  });

  it('cuts a hostile transform off at its time budget and lets the event loop turn meanwhile', async () => {
    let turns = 0;
    const ticker = setInterval(() => turns++, 1);
    try {
      const err = await rejectsInvalid(
        () => evaluate('($f := function($n){$n<=1?1:$f($n-1)+$f($n-2)}; $f(40))'),
        /exceeded its time budget of 100 ms/,
      );
      assert.equal(err.details?.limit, 'timeoutMs');
    } finally {
      clearInterval(ticker);
    }
    // the evaluation yielded: timers ran while it worked
    assert.ok(turns > 0);
  });

  it('parses $toMillis pictures with RE2 and caps the timestamp', async () => {
    assert.equal(await evaluate('$toMillis("2024-05-01", "[Y0001]-[M01]-[D01]")'), Date.UTC(2024, 4, 1));
    assert.equal(await evaluate('$toMillis("1 May 2024", "[D1] [MNn] [Y0001]")'), Date.UTC(2024, 4, 1));
    // adjacent word components: polynomial backtracking for V8, linear for RE2
    assert.equal(await evaluate(`$toMillis("${'one'.repeat(60)}x", "[Yw][Mw][Dw][Hw]")`), undefined);
    await rejectsInvalid(
      () => evaluate(`$toMillis("${'one'.repeat(300)}x", "[Yw][Mw][Dw][Hw][mw][sw]")`),
      /exceeds 2000000 steps/,
    );
    await rejectsInvalid(() => evaluate(`$toMillis("${'1'.repeat(2000)}", "[Y]")`), /timestamp of 2000 characters/);
    assert.equal(RegExp.name, 'RegExp');
  });

  it("has a $distinct that is linear and keeps JSONata's deep equality", async () => {
    assert.deepEqual(
      json(await evaluate('$distinct([1, 2, 1, "1", [1, 2], [1, 2], {"a": 1, "b": 2}, {"b": 2, "a": 1}])')),
      [1, 2, '1', [1, 2], { a: 1, b: 2 }],
    );
    assert.equal(await evaluate('$distinct(a.b)', { a: [{ b: 1 }, { b: 1 }] }), 1);
    assert.equal(await evaluate('$count($distinct([1..100000]))'), 100_000);
  });

  it('caps the strings a regular expression runs against', async () => {
    const long = { text: 'a'.repeat(20_000) };
    await rejectsInvalid(
      () => evaluate('$contains(text, /b/)', long),
      /string of 20000 characters; the limit is 10000/,
    );
    assert.equal(await evaluate('$contains(text, /b/)', long, { maxRegexInput: 50_000 }), false);
  });

  it('validates configured limits', () => {
    assert.throws(
      () => compileExpression('1', { timeoutMs: 0 }),
      (err: unknown) => err instanceof RivuletError && err.code === 'BAD_REQUEST',
    );
    assert.throws(() => compileExpression('1', { maxDepth: 1.5 }), RivuletError);
  });

  it("keeps one evaluation's budget apart from a concurrent one", async () => {
    const loop = compileExpression('($f := function($x){$f($x)}; $f(1))');
    const quick = compileExpression('data.total * 2');
    const [looped, doubled] = await Promise.allSettled([loop.evaluate({}), quick.evaluate(order)]);
    assert.equal(looped.status, 'rejected');
    assert.deepEqual(doubled, { status: 'fulfilled', value: 300 });
  });
});

describe('compileExpression: inputs are plain data', () => {
  it('treats a __proto__ key in the input as an ordinary key', async () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown;
    assert.deepEqual(await evaluate('__proto__', input), { polluted: true });
    assert.deepEqual(json(await evaluate('$keys($)', input)), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('never reaches prototypes or constructors', async () => {
    assert.equal(await evaluate('constructor', {}), undefined);
    assert.equal(await evaluate('data.constructor.name', order), undefined);
    assert.equal(await evaluate('$lookup($, "constructor")', {}), undefined);
    assert.equal(await evaluate('__proto__.toString', {}), undefined);
  });

  it('cannot pollute Object.prototype from an expression', async () => {
    await evaluate('{"__proto__": {"polluted": true}}');
    await evaluate('$merge([{"__proto__": {"polluted": true}}, {"constructor": {"prototype": {"polluted": true}}}])');
    await evaluate('$ ~> | $ | {"__proto__": {"polluted": true}} |', JSON.parse('{"__proto__": {}}'));
    await evaluate('$ ~> | constructor | {"prototype": {"polluted": true}} |', {});
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });

  it("never alters the caller's value", async () => {
    const input = { data: { total: 1 } };
    const changed = await evaluate('$ ~> | data | {"total": 2} |', input);
    assert.deepEqual(changed, { data: { total: 2 } });
    assert.deepEqual(input, { data: { total: 1 } });
  });

  it('hands over JSON only: functions are dropped, dates become strings', async () => {
    assert.deepEqual(await evaluate('$', { f: () => 1, at: new Date(0) }), { at: '1970-01-01T00:00:00.000Z' });
  });

  it('refuses input that is not JSON', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(
      () => evaluate('1', cyclic),
      (err: unknown) => err instanceof RivuletError && err.code === 'BAD_REQUEST',
    );
  });
});

describe('compileCondition', () => {
  const table: [unknown, boolean][] = [
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    ['x', true],
    ['', false],
    [null, false],
    [[], false],
    [[0], false],
    [[0, 1], true],
    [{}, false],
    [{ a: 1 }, true],
  ];
  for (const [value, expected] of table) {
    it(`treats ${JSON.stringify(value)} as ${expected}`, async () => {
      assert.equal(await compileCondition('v').test({ v: value }), expected);
    });
  }

  it('treats nothing selected as false', async () => {
    assert.equal(await compileCondition('missing').test({}), false);
  });

  it('reports an evaluation error as no match, with the error', async () => {
    const condition = compileCondition('data.currency + 1 > 0', { pointer: '/filter/condition' });
    assert.equal(await condition.test(order), false);
    const outcome = await condition.check(order);
    assert.equal(outcome.matched, false);
    assert.equal(outcome.error?.code, 'INVALID_EXPRESSION');
    assert.equal(outcome.error?.details?.pointer, '/filter/condition');
  });

  it('reports a blown time budget as no match', async () => {
    const outcome = await compileCondition('($f := function($x){$f($x)}; $f(1))', { timeoutMs: 10 }).check({});
    assert.equal(outcome.matched, false);
    assert.match(outcome.error?.message ?? '', /time budget/);
  });

  it('refuses bad syntax at compile time', async () => {
    await rejectsInvalid(() => compileCondition('data.total >'), /syntax error/);
  });

  it("agrees with JSONata's own $boolean on any JSON value", async () => {
    const boolean = compileExpression('$boolean($v)');
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        assert.equal(isTruthy(value), ((await boolean.evaluate(null, { v: value })) ?? false) === true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('compileTransform', () => {
  it('is the identity, as a fresh copy, without an expression', async () => {
    const identity = compileTransform();
    assert.equal(identity.source, undefined);
    const result = await identity.apply(order);
    assert.deepEqual(result, order);
    assert.notEqual(result, order);
  });

  it('builds plain JSON: ordinary objects and arrays', async () => {
    const result = await compileTransform('{"skus": data.items.sku, "n": $count(data.items)}').apply(order);
    assert.equal(JSON.stringify(result), '{"skus":["a","b"],"n":2}');
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.keys((result as { skus: unknown[] }).skus), ['0', '1']);
  });

  it('turns nothing into null at the top and leaves it out inside objects', async () => {
    assert.equal(await compileTransform('data.missing').apply(order), null);
    assert.deepEqual(await compileTransform('{"a": data.missing, "b": 1}').apply(order), { b: 1 });
  });

  it('refuses functions in the result', async () => {
    await rejectsInvalid(() => compileTransform('{"f": $uppercase}').apply(order), /result at \/f is a function/);
    await rejectsInvalid(() => compileTransform('function($x){$x}').apply(order), /the result is a function/);
  });

  it('refuses over-deep results', async () => {
    // a generous time budget: on a busy machine the budget could trip before the result is checked
    await rejectsInvalid(
      () => compileTransform('$reduce([1..300], function($a, $b){ {"x": $a} }, {})', { timeoutMs: 10_000 }).apply({}),
      /nested deeper than 256/,
    );
  });

  it('keeps a __proto__ key as data', async () => {
    const result = await compileTransform('{"__proto__": {"polluted": true}}').apply({});
    assert.equal(JSON.stringify(result), '{"__proto__":{"polluted":true}}');
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('carries the pointer in evaluation errors', async () => {
    const err = await rejectsInvalid(
      () => compileTransform('data.currency * 2', { pointer: '/mapping' }).apply(order),
      /expression failed/,
    );
    assert.equal(err.details?.pointer, '/mapping');
  });
});
