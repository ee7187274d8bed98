import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuidv7 } from '../../src/core/events/uuid-v7.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are UUIDv7 text carrying the millisecond they were made in', () => {
  const ms = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
  const id = uuidv7(ms);
  assert.match(id, V7);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), ms);
});

test('ids of one process are unique and sort in the order they were made, within a millisecond too', () => {
  const ms = Date.UTC(2031, 5, 6);
  const ids = Array.from({ length: 50_000 }, (_, i) => uuidv7(ms + Math.floor(i / 10_000)));
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  for (const id of ids) assert.match(id, V7);
});

test('a clock that steps back does not make an id sort before earlier ones', () => {
  const ms = Date.UTC(2032, 1, 1);
  const a = uuidv7(ms);
  const b = uuidv7(ms - 5_000);
  assert.ok(a < b);
  assert.equal(parseInt(b.slice(0, 8) + b.slice(9, 13), 16), ms);
});

test('the random part differs between ids of the same millisecond', () => {
  const ms = Date.UTC(2033, 1, 1);
  const tails = new Set(Array.from({ length: 1000 }, () => uuidv7(ms).slice(-11)));
  assert.ok(tails.size > 990);
});
