import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RivuletError } from '../../src/kernel/errors.js';
import type { StoredEvent } from '../../src/kernel/envelope.js';
import { compileRule, dryRun, type Rule, type RuleAction, type RuleCondition } from '../../src/core/rules/match.js';

const SOURCE = '/event-sources/JI8928JFK';
const TYPE = '/eventTypes/temperatureEventSchema';

/** The iFLUX seed's example event, as stored. */
function event(overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: '01890a5d-ac96-774b-bcce-b302099a8057',
    stream: 'iflux',
    seq: 1,
    typeSeq: 1,
    type: TYPE,
    source: SOURCE,
    time: '2015-01-12T05:21:07Z',
    received: '2015-01-12T05:21:08Z',
    producer: null,
    data: { temperature: 22.5, location: 'room 1' },
    meta: {},
    schemaVersion: null,
    ...overrides,
  };
}

const notify: RuleAction = { actionTargetId: '/action-targets/slack', actionTypeId: '/actionTypes/message' };

function rule(conditions: RuleCondition[], actions: RuleAction[] = [notify]): Rule {
  return { conditions, actions };
}

function rejectsWith(definition: unknown, code: string, pointer: string): void {
  assert.throws(
    () => compileRule(definition as Rule),
    (err: unknown) => err instanceof RivuletError && err.code === code && err.details?.pointer === pointer,
  );
}

describe('compileRule: when a condition matches', () => {
  const table: { name: string; condition: RuleCondition; matches: boolean }[] = [
    { name: 'source only, equal', condition: { eventSourceId: SOURCE }, matches: true },
    { name: 'source only, different', condition: { eventSourceId: '/event-sources/OTHER' }, matches: false },
    { name: 'type only, equal', condition: { eventTypeId: TYPE }, matches: true },
    { name: 'type only, different', condition: { eventTypeId: '/eventTypes/crowdDensityEventSchema' }, matches: false },
    { name: 'expression only, truthy', condition: { expression: 'data.temperature > 20' }, matches: true },
    { name: 'expression only, falsy', condition: { expression: 'data.temperature > 30' }, matches: false },
    { name: 'expression only, selects nothing', condition: { expression: 'data.humidity' }, matches: false },
    { name: 'source and type, both equal', condition: { eventSourceId: SOURCE, eventTypeId: TYPE }, matches: true },
    {
      name: 'source and type, type different',
      condition: { eventSourceId: SOURCE, eventTypeId: '/eventTypes/x' },
      matches: false,
    },
    {
      name: 'source and type, source different',
      condition: { eventSourceId: '/x', eventTypeId: TYPE },
      matches: false,
    },
    {
      name: 'type and expression, both match',
      condition: { eventTypeId: TYPE, expression: 'data.location = "room 1"' },
      matches: true,
    },
    {
      name: 'type and expression, expression fails',
      condition: { eventTypeId: TYPE, expression: 'data.location = "room 2"' },
      matches: false,
    },
    {
      name: 'all three match',
      condition: { eventSourceId: SOURCE, eventTypeId: TYPE, expression: 'data.temperature < 25' },
      matches: true,
    },
    {
      name: 'all three, one mismatch',
      condition: { eventSourceId: SOURCE, eventTypeId: TYPE, expression: 'data.temperature >= 25' },
      matches: false,
    },
    { name: 'empty condition', condition: {}, matches: false },
    {
      name: 'expression sees the envelope',
      condition: { expression: 'source = "/event-sources/JI8928JFK" and $contains(type, "temperature")' },
      matches: true,
    },
  ];

  for (const row of table) {
    it(`${row.name}: ${row.matches ? 'matches' : 'does not match'}`, async () => {
      const result = await compileRule(rule([row.condition])).evaluate(event());
      assert.deepEqual(result.matchedConditions, row.matches ? [0] : []);
      assert.equal(result.matchedActions.length, row.matches ? 1 : 0);
    });
  }

  it('never matches an empty condition, whatever the event', async () => {
    const compiled = compileRule(rule([{}]));
    for (const e of [event(), event({ type: '', source: '' }), event({ data: null })]) {
      assert.deepEqual((await compiled.evaluate(e)).matchedConditions, []);
    }
  });

  it('fires every action when any one condition matches', async () => {
    const actions: RuleAction[] = [
      notify,
      { actionTargetId: '/action-targets/lamp', actionTypeId: '/actionTypes/blink' },
    ];
    const compiled = compileRule(
      rule(
        [{ eventTypeId: '/eventTypes/other' }, {}, { eventSourceId: SOURCE }, { expression: 'data.temperature > 0' }],
        actions,
      ),
    );
    const result = await compiled.evaluate(event());
    assert.deepEqual(result.matchedConditions, [2, 3]);
    assert.deepEqual(
      result.matchedActions.map((a) => a.actionTargetId),
      ['/action-targets/slack', '/action-targets/lamp'],
    );
    assert.deepEqual(result.conditionErrors, []);
  });

  it('fires nothing when no condition matches', async () => {
    const result = await compileRule(rule([{ eventTypeId: '/eventTypes/other' }, {}])).evaluate(event());
    assert.deepEqual(result, { matchedConditions: [], matchedActions: [], conditionErrors: [] });
  });

  it('treats a failing expression as no match and reports it', async () => {
    const compiled = compileRule(rule([{ expression: 'data.location + 1 > 0' }, { eventSourceId: SOURCE }]));
    const result = await compiled.evaluate(event());
    assert.deepEqual(result.matchedConditions, [1]);
    assert.equal(result.conditionErrors.length, 1);
    assert.equal(result.conditionErrors[0]?.index, 0);
    assert.equal(result.conditionErrors[0]?.pointer, '/conditions/0/expression');
    assert.equal(result.conditionErrors[0]?.error.code, 'INVALID_EXPRESSION');
  });

  it('treats an expression that blows its time budget as no match', async () => {
    const compiled = compileRule(rule([{ expression: '($f := function($x){$f($x)}; $f(1))' }]), {
      limits: { timeoutMs: 10 },
    });
    const result = await compiled.evaluate(event());
    assert.deepEqual(result.matchedConditions, []);
    assert.match(result.conditionErrors[0]?.error.message ?? '', /time budget/);
  });
});

describe('compileRule: action properties', () => {
  it('defaults to the event data (iFLUX properties)', async () => {
    const [action] = (await compileRule(rule([{ eventTypeId: TYPE }])).evaluate(event())).matchedActions;
    assert.deepEqual(action, {
      actionTargetId: '/action-targets/slack',
      actionTypeId: '/actionTypes/message',
      properties: { temperature: 22.5, location: 'room 1' },
    });
  });

  it("builds properties with the action's transform over the envelope", async () => {
    const actions: RuleAction[] = [
      {
        ...notify,
        transform: '{"text": "It is " & $string(data.temperature) & "° in " & data.location, "from": source}',
      },
      {
        actionTargetId: '/action-targets/log',
        actionTypeId: '/actionTypes/append',
        transform: 'data.temperature * 9 / 5 + 32',
      },
      { actionTargetId: '/action-targets/log', actionTypeId: '/actionTypes/append', transform: 'data.humidity' },
    ];
    const result = await compileRule(rule([{ eventSourceId: SOURCE }], actions)).evaluate(event());
    assert.deepEqual(
      result.matchedActions.map((a) => a.properties),
      [{ text: 'It is 22.5° in room 1', from: SOURCE }, 72.5, null],
    );
  });

  it('returns plain JSON properties', async () => {
    const [action] = (
      await compileRule(rule([{ eventSourceId: SOURCE }], [{ ...notify, transform: '{"list": [1..3]}' }])).evaluate(
        event(),
      )
    ).matchedActions;
    assert.equal(JSON.stringify(action?.properties), '{"list":[1,2,3]}');
    assert.equal(Object.getPrototypeOf(action?.properties), Object.prototype);
  });

  it('does not run transforms when nothing matched', async () => {
    const compiled = compileRule(rule([{ eventTypeId: '/x' }], [{ ...notify, transform: 'data.location + 1' }]));
    assert.deepEqual((await compiled.evaluate(event())).matchedActions, []);
  });

  it("fails with the action's pointer when a transform fails on the event", async () => {
    const compiled = compileRule(
      rule([{ eventSourceId: SOURCE }], [notify, { ...notify, transform: 'data.location + 1' }]),
    );
    await assert.rejects(
      () => compiled.evaluate(event()),
      (err: unknown) =>
        err instanceof RivuletError &&
        err.code === 'INVALID_EXPRESSION' &&
        err.details?.pointer === '/actions/1/transform',
    );
  });

  it('refuses a transform that yields a function', async () => {
    const compiled = compileRule(
      rule([{ eventSourceId: SOURCE }], [{ ...notify, transform: '{"f": function($x){$x}}' }]),
    );
    await assert.rejects(() => compiled.evaluate(event()), /not JSON/);
  });
});

describe('compileRule: validation up front', () => {
  it('points at a bad condition expression', () => {
    rejectsWith(
      rule([{ eventTypeId: TYPE }, { expression: 'data.temperature >' }]),
      'INVALID_EXPRESSION',
      '/conditions/1/expression',
    );
    rejectsWith(rule([{ expression: 42 as unknown as string }]), 'INVALID_EXPRESSION', '/conditions/0/expression');
  });

  it('points at a bad action transform', () => {
    rejectsWith(
      rule([{ eventTypeId: TYPE }], [notify, { ...notify, transform: '{"a": }' }]),
      'INVALID_EXPRESSION',
      '/actions/1/transform',
    );
  });

  it('refuses malformed rules', () => {
    rejectsWith(null, 'BAD_REQUEST', '');
    rejectsWith({ actions: [notify] }, 'BAD_REQUEST', '/conditions');
    rejectsWith(rule([]), 'BAD_REQUEST', '/conditions');
    rejectsWith(rule([{ eventTypeId: TYPE }], []), 'BAD_REQUEST', '/actions');
    rejectsWith(rule(['x' as unknown as RuleCondition]), 'BAD_REQUEST', '/conditions/0');
    rejectsWith(rule([{ eventTypeId: '' }]), 'BAD_REQUEST', '/conditions/0/eventTypeId');
    rejectsWith(rule([{ fn: 'x' } as RuleCondition]), 'BAD_REQUEST', '/conditions/0/fn');
    rejectsWith(
      rule([{ eventTypeId: TYPE }], [{ actionTypeId: 'x' } as RuleAction]),
      'BAD_REQUEST',
      '/actions/0/actionTargetId',
    );
    rejectsWith(
      rule([{ eventTypeId: TYPE }], [{ actionTargetId: 'x', actionTypeId: 7 } as unknown as RuleAction]),
      'BAD_REQUEST',
      '/actions/0/actionTypeId',
    );
  });

  it("prefixes pointers with the rule's own pointer", () => {
    assert.throws(
      () => compileRule(rule([{ expression: '(' }]), { pointer: '/rules/3' }),
      (err: unknown) => err instanceof RivuletError && err.details?.pointer === '/rules/3/conditions/0/expression',
    );
  });
});

describe('dryRun', () => {
  it('returns the matched conditions and rendered actions', async () => {
    const result = await dryRun(rule([{ eventSourceId: SOURCE, eventTypeId: TYPE }]), event());
    assert.deepEqual(result.matchedConditions, [0]);
    assert.deepEqual(result.matchedActions, [{ ...notify, properties: { temperature: 22.5, location: 'room 1' } }]);
  });

  it('accepts a compiled rule', async () => {
    const compiled = compileRule(rule([{ expression: 'data.temperature > 20' }]));
    assert.deepEqual((await dryRun(compiled, event())).matchedConditions, [0]);
  });

  it('throws RULE_NOT_MATCHED when nothing matched', async () => {
    await assert.rejects(
      () => dryRun(rule([{ eventTypeId: '/eventTypes/other' }, {}]), event()),
      (err: unknown) =>
        err instanceof RivuletError &&
        err.code === 'RULE_NOT_MATCHED' &&
        err.message === 'The event was not matched by the rule.',
    );
  });

  it('names the failed expressions when nothing matched', async () => {
    await assert.rejects(
      () => dryRun(rule([{ expression: 'data.location * 2' }]), event()),
      (err: unknown) => {
        assert.ok(err instanceof RivuletError);
        assert.equal(err.code, 'RULE_NOT_MATCHED');
        const failures = err.details?.conditionErrors as { pointer: string; message: string }[];
        assert.equal(failures[0]?.pointer, '/conditions/0/expression');
        assert.match(failures[0]?.message ?? '', /expression failed/);
        return true;
      },
    );
  });

  it('validates the rule first', async () => {
    await assert.rejects(
      () => dryRun(rule([{ expression: 'a +' }]), event()),
      (err: unknown) => err instanceof RivuletError && err.code === 'INVALID_EXPRESSION',
    );
  });
});
