import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RivuletError } from '../../src/kernel/errors.js';
import type { StoredEvent } from '../../src/kernel/envelope.js';
import { compileEventFilter, compileGlob, type EventFilterSpec } from '../../src/mapping/event-filter.js';

function event(overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: '01890a5d-ac96-774b-bcce-b302099a8057',
    stream: 'orders',
    seq: 7,
    typeSeq: 3,
    type: 'order.placed',
    source: '/shops/42',
    time: '2024-05-01T10:00:00Z',
    received: '2024-05-01T10:00:01Z',
    producer: 'checkout',
    data: { total: 150, currency: 'CHF', lines: [{ sku: 'a', qty: 2 }] },
    meta: {},
    schemaVersion: null,
    ...overrides,
  };
}

async function passes(spec: EventFilterSpec | undefined, overrides: Partial<StoredEvent> = {}): Promise<boolean> {
  return compileEventFilter(spec).matches(event(overrides));
}

function rejectsWith(spec: unknown, code: string, pointer: string): void {
  assert.throws(
    () => compileEventFilter(spec as EventFilterSpec),
    (err: unknown) => err instanceof RivuletError && err.code === code && err.details?.pointer === pointer,
  );
}

describe('compileEventFilter: empty spec', () => {
  it('matches every event when the spec is absent or empty', async () => {
    assert.equal(await passes(undefined), true);
    assert.equal(await passes({}), true);
    assert.equal(await compileEventFilter(null).matches(event({ type: 'anything', source: '' })), true);
  });
});

describe('compileEventFilter: types', () => {
  it('matches exact types', async () => {
    assert.equal(await passes({ types: ['order.placed'] }), true);
    assert.equal(await passes({ types: ['order.paid'] }), false);
    assert.equal(await passes({ types: ['order'] }), false);
  });

  it('matches any of several types', async () => {
    assert.equal(await passes({ types: ['order.paid', 'order.placed'] }), true);
  });

  it('matches glob patterns', async () => {
    const filter = compileEventFilter({ types: ['order.*'] });
    assert.equal(await filter.matches(event({ type: 'order.placed' })), true);
    assert.equal(await filter.matches(event({ type: 'order.item.added' })), true);
    assert.equal(await filter.matches(event({ type: 'order.' })), true);
    assert.equal(await filter.matches(event({ type: 'orders.placed' })), false);
    assert.equal(await filter.matches(event({ type: 'order' })), false);
    assert.equal(await passes({ types: ['*.placed'] }), true);
    assert.equal(await passes({ types: ['*'] }), true);
    assert.equal(await passes({ types: ['o*r*d'] }), true);
    assert.equal(await passes({ types: ['o*x*d'] }), false);
  });

  it('matches iFLUX type references', async () => {
    assert.equal(await passes({ types: ['/eventTypes/*'] }, { type: '/eventTypes/temperatureEventSchema' }), true);
  });
});

describe('compileEventFilter: sources', () => {
  it('matches exact sources and patterns', async () => {
    assert.equal(await passes({ sources: ['/shops/42'] }), true);
    assert.equal(await passes({ sources: ['/shops/4'] }), false);
    assert.equal(await passes({ sources: ['/shops/*'] }), true);
    assert.equal(await passes({ sources: ['/event-sources/*'] }), false);
  });
});

describe('compileEventFilter: conditions', () => {
  it('evaluates the condition over the event envelope', async () => {
    assert.equal(await passes({ condition: 'data.total > 100' }), true);
    assert.equal(await passes({ condition: 'data.total > 200' }), false);
    assert.equal(await passes({ condition: 'data.total > 100 and type = "order.placed"' }), true);
    assert.equal(await passes({ condition: 'seq > 5 and producer = "checkout"' }), true);
    assert.equal(await passes({ condition: '$count(data.lines[qty > 1]) > 0' }), true);
    assert.equal(await passes({ condition: 'data.missing = 1' }), false);
  });

  it('combines types, sources and condition: all must pass', async () => {
    const spec = { types: ['order.*'], sources: ['/shops/*'], condition: 'data.currency = "CHF"' };
    assert.equal(await passes(spec), true);
    assert.equal(await passes(spec, { type: 'invoice.sent' }), false);
    assert.equal(await passes(spec, { source: '/warehouses/1' }), false);
    assert.equal(await passes(spec, { data: { currency: 'EUR' } }), false);
  });

  it('does not evaluate the condition when types or sources already failed', async () => {
    const filter = compileEventFilter({ types: ['invoice.*'], condition: 'data.currency + 1' });
    assert.deepEqual(await filter.check(event()), { matched: false });
  });

  it('reports a failing condition as no match, with the error for the log', async () => {
    const filter = compileEventFilter({ condition: 'data.currency + 1 > 0' });
    assert.equal(await filter.matches(event()), false);
    const outcome = await filter.check(event());
    assert.equal(outcome.matched, false);
    assert.equal(outcome.error?.code, 'INVALID_EXPRESSION');
    assert.equal(outcome.error?.details?.pointer, '/filter/condition');
  });
});

describe('compileEventFilter: validation at compile time', () => {
  it('refuses a bad condition with its pointer and position', () => {
    assert.throws(
      () => compileEventFilter({ condition: 'data.total > ' }),
      (err: unknown) =>
        err instanceof RivuletError &&
        err.code === 'INVALID_EXPRESSION' &&
        err.details?.pointer === '/filter/condition' &&
        typeof err.details.position === 'number',
    );
    rejectsWith({ condition: 42 }, 'INVALID_EXPRESSION', '/filter/condition');
    rejectsWith({ condition: '' }, 'INVALID_EXPRESSION', '/filter/condition');
  });

  it('refuses malformed type and source lists', () => {
    rejectsWith({ types: 'order.*' }, 'BAD_REQUEST', '/filter/types');
    rejectsWith({ types: [] }, 'BAD_REQUEST', '/filter/types');
    rejectsWith({ sources: ['/a', 3] }, 'BAD_REQUEST', '/filter/sources/1');
    rejectsWith({ types: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 'BAD_REQUEST', '/filter/types');
  });

  it('refuses bad glob patterns', () => {
    rejectsWith({ types: ['ok', ''] }, 'BAD_REQUEST', '/filter/types/1');
    rejectsWith({ types: ['order\n*'] }, 'BAD_REQUEST', '/filter/types/0');
    rejectsWith({ sources: ['x'.repeat(257)] }, 'BAD_REQUEST', '/filter/sources/0');
  });

  it('refuses unknown fields rather than silently matching everything', () => {
    rejectsWith({ type: ['order.placed'] }, 'BAD_REQUEST', '/filter/type');
    rejectsWith([], 'BAD_REQUEST', '/filter');
  });

  it('uses the pointer given by the caller', () => {
    assert.throws(
      () => compileEventFilter({ condition: '(' }, { pointer: '/sinks/0/filter' }),
      (err: unknown) => err instanceof RivuletError && err.details?.pointer === '/sinks/0/filter/condition',
    );
  });

  it('passes expression limits on', async () => {
    assert.throws(
      () => compileEventFilter({ condition: 'data.total > 100' }, { limits: { maxLength: 5 } }),
      /the limit is 5/,
    );
  });

  it('exposes the validated spec, frozen', () => {
    const filter = compileEventFilter({ types: ['order.*'], condition: 'true' });
    assert.deepEqual(filter.spec, { types: ['order.*'], condition: 'true' });
    assert.ok(Object.isFrozen(filter.spec));
  });
});

describe('compileGlob', () => {
  it('takes time proportional to pattern × value at worst', () => {
    const started = Date.now();
    const matches = compileGlob(`${'*a'.repeat(60)}b`);
    for (let i = 0; i < 100; i++) assert.equal(matches('a'.repeat(256)), false);
    assert.ok(Date.now() - started < 1_000);
  });

  it('agrees with a regular-expression reading of the pattern', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '.', '/'), maxLength: 12 });
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '.', '/', '*'), minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        const reference = new RegExp(
          `^${p.replace(/[.*+?^${}()|[\]\\/]/g, (c) => (c === '*' ? '.*' : `\\${c}`))}$`,
          's',
        );
        assert.equal(compileGlob(p)(t), reference.test(t));
      }),
      { numRuns: 500 },
    );
  });

  it('matches exactly when there is no wildcard', () => {
    const printable = fc.string({
      unit: fc.constantFrom('a', 'b', '.', '/', 'é', '?', '[', '\\'),
      minLength: 1,
      maxLength: 6,
    });
    fc.assert(
      fc.property(printable, printable, (p, t) => {
        assert.equal(compileGlob(p)(t), p === t);
        assert.equal(compileGlob(p)(p), true);
      }),
    );
  });
});
