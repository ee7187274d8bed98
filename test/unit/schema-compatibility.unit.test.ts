import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import {
  COMPATIBILITY_MODES,
  checkCompatibility,
  describeIncompatibility,
  describeReport,
  isCompatibilityMode,
  subschemaProblems,
  type CompatibilityMode,
  type JsonSchema,
} from '../../src/core/schemas/compatibility.js';

// ------------------------------------------------------------------------------------------------
// Building blocks
// ------------------------------------------------------------------------------------------------

type Schema = Record<string, unknown>;
type Path = readonly (string | number)[];

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';
const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';

/** A copy of `base` with values set at paths (undefined deletes). */
function variant(base: Schema, ...edits: [Path, unknown][]): Schema {
  const copy = structuredClone(base);
  for (const [path, value] of edits) {
    let node: Record<string, unknown> = copy;
    for (const key of path.slice(0, -1)) node = node[String(key)] as Record<string, unknown>;
    const last = String(path.at(-1));
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return copy;
}

const order: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1 },
    amount: { type: 'number', minimum: 0, maximum: 10000 },
    currency: { enum: ['EUR', 'USD'] },
    note: { type: 'string', maxLength: 200 },
  },
  required: ['id', 'amount'],
};
const closedOrder = variant(order, [['additionalProperties'], false]);

const tree = (leaf: Schema): Schema => ({
  $defs: {
    node: {
      type: 'object',
      properties: { value: leaf, children: { type: 'array', items: { $ref: '#/$defs/node' } } },
      required: ['value'],
    },
  },
  $ref: '#/$defs/node',
});

const variantA = {
  type: 'object',
  properties: { kind: { const: 'card' }, last4: { type: 'string' } },
  required: ['kind', 'last4'],
};
const variantB = {
  type: 'object',
  properties: { kind: { const: 'iban' }, iban: { type: 'string' } },
  required: ['kind', 'iban'],
};
const variantC = { type: 'object', properties: { kind: { const: 'cash' } }, required: ['kind'] };

// ------------------------------------------------------------------------------------------------
// The table: real-world changes, judged by the data each version accepts
// ------------------------------------------------------------------------------------------------

interface Row {
  name: string;
  old: JsonSchema;
  new: JsonSchema;
  /** every instance valid under old is valid under new (old ⊆ new), as the checker can prove */
  backward: boolean;
  /** every instance valid under new is valid under old (new ⊆ old), as the checker can prove */
  forward: boolean;
  /** rules expected among the problems, by direction */
  rules?: { backward?: string; forward?: string };
  /** hand-written instances for the soundness check, on top of the shared pool */
  samples?: unknown[];
  /** false when Ajv 8 cannot validate the schemas (draft-04 booleans, remote references) */
  validate?: false;
}

const rows: Row[] = [
  {
    name: 'annotations only: title, description, examples, $comment',
    old: order,
    new: variant(
      order,
      [['title'], 'Order'],
      [['description'], 'An order'],
      [['properties', 'id', 'examples'], ['o-1']],
      [['$comment'], 'v2'],
    ),
    backward: true,
    forward: true,
  },
  { name: 'identical schema', old: order, new: structuredClone(order), backward: true, forward: true },
  {
    name: 'optional property added to a closed object',
    old: closedOrder,
    new: variant(closedOrder, [['properties', 'channel'], { type: 'string' }]),
    backward: true,
    forward: false,
    rules: { forward: 'property-added' },
    samples: [
      { id: 'o', amount: 1, channel: 'web' },
      { id: 'o', amount: 1, channel: 7 },
    ],
  },
  {
    name: 'optional property added to an open object (old data may carry any value there)',
    old: order,
    new: variant(order, [['properties', 'channel'], { type: 'string' }]),
    backward: false,
    forward: true,
    rules: { backward: 'property-added-to-open-object' },
    samples: [{ id: 'o', amount: 1, channel: 'web' }],
  },
  {
    name: 'optional property accepting anything added to an open object',
    old: order,
    new: variant(order, [['properties', 'channel'], { description: 'free text' }]),
    backward: true,
    forward: true,
  },
  {
    name: 'optional property removed from an open object (still accepted as additional)',
    old: order,
    new: variant(order, [['properties', 'note'], undefined]),
    backward: true,
    forward: false,
    rules: { forward: 'property-removed-from-open-object' },
    samples: [{ id: 'o', amount: 1, note: 42 }],
  },
  {
    name: 'optional property removed from a closed object',
    old: closedOrder,
    new: variant(closedOrder, [['properties', 'note'], undefined]),
    backward: false,
    forward: true,
    rules: { backward: 'property-removed' },
  },
  {
    name: 'required property added',
    old: closedOrder,
    new: variant(
      closedOrder,
      [['properties', 'channel'], { type: 'string' }],
      [['required'], ['id', 'amount', 'channel']],
    ),
    backward: false,
    forward: false,
    rules: { backward: 'required-added', forward: 'property-added' },
  },
  {
    name: 'optional property made required',
    old: order,
    new: variant(order, [['required'], ['id', 'amount', 'currency']]),
    backward: false,
    forward: true,
    rules: { backward: 'required-added' },
  },
  {
    name: 'required property made optional',
    old: order,
    new: variant(order, [['required'], ['id']]),
    backward: true,
    forward: false,
    rules: { forward: 'required-removed' },
    samples: [{ id: 'o' }],
  },
  {
    name: 'enum widened',
    old: order,
    new: variant(order, [
      ['properties', 'currency', 'enum'],
      ['EUR', 'USD', 'CHF'],
    ]),
    backward: true,
    forward: false,
    rules: { forward: 'enum-widened' },
    samples: [{ id: 'o', amount: 1, currency: 'CHF' }],
  },
  {
    name: 'enum narrowed',
    old: order,
    new: variant(order, [['properties', 'currency', 'enum'], ['EUR']]),
    backward: false,
    forward: true,
    rules: { backward: 'enum-narrowed' },
  },
  {
    name: 'enum reordered',
    old: { enum: ['a', 'b', 'c'] },
    new: { enum: ['c', 'a', 'b'] },
    backward: true,
    forward: true,
    samples: ['a', 'b', 'c', 'd'],
  },
  {
    name: 'const replaced by an enum containing it',
    old: { const: 'v1' },
    new: { enum: ['v1', 'v2'] },
    backward: true,
    forward: false,
    rules: { forward: 'enum-widened' },
    samples: ['v1', 'v2'],
  },
  {
    name: 'integer widened to number',
    old: variant(order, [['properties', 'amount', 'type'], 'integer']),
    new: order,
    backward: true,
    forward: false,
    rules: { forward: 'type-widened' },
    samples: [
      { id: 'o', amount: 2 },
      { id: 'o', amount: 2.5 },
    ],
  },
  {
    name: 'number narrowed to integer',
    old: order,
    new: variant(order, [['properties', 'amount', 'type'], 'integer']),
    backward: false,
    forward: true,
    rules: { backward: 'type-narrowed' },
  },
  {
    name: 'string widened to string or null',
    old: order,
    new: variant(order, [
      ['properties', 'note', 'type'],
      ['string', 'null'],
    ]),
    backward: true,
    forward: false,
    rules: { forward: 'type-widened' },
    samples: [{ id: 'o', amount: 1, note: null }],
  },
  {
    name: 'type list rewritten as anyOf of the same types',
    old: { type: ['string', 'null'], maxLength: 5 },
    new: { anyOf: [{ type: 'string', maxLength: 5 }, { type: 'null' }] },
    backward: true,
    forward: true,
    samples: [null, 'abc', 'abcdef', 3],
  },
  {
    name: 'maximum raised',
    old: order,
    new: variant(order, [['properties', 'amount', 'maximum'], 20000]),
    backward: true,
    forward: false,
    rules: { forward: 'maximum-raised' },
    samples: [{ id: 'o', amount: 15000 }],
  },
  {
    name: 'maximum lowered',
    old: order,
    new: variant(order, [['properties', 'amount', 'maximum'], 5000]),
    backward: false,
    forward: true,
    rules: { backward: 'maximum-lowered' },
  },
  {
    name: 'minimum lowered',
    old: order,
    new: variant(order, [['properties', 'amount', 'minimum'], -100]),
    backward: true,
    forward: false,
    rules: { forward: 'minimum-lowered' },
    samples: [{ id: 'o', amount: -50 }],
  },
  {
    name: 'maximum added',
    old: { type: 'integer' },
    new: { type: 'integer', maximum: 100 },
    backward: false,
    forward: true,
    rules: { backward: 'maximum-added' },
    samples: [5, 100, 101],
  },
  {
    name: 'inclusive maximum made exclusive',
    old: { type: 'number', maximum: 10 },
    new: { type: 'number', exclusiveMaximum: 10 },
    backward: false,
    forward: true,
    rules: { backward: 'maximum-lowered' },
    samples: [9.99, 10],
  },
  {
    name: 'integer exclusiveMaximum 10 rewritten as maximum 9',
    old: { type: 'integer', exclusiveMaximum: 10 },
    new: { type: 'integer', maximum: 9 },
    backward: true,
    forward: true,
    samples: [9, 10, -3],
  },
  {
    name: 'draft-04 boolean exclusiveMaximum rewritten in the numeric style',
    old: { type: 'number', maximum: 10, exclusiveMaximum: true },
    new: { $schema: DRAFT_07, type: 'number', exclusiveMaximum: 10 },
    backward: true,
    forward: true,
    validate: false,
  },
  {
    name: 'multipleOf relaxed from 10 to 5 on bounded integers',
    old: { type: 'integer', minimum: 0, maximum: 1_000_000, multipleOf: 10 },
    new: { type: 'integer', minimum: 0, maximum: 1_000_000, multipleOf: 5 },
    backward: true,
    forward: false,
    rules: { forward: 'multiple-of-changed' },
    samples: [10, 15, 20, 1_000_000],
  },
  {
    name: 'multipleOf tightened from 5 to 10 on bounded integers',
    old: { type: 'integer', minimum: 0, maximum: 1_000_000, multipleOf: 5 },
    new: { type: 'integer', minimum: 0, maximum: 1_000_000, multipleOf: 10 },
    backward: false,
    forward: true,
    rules: { backward: 'multiple-of-changed' },
    samples: [10, 15, 20],
  },
  {
    name: 'multipleOf relaxed on unbounded numbers (floating point: unprovable)',
    old: { type: 'number', multipleOf: 10 },
    new: { type: 'number', multipleOf: 5 },
    backward: false,
    forward: false,
    rules: { backward: 'multiple-of-changed' },
  },
  {
    name: 'decimal multipleOf 0.01 to 0.001 (Ajv refuses 0.35 under 0.001)',
    old: { type: 'number', multipleOf: 0.01 },
    new: { type: 'number', multipleOf: 0.001 },
    backward: false,
    forward: false,
    rules: { backward: 'multiple-of-changed' },
    samples: [0.35, 0.5, 1.25],
  },
  {
    name: 'multipleOf kept while the range grows',
    old: { type: 'number', multipleOf: 0.01, maximum: 100 },
    new: { type: 'number', multipleOf: 0.01, maximum: 1000 },
    backward: true,
    forward: false,
    rules: { forward: 'maximum-raised' },
    samples: [0.35, 99.99, 150.5],
  },
  {
    name: 'minLength lowered',
    old: order,
    new: variant(order, [['properties', 'id', 'minLength'], 0]),
    backward: true,
    forward: false,
    rules: { forward: 'min-length-lowered' },
    samples: [{ id: '', amount: 1 }],
  },
  {
    name: 'maxLength lowered',
    old: order,
    new: variant(order, [['properties', 'note', 'maxLength'], 50]),
    backward: false,
    forward: true,
    rules: { backward: 'max-length-lowered' },
  },
  {
    name: 'numeric format added',
    old: { type: 'integer' },
    new: { type: 'integer', format: 'int32' },
    backward: false,
    forward: true,
    rules: { backward: 'format-added' },
    samples: [1, 2 ** 40],
  },
  {
    name: 'pattern added',
    old: order,
    new: variant(order, [['properties', 'id', 'pattern'], '^o-[0-9]+$']),
    backward: false,
    forward: true,
    rules: { backward: 'pattern-added' },
    samples: [{ id: 'o-1', amount: 1 }],
  },
  {
    name: 'pattern changed (wider in fact, but regex inclusion is not proven)',
    old: { type: 'string', pattern: '^[A-Z]{3}$' },
    new: { type: 'string', pattern: '^[A-Z]+$' },
    backward: false,
    forward: false,
    rules: { backward: 'pattern-changed', forward: 'pattern-changed' },
  },
  {
    name: 'format added',
    old: { type: 'string' },
    new: { type: 'string', format: 'email' },
    backward: false,
    forward: true,
    rules: { backward: 'format-added' },
    samples: ['x@y.io', 'nope'],
  },
  {
    name: 'format removed',
    old: { type: 'string', format: 'date' },
    new: { type: 'string' },
    backward: true,
    forward: false,
    rules: { forward: 'format-removed' },
    samples: ['2024-05-01', 'later'],
  },
  {
    name: 'additionalProperties opened',
    old: closedOrder,
    new: order,
    backward: true,
    forward: false,
    rules: { forward: 'additional-properties-opened' },
    samples: [{ id: 'o', amount: 1, extra: true }],
  },
  {
    name: 'additionalProperties relaxed from false to strings',
    old: closedOrder,
    new: variant(closedOrder, [['additionalProperties'], { type: 'string' }]),
    backward: true,
    forward: false,
    samples: [
      { id: 'o', amount: 1, tag: 'x' },
      { id: 'o', amount: 1, tag: 3 },
    ],
  },
  {
    name: 'additionalProperties schema widened',
    old: { type: 'object', additionalProperties: { type: 'string' } },
    new: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
    backward: true,
    forward: false,
    rules: { forward: 'type-widened' },
    samples: [{ a: 'x' }, { a: 1 }, { a: null }],
  },
  {
    name: 'array items widened',
    old: { type: 'array', items: { type: 'string' } },
    new: { type: 'array', items: { type: ['string', 'number'] } },
    backward: true,
    forward: false,
    rules: { forward: 'type-widened' },
    samples: [['a'], ['a', 1], [null]],
  },
  {
    name: 'minItems lowered',
    old: { type: 'array', items: { type: 'string' }, minItems: 1 },
    new: { type: 'array', items: { type: 'string' } },
    backward: true,
    forward: false,
    rules: { forward: 'min-items-lowered' },
  },
  {
    name: 'maxItems lowered',
    old: { type: 'array', maxItems: 10 },
    new: { type: 'array', maxItems: 5 },
    backward: false,
    forward: true,
    rules: { backward: 'max-items-lowered' },
    samples: [[1, 2, 3, 4, 5, 6], [1]],
  },
  {
    name: 'uniqueItems added',
    old: { type: 'array', items: { type: 'string' } },
    new: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    backward: false,
    forward: true,
    rules: { backward: 'unique-items-added' },
    samples: [
      ['a', 'a'],
      ['a', 'b'],
    ],
  },
  {
    name: 'draft-07 tuple rewritten with 2020-12 prefixItems',
    old: { $schema: DRAFT_07, type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false },
    new: { $schema: DRAFT_2020, type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false },
    backward: true,
    forward: true,
    samples: [['a', 1], ['a'], ['a', 1, 2], [1, 'a']],
  },
  {
    name: 'tuple gains an optional trailing element',
    old: { type: 'array', prefixItems: [{ type: 'string' }], items: false },
    new: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false },
    backward: true,
    forward: false,
    rules: { forward: 'items-opened' },
    samples: [['a'], ['a', 1], ['a', 'b']],
  },
  {
    name: 'inline subschema moved to $defs',
    old: order,
    new: {
      $defs: { money: { type: 'number', minimum: 0, maximum: 10000 } },
      ...variant(order, [['properties', 'amount'], { $ref: '#/$defs/money' }]),
    },
    backward: true,
    forward: true,
  },
  {
    name: 'draft-07 definitions target widened',
    old: {
      $schema: DRAFT_07,
      definitions: { code: { type: 'string', maxLength: 3 } },
      type: 'object',
      properties: { code: { $ref: '#/definitions/code' } },
    },
    new: {
      $schema: DRAFT_07,
      definitions: { code: { type: 'string', maxLength: 8 } },
      type: 'object',
      properties: { code: { $ref: '#/definitions/code' } },
    },
    backward: true,
    forward: false,
    rules: { forward: 'max-length-raised' },
    samples: [{ code: 'abc' }, { code: 'abcdef' }],
  },
  {
    name: 'referenced object made nullable with anyOf',
    old: {
      $defs: { address: { type: 'object', properties: { city: { type: 'string' } } } },
      type: 'object',
      properties: { address: { $ref: '#/$defs/address' } },
    },
    new: {
      $defs: { address: { type: 'object', properties: { city: { type: 'string' } } } },
      type: 'object',
      properties: { address: { anyOf: [{ $ref: '#/$defs/address' }, { type: 'null' }] } },
    },
    backward: true,
    forward: false,
    rules: { forward: 'type-widened' },
    samples: [{ address: null }, { address: { city: 'Bern' } }],
  },
  {
    name: 'discriminated oneOf gains a variant',
    old: { oneOf: [variantA, variantB] },
    new: { oneOf: [variantA, variantB, variantC] },
    backward: true,
    forward: false,
    samples: [{ kind: 'card', last4: '1234' }, { kind: 'iban', iban: 'CH00' }, { kind: 'cash' }, { kind: 'card' }],
  },
  {
    name: 'oneOf with overlapping branches (short strings match both, so they are refused)',
    old: { type: 'string' },
    new: { oneOf: [{ type: 'string' }, { type: 'string', maxLength: 5 }] },
    backward: false,
    forward: true,
    rules: { backward: 'unprovable' },
    samples: ['abc', 'abcdefgh'],
  },
  {
    name: 'not constraint removed',
    old: { type: 'string', not: { enum: ['admin', 'root'] } },
    new: { type: 'string' },
    backward: true,
    forward: false,
    rules: { forward: 'unprovable' },
    samples: ['admin', 'ada'],
  },
  {
    name: 'constraints split into allOf',
    old: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
    new: { allOf: [{ type: 'object', required: ['a'] }, { properties: { a: { type: 'string' } } }] },
    backward: true,
    forward: true,
    samples: [{ a: 'x' }, { a: 1 }, {}],
  },
  {
    name: 'if/then/else kept, description added',
    old: {
      type: 'object',
      if: { properties: { country: { const: 'CH' } }, required: ['country'] },
      then: { required: ['canton'] },
      else: { required: ['state'] },
    },
    new: {
      type: 'object',
      description: 'Address',
      if: { properties: { country: { const: 'CH' } }, required: ['country'] },
      then: { required: ['canton'] },
      else: { required: ['state'] },
    },
    backward: true,
    forward: true,
    samples: [{ country: 'CH', canton: 'BE' }, { country: 'US', state: 'NY' }, { country: 'CH' }, {}],
  },
  {
    name: 'true schema replaced by false',
    old: true,
    new: false,
    backward: false,
    forward: true,
    rules: { backward: 'schema-closed' },
  },
  {
    name: 'false schema replaced by a real one',
    old: false,
    new: { type: 'string' },
    backward: true,
    forward: false,
    rules: { forward: 'schema-opened' },
  },
  {
    name: 'patternProperties kept, additionalProperties closed',
    old: { type: 'object', patternProperties: { '^x-': { type: 'string' } } },
    new: { type: 'object', patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false },
    backward: false,
    forward: true,
    rules: { backward: 'additional-properties-closed' },
    samples: [{ 'x-a': 'v' }, { other: 1 }],
  },
  {
    name: 'patternProperties schema widened',
    old: { type: 'object', patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false },
    new: { type: 'object', patternProperties: { '^x-': { type: ['string', 'boolean'] } }, additionalProperties: false },
    backward: true,
    forward: false,
    samples: [{ 'x-a': 'v' }, { 'x-a': true }],
  },
  {
    name: 'patternProperties pattern changed',
    old: { type: 'object', patternProperties: { '^x-': { type: 'string' } } },
    new: { type: 'object', patternProperties: { '^x_': { type: 'string' } } },
    backward: false,
    forward: false,
    rules: { backward: 'unprovable' },
  },
  {
    name: 'minProperties lowered',
    old: { type: 'object', minProperties: 2 },
    new: { type: 'object', minProperties: 1 },
    backward: true,
    forward: false,
    rules: { forward: 'min-properties-lowered' },
    samples: [{ a: 1 }, { a: 1, b: 2 }],
  },
  {
    name: 'maxProperties added',
    old: { type: 'object' },
    new: { type: 'object', maxProperties: 3 },
    backward: false,
    forward: true,
    rules: { backward: 'max-properties-added' },
  },
  {
    name: 'propertyNames added',
    old: { type: 'object', additionalProperties: { type: 'integer' } },
    new: { type: 'object', additionalProperties: { type: 'integer' }, propertyNames: { pattern: '^[a-z]+$' } },
    backward: false,
    forward: true,
    rules: { backward: 'property-names-added' },
    samples: [{ abc: 1 }, { ABC: 1 }],
  },
  {
    name: 'dependentRequired added',
    old: { type: 'object', properties: { card: { type: 'string' }, cvc: { type: 'string' } } },
    new: {
      type: 'object',
      properties: { card: { type: 'string' }, cvc: { type: 'string' } },
      dependentRequired: { card: ['cvc'] },
    },
    backward: false,
    forward: true,
    rules: { backward: 'dependent-required-added' },
    samples: [{ card: '1' }, { card: '1', cvc: '2' }],
  },
  {
    name: 'draft-07 dependencies removed',
    old: { $schema: DRAFT_07, type: 'object', dependencies: { card: ['cvc'] } },
    new: { $schema: DRAFT_07, type: 'object' },
    backward: true,
    forward: false,
    rules: { forward: 'dependent-required-removed' },
    samples: [{ card: '1' }, { card: '1', cvc: '2' }],
  },
  {
    name: 'contains added',
    old: { type: 'array', items: { type: 'string' } },
    new: { type: 'array', items: { type: 'string' }, contains: { const: 'primary' } },
    backward: false,
    forward: true,
    rules: { backward: 'contains-added' },
    samples: [['primary'], ['other'], []],
  },
  {
    name: 'recursive tree: leaf type widened',
    old: tree({ type: 'integer' }),
    new: tree({ type: 'number' }),
    backward: true,
    forward: false,
    rules: { forward: 'type-widened' },
    samples: [
      { value: 1, children: [{ value: 2 }] },
      { value: 1, children: [{ value: 2.5 }] },
    ],
  },
  {
    name: 'recursive tree: leaf type narrowed',
    old: tree({ type: 'number' }),
    new: tree({ type: 'integer' }),
    backward: false,
    forward: true,
    rules: { backward: 'type-narrowed' },
    samples: [
      { value: 1, children: [{ value: 2 }] },
      { value: 1, children: [{ value: 2.5 }] },
    ],
  },
  {
    name: 'nested property maxLength lowered',
    old: {
      type: 'object',
      properties: { address: { type: 'object', properties: { city: { type: 'string', maxLength: 80 } } } },
    },
    new: {
      type: 'object',
      properties: { address: { type: 'object', properties: { city: { type: 'string', maxLength: 40 } } } },
    },
    backward: false,
    forward: true,
    rules: { backward: 'max-length-lowered' },
  },
  {
    name: 'type constraint removed',
    old: { type: 'string' },
    new: {},
    backward: true,
    forward: false,
    rules: { forward: 'type-widened' },
  },
  {
    name: 'enum replaced by a string type that covers it',
    old: { enum: ['a', 'b'] },
    new: { type: 'string', maxLength: 1 },
    backward: true,
    forward: false,
    rules: { forward: 'enum-removed' },
    samples: ['a', 'c', 'cc'],
  },
  {
    name: 'boolean type rewritten as enum [true, false]',
    old: { type: 'boolean' },
    new: { enum: [true, false] },
    backward: true,
    forward: true,
    samples: [true, false, 0],
  },
  {
    name: 'remote $ref (cannot be resolved, so nothing is proven)',
    old: { type: 'string' },
    new: { $ref: 'https://schemas.example.com/string.json' },
    backward: false,
    forward: false,
    rules: { backward: 'unprovable' },
    validate: false,
  },
  {
    name: 'unknown keyword added',
    old: { type: 'string' },
    new: { type: 'string', javaType: 'java.lang.String' },
    backward: false,
    forward: true,
    rules: { backward: 'unprovable' },
  },
  {
    name: 'vendor keyword (x-) added',
    old: { type: 'string' },
    new: { type: 'string', 'x-java-type': 'java.lang.String' },
    backward: true,
    forward: true,
  },
  {
    name: 'keywords next to $ref in draft-07 are read both ways',
    old: { $schema: DRAFT_07, definitions: { s: { type: 'string' } }, $ref: '#/definitions/s', maxLength: 5 },
    new: { $defs: { s: { type: 'string' } }, $ref: '#/$defs/s', maxLength: 5 },
    backward: false,
    forward: true,
    rules: { backward: 'max-length-added' },
    samples: ['abc', 'abcdefgh'],
  },
];

// ------------------------------------------------------------------------------------------------
// Mode expectations
// ------------------------------------------------------------------------------------------------

function expectedFor(mode: CompatibilityMode, backward: boolean, forward: boolean): boolean {
  if (mode === 'NONE') return true;
  if (mode.startsWith('BACKWARD')) return backward;
  if (mode.startsWith('FORWARD')) return forward;
  return backward && forward;
}

function rulesOf(candidate: JsonSchema, previous: JsonSchema, mode: CompatibilityMode): string[] {
  return checkCompatibility(candidate, [{ version: 1, schema: previous }], mode).incompatibilities.map((i) => i.rule);
}

describe('schema compatibility: the table of real-world changes', () => {
  it('has at least 40 rows with unique names', () => {
    assert.ok(rows.length >= 40, `only ${rows.length} rows`);
    assert.equal(new Set(rows.map((r) => r.name)).size, rows.length);
  });

  for (const row of rows) {
    it(`${row.name}: every mode`, () => {
      for (const mode of COMPATIBILITY_MODES) {
        const report = checkCompatibility(row.new, [{ version: 1, schema: row.old }], mode);
        const expected = expectedFor(mode, row.backward, row.forward);
        assert.equal(
          report.compatible,
          expected,
          `${mode}: expected ${expected ? 'compatible' : 'incompatible'}\n${describeReport(report)}`,
        );
        assert.equal(report.mode, mode);
        assert.equal(report.compatible, report.incompatibilities.length === 0);
        for (const problem of report.incompatibilities) {
          assert.equal(problem.againstVersion, 1);
          assert.ok(
            mode.includes(problem.direction.toUpperCase()) || mode.startsWith('FULL'),
            `${mode} reported a ${problem.direction} problem`,
          );
          assert.match(problem.pointer, /^(\/.*)?$/);
          assert.ok(problem.message.includes(`(${problem.rule})`), `message names its rule: ${problem.message}`);
        }
      }
      if (row.rules?.backward)
        assert.ok(
          rulesOf(row.new, row.old, 'BACKWARD').includes(row.rules.backward),
          `backward rules: ${rulesOf(row.new, row.old, 'BACKWARD').join(', ')}`,
        );
      if (row.rules?.forward)
        assert.ok(
          rulesOf(row.new, row.old, 'FORWARD').includes(row.rules.forward),
          `forward rules: ${rulesOf(row.new, row.old, 'FORWARD').join(', ')}`,
        );
    });
  }
});

// ------------------------------------------------------------------------------------------------
// Transitive modes over three-version histories
// ------------------------------------------------------------------------------------------------

interface History {
  name: string;
  versions: [JsonSchema, JsonSchema, JsonSchema];
  expected: Record<CompatibilityMode, boolean>;
}

const amountWithMaximum = (maximum: number): Schema => ({
  type: 'object',
  properties: { amount: { type: 'number', maximum } },
});
const status = (...values: string[]): Schema => ({
  type: 'object',
  properties: { status: { enum: values } },
  required: ['status'],
});

const histories: History[] = [
  {
    name: 'v1→v2 widens, v3 narrows back below v1',
    versions: [amountWithMaximum(100), amountWithMaximum(200), amountWithMaximum(50)],
    expected: {
      NONE: true,
      BACKWARD: false,
      BACKWARD_TRANSITIVE: false,
      FORWARD: true,
      FORWARD_TRANSITIVE: true,
      FULL: false,
      FULL_TRANSITIVE: false,
    },
  },
  {
    name: 'v3 accepts everything v2 did but lost a value only v1 had',
    versions: [status('open', 'closed'), status('open'), status('open', 'archived')],
    expected: {
      NONE: true,
      BACKWARD: true,
      BACKWARD_TRANSITIVE: false,
      FORWARD: false,
      FORWARD_TRANSITIVE: false,
      FULL: false,
      FULL_TRANSITIVE: false,
    },
  },
  {
    name: 'v2 narrows, v3 sits between v1 and v2',
    versions: [amountWithMaximum(100), amountWithMaximum(50), amountWithMaximum(80)],
    expected: {
      NONE: true,
      BACKWARD: true,
      BACKWARD_TRANSITIVE: false,
      FORWARD: false,
      FORWARD_TRANSITIVE: false,
      FULL: false,
      FULL_TRANSITIVE: false,
    },
  },
  {
    name: 'v3 inside v1 but not inside v2',
    versions: [amountWithMaximum(50), amountWithMaximum(200), amountWithMaximum(100)],
    expected: {
      NONE: true,
      BACKWARD: false,
      BACKWARD_TRANSITIVE: false,
      FORWARD: true,
      FORWARD_TRANSITIVE: false,
      FULL: false,
      FULL_TRANSITIVE: false,
    },
  },
  {
    name: 'v3 inside v2 but not inside v1',
    versions: [status('open', 'closed'), status('open', 'closed', 'archived'), status('open', 'archived')],
    expected: {
      NONE: true,
      BACKWARD: false,
      BACKWARD_TRANSITIVE: false,
      FORWARD: true,
      FORWARD_TRANSITIVE: false,
      FULL: false,
      FULL_TRANSITIVE: false,
    },
  },
  {
    name: 'successive widenings',
    versions: [
      { type: 'integer', maximum: 10 },
      { type: 'number', maximum: 10 },
      { type: 'number', maximum: 20 },
    ],
    expected: {
      NONE: true,
      BACKWARD: true,
      BACKWARD_TRANSITIVE: true,
      FORWARD: false,
      FORWARD_TRANSITIVE: false,
      FULL: false,
      FULL_TRANSITIVE: false,
    },
  },
  {
    name: 'widened, then narrowed exactly back to v1',
    versions: [status('open'), status('open', 'closed'), status('open')],
    expected: {
      NONE: true,
      BACKWARD: false,
      BACKWARD_TRANSITIVE: false,
      FORWARD: true,
      FORWARD_TRANSITIVE: true,
      FULL: false,
      FULL_TRANSITIVE: false,
    },
  },
  {
    name: 'documentation-only changes',
    versions: [order, variant(order, [['title'], 'Order']), variant(order, [['description'], 'An order'])],
    expected: {
      NONE: true,
      BACKWARD: true,
      BACKWARD_TRANSITIVE: true,
      FORWARD: true,
      FORWARD_TRANSITIVE: true,
      FULL: true,
      FULL_TRANSITIVE: true,
    },
  },
];

describe('schema compatibility: transitive modes over three versions', () => {
  for (const history of histories) {
    it(history.name, () => {
      const [v1, v2, v3] = history.versions;
      const previous = [
        { version: 1, schema: v1 },
        { version: 2, schema: v2 },
      ];
      for (const mode of COMPATIBILITY_MODES) {
        const report = checkCompatibility(v3, previous, mode);
        assert.equal(report.compatible, history.expected[mode], `${mode}\n${describeReport(report)}`);
        if (!mode.endsWith('TRANSITIVE')) {
          assert.ok(
            report.incompatibilities.every((i) => i.againstVersion === 2),
            `${mode} checks only the latest version`,
          );
        }
      }
    });
  }

  it('reports each earlier version it fails against', () => {
    const previous = [
      { version: 1, schema: amountWithMaximum(100) },
      { version: 2, schema: amountWithMaximum(200) },
    ];
    const report = checkCompatibility(amountWithMaximum(50), previous, 'BACKWARD_TRANSITIVE');
    assert.deepEqual(
      report.incompatibilities.map((i) => [i.againstVersion, i.rule, i.pointer]),
      [
        [1, 'maximum-lowered', '/properties/amount/maximum'],
        [2, 'maximum-lowered', '/properties/amount/maximum'],
      ],
    );
  });
});

// ------------------------------------------------------------------------------------------------
// Reports, pointers and messages
// ------------------------------------------------------------------------------------------------

describe('schema compatibility: reports', () => {
  it('names the change, its rule and the data it affects', () => {
    const report = checkCompatibility(
      variant(order, [['required'], ['id', 'amount', 'note']]),
      [{ version: 3, schema: order }],
      'BACKWARD',
    );
    assert.deepEqual(report.incompatibilities, [
      {
        direction: 'backward',
        againstVersion: 3,
        pointer: '/required',
        rule: 'required-added',
        message:
          'property "note" became required (required-added) — data without it, valid under version 3, is now refused',
      },
    ]);
  });

  it('subschemaProblems reads sub as the earlier schema', () => {
    assert.deepEqual(subschemaProblems({ type: 'object' }, { type: 'object', required: ['price'] }), [
      {
        pointer: '/required',
        rule: 'required-added',
        message: 'property "price" became required (required-added) — data without it, valid before, is now refused',
      },
    ]);
  });

  it('forward problems point into the candidate and name the widening', () => {
    const report = checkCompatibility(
      variant(order, [['properties', 'amount', 'maximum'], 20000]),
      [{ version: 1, schema: order }],
      'FORWARD',
    );
    assert.equal(report.incompatibilities.length, 1);
    const [problem] = report.incompatibilities;
    assert.equal(problem?.direction, 'forward');
    assert.equal(problem?.pointer, '/properties/amount/maximum');
    assert.equal(problem?.rule, 'maximum-raised');
    assert.match(
      problem?.message ?? '',
      /^property "amount" had its maximum raised from 10000 to 20000 \(maximum-raised\) — data where "amount" is above 10000, now accepted, is refused by readers of version 1$/,
    );
  });

  it('points at the real location behind a $ref', () => {
    const problems = subschemaProblems(tree({ type: 'number' }), tree({ type: 'integer' }));
    assert.deepEqual(
      problems.map((p) => [p.pointer, p.rule]),
      [['/$defs/node/properties/value/type', 'type-narrowed']],
    );
  });

  it('escapes property names in pointers', () => {
    const problems = subschemaProblems(
      { type: 'object' },
      { type: 'object', required: ['a/b'], properties: { 'a/b': { type: 'string' } } },
    );
    assert.ok(
      problems.some((p) => p.pointer === '/properties/a~1b'),
      JSON.stringify(problems),
    );
  });

  it('describes incompatibilities and reports on one line each', () => {
    const report = checkCompatibility({ type: 'integer' }, [{ version: 4, schema: { type: 'number' } }], 'BACKWARD');
    const [problem] = report.incompatibilities;
    assert.ok(problem);
    assert.match(
      describeIncompatibility(problem),
      /^backward vs v4 at \/type: the data no longer accepts non-integer number \(type-narrowed\)/,
    );
    assert.match(describeReport(report), /^incompatible under BACKWARD \(1 problem\):\n- backward vs v4/);
    assert.equal(describeReport(checkCompatibility({ type: 'number' }, [], 'FULL')), 'compatible under FULL');
  });

  it('NONE and empty histories are always compatible', () => {
    assert.equal(checkCompatibility(false, [{ version: 1, schema: true }], 'NONE').compatible, true);
    for (const mode of COMPATIBILITY_MODES) assert.equal(checkCompatibility(false, [], mode).compatible, true);
  });

  it('knows its modes and refuses unknown ones', () => {
    assert.deepEqual(
      [...COMPATIBILITY_MODES],
      ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'],
    );
    assert.equal(isCompatibilityMode('FULL'), true);
    assert.equal(isCompatibilityMode('full'), false);
    assert.throws(() => checkCompatibility(true, [], 'SIDEWAYS' as CompatibilityMode), RangeError);
  });
});

// ------------------------------------------------------------------------------------------------
// Corner cases of the subset relation
// ------------------------------------------------------------------------------------------------

function proven(sub: JsonSchema, sup: JsonSchema): boolean {
  return subschemaProblems(sub, sup).length === 0;
}

function rules(sub: JsonSchema, sup: JsonSchema): string[] {
  return subschemaProblems(sub, sup).map((p) => p.rule);
}

describe('schema compatibility: the subset relation', () => {
  it('handles boolean schemas', () => {
    assert.equal(proven(false, { type: 'string' }), true);
    assert.equal(proven({ type: 'string' }, true), true);
    assert.equal(proven(true, {}), true);
    assert.deepEqual(rules({ type: 'string' }, false), ['schema-closed']);
    assert.equal(proven({ type: 'string', minLength: 3, maxLength: 2 }, false), false); // emptiness by lengths is not searched for
    assert.equal(proven({ type: 'string', enum: [1, 2] }, false), true); // but an empty enum is
  });

  it('treats integer as a subset of number, and multipleOf 1 as integer', () => {
    assert.equal(proven({ type: 'integer' }, { type: 'number' }), true);
    assert.equal(proven({ type: 'number', multipleOf: 1 }, { type: 'integer' }), true);
    assert.equal(proven({ type: 'number', multipleOf: 0.5 }, { type: 'integer' }), false);
    assert.equal(proven({ type: 'integer', minimum: 0, maximum: 2 ** 40 }, { type: 'number', multipleOf: 1 }), true);
  });

  it("follows the validator's floating-point multipleOf, not exact decimals", () => {
    // Ajv divides in floating point: these are the values that break the exact-decimal reading.
    assert.equal(validatorFor({ multipleOf: 0.01 })(0.35), true);
    assert.equal(validatorFor({ multipleOf: 0.001 })(0.35), false);
    assert.equal(validatorFor({ type: 'number', multipleOf: 2 })(5e-324), true);
    assert.equal(validatorFor({ type: 'integer' })(1e21), true);
    assert.equal(validatorFor({ multipleOf: 1 })(1e21), false);
    assert.equal(proven({ multipleOf: 0.01 }, { multipleOf: 0.001 }), false);
    assert.equal(proven({ type: 'number', multipleOf: 2 }, { type: 'integer' }), false);
    assert.equal(proven({ type: 'integer' }, { multipleOf: 1 }), false);
    assert.equal(proven({ enum: [0.35, 0.5] }, { multipleOf: 0.01 }), true);
    assert.equal(proven({ enum: [0.35] }, { multipleOf: 0.001 }), false);
    assert.match(subschemaProblems({ multipleOf: 0.01 }, { multipleOf: 0.001 })[0]?.message ?? '', /floating point/);
  });

  it('decides finite sets value by value', () => {
    assert.equal(proven({ enum: ['EUR', 'USD'] }, { type: 'string', pattern: '^[A-Z]{3}$' }), true);
    assert.equal(proven({ enum: ['EUR', 'us'] }, { type: 'string', pattern: '^[A-Z]{3}$' }), false);
    assert.equal(proven({ type: 'null' }, { enum: [null, 1] }), true);
    assert.equal(proven({ enum: [1, 2, 3] }, { type: 'integer', minimum: 1, maximum: 3 }), true);
  });

  it('reads draft-04 and draft-06 exclusive bounds', () => {
    assert.equal(proven({ maximum: 5, exclusiveMaximum: true }, { exclusiveMaximum: 5 }), true);
    assert.equal(proven({ maximum: 5 }, { maximum: 5, exclusiveMaximum: true }), false);
    assert.equal(proven({ minimum: 0, exclusiveMinimum: true }, { exclusiveMinimum: 0 }), true);
    assert.equal(proven({ type: 'integer', exclusiveMinimum: 0 }, { type: 'integer', minimum: 1 }), true);
  });

  it('resolves local references and guards against cycles', () => {
    const linked = (leaf: string): Schema => ({
      definitions: {
        item: { type: 'object', properties: { value: { type: leaf }, next: { $ref: '#/definitions/item' } } },
      },
      $ref: '#/definitions/item',
    });
    assert.equal(proven(linked('integer'), linked('number')), true);
    assert.equal(proven(linked('number'), linked('integer')), false);
    assert.deepEqual(
      rules({ type: 'string' }, { $defs: { loop: { allOf: [{ $ref: '#/$defs/loop' }] } }, $ref: '#/$defs/loop' }),
      ['unprovable'],
    );
    assert.deepEqual(rules({ type: 'string' }, { $ref: '#/$defs/missing' }), ['unprovable']);
  });

  it('does not follow references inside embedded resources', () => {
    const embedded = {
      $defs: { s: { $id: 'https://example.com/s', $defs: { x: { type: 'string' } }, $ref: '#/$defs/x' } },
      $ref: '#/$defs/s',
    };
    assert.deepEqual(rules({ type: 'string' }, embedded), ['unprovable']);
  });

  it('proves oneOf branches exclusive through a discriminator, and refuses when it cannot', () => {
    assert.equal(proven(variantA, { oneOf: [variantA, variantB] }), true);
    assert.equal(proven({ type: 'string' }, { oneOf: [{ type: 'string' }, { type: 'number' }] }), true);
    assert.match(
      subschemaProblems({ type: 'integer' }, { oneOf: [{ type: 'number' }, { type: 'integer', minimum: 5 }] })[0]
        ?.message ?? '',
      /cannot prove that data matches only one branch/,
    );
  });

  it('handles not on both sides', () => {
    assert.equal(proven({ type: 'string' }, { not: { type: 'number' } }), true);
    assert.equal(proven({ not: { type: ['string', 'number'] } }, { not: { type: 'string' } }), true);
    assert.equal(proven({ not: { type: 'string' } }, { not: { type: ['string', 'number'] } }), false);
  });

  it('handles if/then/else when the condition is decided', () => {
    const conditional = { if: { type: 'string' }, then: { maxLength: 3 }, else: { type: 'number' } };
    assert.equal(proven({ type: 'string', maxLength: 2 }, conditional), true);
    assert.equal(proven({ type: 'number' }, conditional), true);
    assert.equal(proven({ type: 'string' }, conditional), false);
    assert.equal(proven({ type: 'boolean' }, conditional), false);
  });

  it('reads additionalProperties by accepted data', () => {
    const open = { type: 'object', properties: { a: { type: 'string' } } };
    assert.equal(proven({ ...open, additionalProperties: false }, open), true);
    assert.equal(proven(open, { type: 'object' }), true);
    assert.deepEqual(rules(open, { ...open, additionalProperties: false }), ['additional-properties-closed']);
    assert.equal(
      proven(
        { type: 'object', additionalProperties: false },
        { type: 'object', properties: { a: { type: 'number' } }, additionalProperties: false },
      ),
      true,
    );
  });

  it('compares unevaluatedProperties like additionalProperties when nothing else evaluates', () => {
    assert.equal(
      proven({ type: 'object', additionalProperties: false }, { type: 'object', unevaluatedProperties: false }),
      true,
    );
    assert.equal(proven({ type: 'object' }, { type: 'object', unevaluatedProperties: false }), false);
    assert.deepEqual(
      rules({ type: 'object' }, { allOf: [{ properties: { a: true } }], unevaluatedProperties: false }),
      ['unprovable'],
    );
  });

  it('reads prefixItems and tuple items with the rest of the array', () => {
    assert.equal(
      proven({ type: 'array', prefixItems: [{ const: 1 }], items: false }, { type: 'array', maxItems: 1 }),
      true,
    );
    assert.equal(
      proven(
        { type: 'array', prefixItems: [{ type: 'integer' }], items: { type: 'string' } },
        { type: 'array', items: { type: ['integer', 'string'] } },
      ),
      true,
    );
    assert.equal(
      proven({ type: 'array', items: { type: 'string' } }, { type: 'array', prefixItems: [{ type: 'string' }] }),
      true,
    );
    assert.equal(
      proven(
        { type: 'array', items: { type: 'string' }, minItems: 1 },
        { type: 'array', contains: { type: 'string' } },
      ),
      true,
    );
  });

  it('ignores keywords the draft does not have, as the validator does', () => {
    // draft-07 has no dependentRequired: it never bound the earlier data
    assert.equal(
      proven(
        { $schema: DRAFT_07, type: 'object', dependentRequired: { a: ['b'] } },
        { type: 'object', dependentRequired: { a: ['b'] } },
      ),
      false,
    );
    assert.equal(
      proven({ type: 'object', dependentRequired: { a: ['b'] } }, { type: 'object', dependentRequired: { a: ['b'] } }),
      true,
    );
    // 2020-12 has no additionalItems
    assert.equal(
      proven(
        { type: 'array', prefixItems: [{ type: 'string' }], additionalItems: false },
        { type: 'array', maxItems: 1 },
      ),
      false,
    );
  });

  it('treats unknown keywords as unprovable unless both sides carry them unchanged', () => {
    assert.deepEqual(rules({ type: 'string' }, { type: 'string', deprecatedSince: 3 }), ['unprovable']);
    assert.equal(proven({ type: 'string', deprecatedSince: 3 }, { type: 'string', deprecatedSince: 3 }), true);
    assert.deepEqual(rules({ type: 'string' }, { type: 'string', $dynamicRef: '#meta' }), ['unprovable']);
  });

  it('stays quick on schemas that explode combinatorially', () => {
    const wide = {
      anyOf: Array.from({ length: 12 }, (_, i) => ({
        type: 'object',
        properties: { [`k${i}`]: { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] } },
      })),
    };
    const nested = {
      $defs: { d: { if: { $ref: '#/$defs/d' }, else: { anyOf: [{ $ref: '#/$defs/d' }, { type: 'number' }] } } },
      $ref: '#/$defs/d',
    };
    const started = performance.now();
    subschemaProblems(wide, { oneOf: wide.anyOf });
    subschemaProblems(nested, { $defs: { d: { if: { $ref: '#/$defs/d' }, else: {} } }, $ref: '#/$defs/d' });
    subschemaProblems({ $defs: { d: { if: { $ref: '#/$defs/d' }, else: {} } }, $ref: '#/$defs/d' }, nested);
    assert.ok(performance.now() - started < 5000, 'analysis is bounded');
  });
});

// ------------------------------------------------------------------------------------------------
// Soundness, checked with the validator Rivulet uses
// ------------------------------------------------------------------------------------------------

type Validator = (data: unknown) => boolean;

// The options of Rivulet's schema compiler: Ajv 2020-12 unless `$schema` says draft-07.
const AJV_OPTIONS = { strict: false, allErrors: false, logger: false as const, validateFormats: true };
const ajv2020 = new Ajv2020(AJV_OPTIONS);
const ajv07 = new Ajv(AJV_OPTIONS);
addFormats.default(ajv2020);
addFormats.default(ajv07);

function validatorFor(schema: JsonSchema): Validator {
  const legacy =
    typeof schema === 'object' && typeof schema.$schema === 'string' && schema.$schema.includes('draft-07');
  const validate = legacy ? ajv07.compile(schema) : ajv2020.compile(schema);
  return (data) => validate(data) === true;
}

const pool: unknown[] = [
  null,
  true,
  false,
  0,
  1,
  -1,
  2.5,
  9,
  10,
  11,
  100,
  10000,
  20000,
  0.01,
  0.125,
  '',
  'a',
  'abc',
  'EUR',
  'USD',
  'GBP',
  'x@y.io',
  '2024-05-01',
  'primary',
  [],
  [1],
  ['a'],
  ['a', 1],
  ['a', 'a'],
  [1, 'a'],
  ['primary', 'x'],
  {},
  { a: 'x' },
  { a: 1 },
  { a: 1, b: 2 },
  { id: 'o1', amount: 10 },
  { id: 'o1', amount: 10, currency: 'EUR' },
  { id: 'o1', amount: 10, currency: 'GBP' },
  { id: 'o1', amount: 10, note: 'hi' },
  { id: 'o1', amount: 10, note: 5 },
  { id: 'o1', amount: 10, extra: 1 },
  { id: 'o1', amount: 20000 },
  { id: '', amount: -5 },
  { id: 'o1' },
  { amount: 3 },
];

/** Property names the schemas mention, so generated objects hit them. */
function namesIn(schema: unknown, out = new Set<string>(['extra'])): Set<string> {
  if (Array.isArray(schema)) for (const item of schema) namesIn(item, out);
  else if (typeof schema === 'object' && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      if (
        key === 'properties' ||
        key === 'patternProperties' ||
        key === 'dependentRequired' ||
        key === 'dependencies'
      ) {
        for (const name of Object.keys(value as object)) out.add(name.replace(/^\^/, ''));
      }
      namesIn(value, out);
    }
  }
  return out;
}

const smallValue = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    1,
    -1,
    2.5,
    5,
    10,
    100,
    'a',
    'abc',
    'EUR',
    'card',
    'primary',
    '',
    'x@y.io',
  ),
  fc.integer({ min: -20, max: 20_000 }),
  fc.string({ maxLength: 6 }),
);

/** Samples near the hand-written ones: a property set, removed or replaced, an item added. */
function nearby(samples: readonly unknown[], names: readonly string[]): fc.Arbitrary<unknown> {
  const edit = fc.tuple(fc.constantFrom('set', 'delete', 'push', 'wrap'), fc.constantFrom(...names), smallValue);
  return fc.tuple(fc.constantFrom(...samples), fc.array(edit, { maxLength: 3 })).map(([sample, edits]) => {
    let value = structuredClone(sample);
    for (const [op, name, inner] of edits) {
      if (op === 'wrap') value = { [name]: value };
      else if (Array.isArray(value) && op === 'push') value = [...value, inner];
      else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const record = { ...(value as Record<string, unknown>) };
        if (op === 'delete') delete record[name];
        else record[name] = inner;
        value = record;
      }
    }
    return value;
  });
}

function assertSound(sub: JsonSchema, sup: JsonSchema, samples: readonly unknown[], label: string): number {
  const inSub = validatorFor(sub);
  const inSup = validatorFor(sup);
  let accepted = 0;
  for (const sample of samples) {
    if (!inSub(sample)) continue;
    accepted++;
    assert.ok(inSup(sample), `${label}: ${JSON.stringify(sample)} is valid under the earlier schema but refused`);
  }
  const names = [...namesIn([sub, sup])];
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue({ maxDepth: 3 }), nearby(samples, names)), (generated) => {
      const value = JSON.parse(JSON.stringify(generated) ?? 'null') as unknown;
      return !inSub(value) || inSup(value);
    }),
    { numRuns: 150, seed: 20240501 },
  );
  return accepted;
}

describe('schema compatibility: soundness against Ajv', () => {
  for (const row of rows.filter((r) => r.validate !== false)) {
    it(`${row.name}: what is claimed compatible really is`, () => {
      const samples = [...pool, ...(row.samples ?? [])];
      const backward = checkCompatibility(row.new, [{ version: 1, schema: row.old }], 'BACKWARD').compatible;
      const forward = checkCompatibility(row.new, [{ version: 1, schema: row.old }], 'FORWARD').compatible;
      let accepted = 0;
      if (backward) accepted += assertSound(row.old, row.new, samples, 'backward');
      if (forward) accepted += assertSound(row.new, row.old, samples, 'forward');
      if (backward || forward)
        assert.ok(
          accepted > 0 || row.old === false || row.new === false,
          'the hand-written samples exercise the claim',
        );
    });
  }

  it('holds on random schema pairs', () => {
    let claims = 0;
    fc.assert(
      fc.property(
        randomSchema,
        fc.integer(),
        fc.array(randomValue, { minLength: 40, maxLength: 40 }),
        (schema, seed, values) => {
          const nearbySchema = mutate(schema, seed);
          for (const [sub, sup] of [
            [schema, nearbySchema],
            [nearbySchema, schema],
          ] as const) {
            let inSub: Validator;
            let inSup: Validator;
            try {
              inSub = validatorFor(sub);
              inSup = validatorFor(sup);
            } catch {
              continue; // not a schema Ajv compiles, so not one Rivulet would register
            }
            if (subschemaProblems(sub, sup).length > 0) continue;
            claims++;
            for (const raw of values) {
              const value = JSON.parse(JSON.stringify(raw)) as unknown;
              let verdicts: [boolean, boolean];
              try {
                verdicts = [inSub(value), inSup(value)];
              } catch {
                continue; // Ajv itself overflows on left-recursive schemas
              }
              assert.ok(
                !verdicts[0] || verdicts[1],
                `unsound:\nsub=${JSON.stringify(sub)}\nsup=${JSON.stringify(sup)}\nvalue=${JSON.stringify(value)}`,
              );
            }
          }
        },
      ),
      { numRuns: 400, seed: 7 },
    );
    assert.ok(claims > 50, `only ${claims} pairs were proven compatible`);
  });
});

// Random schemas over a small vocabulary, so that generated values often fall inside them.
const leafSchema: fc.Arbitrary<Schema> = fc.oneof(
  fc.record({
    type: fc.constantFrom<unknown>(
      'string',
      'integer',
      'number',
      'boolean',
      'null',
      ['string', 'null'],
      ['integer', 'string'],
    ),
  }),
  fc.record({
    enum: fc.uniqueArray(fc.constantFrom<unknown>(1, 2, 'a', 'b', null, true), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ const: fc.constantFrom<unknown>(1, 'a', null) }),
  fc.record(
    {
      type: fc.constantFrom('number', 'integer'),
      minimum: fc.integer({ min: -3, max: 3 }),
      maximum: fc.integer({ min: -3, max: 5 }),
      exclusiveMaximum: fc.integer({ min: -2, max: 5 }),
      multipleOf: fc.constantFrom(1, 2, 0.5, 3, 0.1, 0.01, 0.001),
      format: fc.constantFrom('int32', 'double'),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('string'),
      minLength: fc.nat(3),
      maxLength: fc.nat(4),
      pattern: fc.constantFrom('^a', 'b', '^[ab]*$'),
      format: fc.constantFrom('email', 'date'),
    },
    { requiredKeys: ['type'] },
  ),
);

const bodySchema: fc.Arbitrary<unknown> = fc.letrec<{ s: unknown }>((tie) => ({
  s: fc.oneof(
    { depthSize: 'small' },
    leafSchema,
    fc.boolean(),
    fc.record(
      {
        type: fc.constant('object'),
        properties: fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('s'), { maxKeys: 3 }),
        required: fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { maxLength: 2 }),
        additionalProperties: fc.oneof(fc.boolean(), tie('s')),
        patternProperties: fc.dictionary(fc.constantFrom('^a', '^x'), tie('s'), { maxKeys: 1 }),
        minProperties: fc.nat(2),
        maxProperties: fc.nat(3),
        propertyNames: fc.constantFrom({ maxLength: 1 }, { enum: ['a', 'b'] }),
        dependentRequired: fc.constantFrom({ a: ['b'] }, { b: ['c'] }),
        dependentSchemas: fc.dictionary(fc.constantFrom('a', 'b'), tie('s'), { maxKeys: 1 }),
        dependencies: fc.dictionary(fc.constantFrom('a', 'b'), fc.oneof(tie('s'), fc.constant(['c'])), { maxKeys: 1 }),
        unevaluatedProperties: fc.oneof(fc.boolean(), tie('s')),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        type: fc.constant('array'),
        items: fc.oneof(tie('s'), fc.array(tie('s'), { maxLength: 2 })),
        prefixItems: fc.array(tie('s'), { maxLength: 2 }),
        additionalItems: tie('s'),
        minItems: fc.nat(2),
        maxItems: fc.nat(3),
        uniqueItems: fc.boolean(),
        contains: tie('s'),
        minContains: fc.nat(2),
        maxContains: fc.nat(2),
      },
      { requiredKeys: [] },
    ),
    fc.record({ anyOf: fc.array(tie('s'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ oneOf: fc.array(tie('s'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ allOf: fc.array(tie('s'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ not: tie('s') }),
    fc.record({ if: tie('s'), then: tie('s'), else: tie('s') }, { requiredKeys: ['if'] }),
    fc.constant({ $ref: '#/$defs/d' }),
    fc.record(
      { $ref: fc.constant('#/$defs/d'), type: fc.constantFrom('object', 'string', 'array'), maxLength: fc.nat(2) },
      { requiredKeys: ['$ref'] },
    ),
  ),
})).s;

const randomSchema: fc.Arbitrary<Schema> = fc
  .tuple(bodySchema, bodySchema, fc.constantFrom('none', '2020', '07'))
  .map(([body, definition, draft]) => {
    const base = typeof body === 'object' && body !== null ? { ...(body as Schema) } : { allOf: [body] };
    const dialect = draft === '2020' ? { $schema: DRAFT_2020 } : draft === '07' ? { $schema: DRAFT_07 } : {};
    return { ...dialect, $defs: { d: definition }, ...base };
  });

const randomValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      1,
      2,
      -1,
      1.5,
      3,
      4,
      6,
      'a',
      'b',
      'ab',
      '',
      'abc',
      'x@y.z',
      '2020-01-01',
      'ba',
    ),
    // numbers where floating-point multipleOf and numeric formats part from exact arithmetic
    fc.constantFrom<unknown>(0.35, 0.3, 0.07, 2 ** 40, 1e21, 5e-324, 2.5e-323),
    fc.dictionary(fc.constantFrom('a', 'b', 'c', 'x', 'ab'), tie('v'), { maxKeys: 4 }),
    fc.array(tie('v'), { maxLength: 4 }),
  ),
})).v;

/** A nearby schema: some keywords dropped, some numbers moved by one, some subschemas made `true`. */
function mutate(schema: Schema, seed: number): Schema {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const walk = (node: unknown): unknown => {
    if (typeof node !== 'object' || node === null) return next() < 0.3 ? true : node;
    if (Array.isArray(node)) return node.map(walk);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      const roll = next();
      if (roll < 0.1 && key !== '$defs') continue;
      out[key] = typeof value === 'number' && roll < 0.3 ? value + (next() < 0.5 ? 1 : -1) : walk(value);
    }
    return out;
  };
  const mutated = walk(schema) as Schema;
  if (next() < 0.3) {
    if (next() < 0.5) delete mutated.$schema;
    else mutated.$schema = DRAFT_07;
  }
  return mutated;
}
