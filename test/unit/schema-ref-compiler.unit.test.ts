import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSchema, firstFailure } from '../../src/core/schemas/schema-compiler.js';
import { parseSchemaRef, schemaUrn } from '../../src/core/schemas/schema-ref.js';

describe('schema references (dataschema, $schema)', () => {
  it('reads the URN form, with types holding ":" and "/"', () => {
    assert.deepEqual(parseSchemaRef('urn:rivulet:schema:orders:order.placed:3'), {
      version: 3,
      stream: 'orders',
      type: 'order.placed',
    });
    assert.deepEqual(parseSchemaRef(schemaUrn('s', '/eventTypes/a:b', 2)), {
      version: 2,
      stream: 's',
      type: '/eventTypes/a:b',
    });
    assert.deepEqual(parseSchemaRef('urn:rivulet:schema:s:%2Fx:latest'), { version: null, stream: 's', type: '/x' });
  });

  it('reads a trailing /versions/N, and the stream and type of a native URL', () => {
    assert.deepEqual(parseSchemaRef('https://h.example/v1/streams/orders/schemas/o%2Fp/versions/2'), {
      version: 2,
      stream: 'orders',
      type: 'o/p',
    });
    assert.deepEqual(parseSchemaRef('https://registry.example/order/versions/7'), { version: 7 });
  });

  it('leaves other URIs and bad versions alone', () => {
    for (const uri of [
      'https://json-schema.org/draft/2020-12/schema',
      'urn:rivulet:schema:orders:1',
      'urn:rivulet:schema:s:t:0',
      'https://x.example/versions/0',
      'urn:rivulet:schema:s:t:v1',
    ]) {
      assert.equal(parseSchemaRef(uri), undefined, uri);
    }
  });
});

describe('schema compiler', () => {
  it('points at the missing or extra property itself, escaped as JSON Pointer', () => {
    const compiled = compileSchema({
      type: 'object',
      properties: { 'a/b': { type: 'string' } },
      required: ['a/b'],
      additionalProperties: false,
    });
    assert.deepEqual(firstFailure(compiled, {}), {
      pointer: '/a~1b',
      rule: 'required',
      message: "must have required property 'a/b'",
    });
    assert.equal(firstFailure(compiled, { 'a/b': 'x', 'c~d': 1 })?.pointer, '/c~0d');
    assert.equal(firstFailure(compiled, { 'a/b': 'x' }), null);
  });

  it('chooses the draft by $schema and refuses unknown ones', () => {
    assert.equal(compileSchema({}).draft, '2020-12');
    assert.equal(compileSchema({ $schema: 'http://json-schema.org/draft-07/schema#' }).draft, 'draft-07');
    assert.equal(compileSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema' }).draft, '2020-12');
    assert.throws(() => compileSchema({ $schema: 'http://json-schema.org/draft-04/schema#' }), {
      code: 'SCHEMA_INVALID',
    });
    assert.throws(() => compileSchema({ type: 'objekt' }), { code: 'SCHEMA_INVALID' });
    assert.throws(() => compileSchema({ $ref: 'https://elsewhere.example/s.json' }), { code: 'SCHEMA_INVALID' });
  });

  it('compiles versions that share an $id', () => {
    const a = compileSchema({ $id: 'https://x.example/order', type: 'object' });
    const b = compileSchema({ $id: 'https://x.example/order', type: 'string' });
    assert.equal(firstFailure(a, 'text')?.rule, 'type');
    assert.equal(firstFailure(b, 'text'), null);
  });
});
