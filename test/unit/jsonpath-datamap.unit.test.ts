import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { compileJsonPath, groupConjunctions } from '../../src/mapping/jsonpath.js';
import { compileDataMap } from '../../src/mapping/datamap.js';
import { isRivuletError } from '../../src/kernel/errors.js';

const store = {
  store: {
    book: [
      { category: 'reference', author: 'Nigel Rees', title: 'Sayings of the Century', price: 8.95 },
      { category: 'fiction', author: 'Evelyn Waugh', title: 'Sword of Honour', price: 12.99 },
      { category: 'fiction', author: 'Herman Melville', title: 'Moby Dick', isbn: '0-553-21311-3', price: 8.99 },
      {
        category: 'fiction',
        author: 'J. R. R. Tolkien',
        title: 'The Lord of the Rings',
        isbn: '0-395-19395-8',
        price: 22.99,
      },
    ],
    bicycle: { color: 'red', price: 399 },
  },
};

const q = (expression: string, doc: unknown = store): unknown[] => compileJsonPath(expression).query(doc);

function rejects(expression: string, pattern: RegExp): void {
  assert.throws(
    () => compileJsonPath(expression),
    (err: unknown) =>
      isRivuletError(err) &&
      err.code === 'INVALID_EXPRESSION' &&
      err.message.includes(JSON.stringify(expression)) &&
      pattern.test(err.message),
  );
}

describe('compileJsonPath: RFC 9535 features', () => {
  it('selects by name, index and wildcard', () => {
    assert.deepEqual(q('$.store.bicycle.color'), ['red']);
    assert.deepEqual(q("$['store']['book'][0].title"), ['Sayings of the Century']);
    assert.deepEqual(q('$.store.book[*].author'), [
      'Nigel Rees',
      'Evelyn Waugh',
      'Herman Melville',
      'J. R. R. Tolkien',
    ]);
  });

  it('slices: [0:2], [-1:], [::2] and negative steps', () => {
    assert.deepEqual(q('$.store.book[0:2].title'), ['Sayings of the Century', 'Sword of Honour']);
    assert.deepEqual(q('$.store.book[-1:].title'), ['The Lord of the Rings']);
    assert.deepEqual(q('$.store.book[::2].price'), [8.95, 8.99]);
    assert.deepEqual(q('$.store.book[::-1].price'), [22.99, 8.99, 12.99, 8.95]);
  });

  it('descends with ..', () => {
    // RFC 9535 leaves the order of an object's members open, so compare as sets.
    assert.deepEqual(
      (q('$..price') as number[]).sort((a, b) => a - b),
      [8.95, 8.99, 12.99, 22.99, 399],
    );
    assert.deepEqual(q('$..book[?@.isbn].title'), ['Moby Dick', 'The Lord of the Rings']);
  });

  it('filters with comparisons and logic', () => {
    assert.deepEqual(q('$.store.book[?@.price<10].title'), ['Sayings of the Century', 'Moby Dick']);
    assert.deepEqual(q("$.store.book[?@.category=='fiction' && @.price<20].title"), ['Sword of Honour', 'Moby Dick']);
    assert.deepEqual(q('$.store.book[?!@.isbn].title'), ['Sayings of the Century', 'Sword of Honour']);
    assert.deepEqual(q('$.store.book[?@.price>20 || @.price<9].price'), [8.95, 8.99, 22.99]);
  });

  it('evaluates three or more && operands as a conjunction', () => {
    // jsonpath-rfc9535 1.3 alone gives `a && (b || c)` here (P0lip/jsonpath-rfc9535#5).
    const doc = [
      { a: 1, b: 2, c: 9 },
      { a: 1, b: 2, c: 3 },
    ];
    assert.deepEqual(q('$[?@.a==1 && @.b==2 && @.c==3]', doc), [{ a: 1, b: 2, c: 3 }]);
    assert.deepEqual(q('$[?@.a==1 && @.b==2 && @.c==3 && @.d==4]', doc), []);
    assert.deepEqual(q('$[?@.a==1 && (@.c==9 || @.c==3)]', doc), doc);
    assert.deepEqual(q("$[?@.a==1 && @.b==2 && @.c==3 || @['&&']=='&& &&']", [...doc, { '&&': '&& &&' }]), [
      { a: 1, b: 2, c: 3 },
      { '&&': '&& &&' },
    ]);
  });

  it('groups conjunction chains pairwise and leaves other text alone', () => {
    assert.equal(groupConjunctions('$.a.b'), '$.a.b');
    assert.equal(groupConjunctions('$[?@.a && @.b]'), '$[?@.a && @.b]');
    assert.equal(groupConjunctions('$[?@.a && @.b && @.c]'), '$[?(@.a && @.b )&& @.c]');
    assert.equal(groupConjunctions("$[?@.x=='&&&&' && @.b && @.c]"), "$[?(@.x=='&&&&' && @.b )&& @.c]");
  });

  it('agrees with plain JavaScript on random &&/|| filters', () => {
    const fields = ['a', 'b', 'c', 'd'] as const;
    const atom = fc.record({ field: fc.constantFrom(...fields), value: fc.integer({ min: 0, max: 2 }) });
    const conjunction = fc.array(atom, { minLength: 1, maxLength: 5 });
    const disjunction = fc.array(conjunction, { minLength: 1, maxLength: 3 });
    const item = fc.record({
      a: fc.integer({ min: 0, max: 2 }),
      b: fc.integer({ min: 0, max: 2 }),
      c: fc.integer({ min: 0, max: 2 }),
      d: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(disjunction, fc.array(item, { maxLength: 6 }), (ors, items) => {
        const text = ors
          .map((ands) => ands.map(({ field, value }) => `@.${field}==${value}`).join(' && '))
          .join(' || ');
        const expected = items.filter((it) =>
          ors.some((ands) => ands.every(({ field, value }) => it[field] === value)),
        );
        assert.deepEqual(q(`$[?${text}]`, items), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('offers the function extensions length(), count(), match(), search(), value()', () => {
    assert.deepEqual(q('$.store.book[?length(@.title)>15].title'), ['Sayings of the Century', 'The Lord of the Rings']);
    assert.deepEqual(q('$.store[?count(@.*)==2].color'), ['red']);
    assert.deepEqual(q("$.store.book[?match(@.author, 'H.*')].author"), ['Herman Melville']);
    assert.deepEqual(q("$.store.book[?search(@.title, 'of')].title"), [
      'Sayings of the Century',
      'Sword of Honour',
      'The Lord of the Rings',
    ]);
    assert.deepEqual(q("$.store.book[?value(@..category)=='reference'].author"), ['Nigel Rees']);
  });

  it('returns [] when nothing matches', () => {
    assert.deepEqual(q('$.store.car'), []);
    assert.deepEqual(q('$.store.book[?@.price>1000]'), []);
    assert.deepEqual(q('$.store.book[10]'), []);
  });

  it('caches compiled paths', () => {
    assert.equal(compileJsonPath('$.store.book[0]'), compileJsonPath('$.store.book[0]'));
  });
});

describe('compileJsonPath: invalid expressions', () => {
  it('names the expression, the column and the problem for a syntax error', () => {
    rejects('$.store[', /at column 9/);
    rejects('store.book', /at column 1/);
    rejects('$[?@.price<10', /end of input/);
    assert.throws(
      () => compileJsonPath('$.a['),
      (err: unknown) => isRivuletError(err) && err.details?.['column'] === 5 && err.details?.['expression'] === '$.a[',
    );
  });

  it('refuses an empty expression', () => rejects('', /empty/));

  it('refuses unknown functions and wrong arity', () => {
    rejects('$[?lenght(@.a)>1]', /unknown function lenght\(\)/);
    rejects('$[?count()==1]', /count\(\) takes 1 argument, got 0/);
    rejects("$[?match(@.a, 'x', 'y')]", /match\(\) takes 2 arguments, got 3/);
  });

  it('refuses ill-typed function use (RFC 9535 §2.4.3)', () => {
    rejects('$[?length(@.*)<3]', /argument 1 of length\(\) must be a value/);
    rejects('$[?count(1)>2]', /argument 1 of count\(\) must be a query/);
    rejects('$[?length(@.a)]', /must be compared/);
    rejects("$[?match(@.a, 'a.*')==true]", /cannot be compared/);
  });

  it('refuses indexes and slice bounds outside the I-JSON range', () => {
    rejects('$[9007199254740992]', /index 9007199254740992/);
    rejects('$[:-9007199254740992:]', /slice end/);
  });

  // The library ships the JSONPath Compliance Test Suite; when it is present, every one of its
  // 600+ cases must come out right through compileJsonPath, invalid selectors included.
  const ctsPath = join(
    dirname(createRequire(import.meta.url).resolve('jsonpath-rfc9535')),
    '../../src/__tests__/jsonpath-compliance-test-suite/cts.json',
  );
  it(
    'passes the JSONPath Compliance Test Suite',
    { skip: existsSync(ctsPath) ? false : 'cts.json is not shipped with this version' },
    () => {
      type Case = {
        name: string;
        selector: string;
        document?: unknown;
        result?: unknown[];
        results?: unknown[][];
        invalid_selector?: boolean;
      };
      const { tests } = JSON.parse(readFileSync(ctsPath, 'utf8')) as { tests: Case[] };
      const failures: string[] = [];
      for (const test of tests) {
        let outcome: unknown[] | 'invalid';
        try {
          outcome = compileJsonPath(test.selector).query(test.document);
        } catch (err) {
          if (!isRivuletError(err)) throw err;
          outcome = 'invalid';
        }
        const expected = test.invalid_selector === true ? ['invalid'] : (test.results ?? [test.result]);
        const ok = expected.some((candidate) => {
          try {
            assert.deepEqual(outcome, candidate);
            return true;
          } catch {
            return false;
          }
        });
        if (!ok) failures.push(`${test.name}: ${test.selector}`);
      }
      assert.deepEqual(failures, []);
      assert.ok(tests.length > 600);
    },
  );
});

describe('compileDataMap (seed 001)', () => {
  const doc = {
    schema: { name: 'Person', version: 2 },
    msg: { id: 'p-1', name: 'Ada', tags: ['a', 'b'], visits: [{ at: 1 }, { at: 2 }] },
    constant: { org: 'ehealth' },
  };

  it('maps one match to its value and leaves out keys with no match', () => {
    const map = compileDataMap({
      id: '$.msg.id',
      schema_name: '$.schema.name',
      org: '$.constant.org',
      missing: '$.msg.nope',
    });
    assert.deepEqual(map.apply(doc), { id: 'p-1', schema_name: 'Person', org: 'ehealth' });
    assert.deepEqual(map.keys, ['id', 'schema_name', 'org', 'missing']);
  });

  it('maps several matches to a list, and a single array match to that array', () => {
    const map = compileDataMap({ visits: '$.msg.visits[*].at', tags: '$.msg.tags', firstTag: '$.msg.tags[0]' });
    assert.deepEqual(map.apply(doc), { visits: [1, 2], tags: ['a', 'b'], firstTag: 'a' });
  });

  it('keeps a null match (it is a value)', () => {
    assert.deepEqual(compileDataMap({ n: '$.msg.n' }).apply({ ...doc, msg: { n: null } }), { n: null });
  });

  it('keeps keys such as __proto__ as plain data', () => {
    const key = JSON.parse('{"__proto__": "$.msg.id"}') as Record<string, string>;
    const mapped = compileDataMap(key).apply(doc);
    assert.equal(Object.getPrototypeOf(mapped), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(mapped, '__proto__')?.value, 'p-1');
  });

  it('reports a bad expression with its key and pointer', () => {
    assert.throws(
      () => compileDataMap({ ok: '$.msg.id', 'bad/key': '$.msg[' }),
      (err: unknown) =>
        isRivuletError(err) &&
        err.code === 'INVALID_EXPRESSION' &&
        err.message.startsWith('datamap key "bad/key": Invalid JSONPath expression "$.msg["') &&
        err.details?.['pointer'] === '/datamap/bad~1key' &&
        err.details?.['key'] === 'bad/key',
    );
    assert.throws(() => compileDataMap({ n: 42 } as unknown as Record<string, string>), { code: 'INVALID_EXPRESSION' });
  });
});
