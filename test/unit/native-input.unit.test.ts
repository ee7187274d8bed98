import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RivuletError } from '../../src/kernel/errors.js';
import {
  eventFromBinary,
  eventsFromJson,
  toCloudEvent,
  type InputContext,
} from '../../src/core/events/native-input.js';

let n = 0;
const ctx: InputContext = {
  stream: 'orders',
  producer: 'p1',
  newId: () => `gen-${++n}`,
  now: () => '2024-05-01T00:00:00.000Z',
};

function fails(fn: () => unknown, pointer: string, index?: number, message?: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RivuletError);
    assert.equal(err.code, 'INVALID_EVENT');
    assert.equal(err.details?.pointer, pointer);
    assert.equal(err.details?.index, index);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('native input: plain JSON', () => {
  it('fills defaults: generated id, stream source, server time, producer; keeps extra fields in meta', () => {
    const [e] = eventsFromJson({ type: 'order.placed', data: { n: 1 }, subject: 'x' }, ctx);
    assert.equal(e!.type, 'order.placed');
    assert.equal(e!.source, '/streams/orders');
    assert.equal(e!.time, '2024-05-01T00:00:00.000Z');
    assert.match(e!.id, /^gen-/);
    assert.equal(e!.idSupplied, false);
    assert.equal(e!.producer, 'p1');
    assert.deepEqual(e!.data, { n: 1 });
    assert.deepEqual(e!.meta, { subject: 'x' });
  });

  it('keeps a supplied id, source and time; missing data is null', () => {
    const [e] = eventsFromJson({ type: 't', id: 'abc', source: '/me', time: '2024-01-01T10:00:00+02:00' }, ctx);
    assert.deepEqual(
      [e!.id, e!.idSupplied, e!.source, e!.time, e!.data],
      ['abc', true, '/me', '2024-01-01T10:00:00+02:00', null],
    );
  });

  it('reads an array as a batch, in order', () => {
    const events = eventsFromJson([{ type: 'a' }, { type: 'b' }], ctx);
    assert.deepEqual(
      events.map((e) => e.type),
      ['a', 'b'],
    );
  });

  it('names the failing field with its index and JSON pointer', () => {
    fails(() => eventsFromJson({ data: 1 }, ctx), '/type', undefined, /"type" is required/);
    fails(
      () => eventsFromJson([{ type: 'a' }, { type: 5 }], ctx),
      '/1/type',
      1,
      /event 1: "type" must be a non-empty string/,
    );
    fails(() => eventsFromJson([{ type: '' }], ctx), '/0/type', 0);
    fails(() => eventsFromJson({ type: 'x'.repeat(257) }, ctx), '/type', undefined, /longer than 256/);
    fails(() => eventsFromJson({ type: 'a\nb' }, ctx), '/type', undefined, /control characters/);
    fails(() => eventsFromJson({ type: 't', source: 7 }, ctx), '/source');
    fails(() => eventsFromJson({ type: 't', id: '' }, ctx), '/id');
    fails(() => eventsFromJson([{ type: 't' }, { type: 't', time: 'yesterday' }], ctx), '/1/time', 1, /RFC 3339/);
    fails(() => eventsFromJson({ type: 't', time: '2024-13-45T99:00:00Z' }, ctx), '/time');
    fails(() => eventsFromJson([1], ctx), '/0', 0, /JSON object/);
    fails(() => eventsFromJson('text', ctx), '', undefined, /JSON object/);
    fails(() => eventsFromJson([], ctx), '', undefined, /empty/);
  });
});

describe('native input: CloudEvents structured and batch', () => {
  const ce = {
    specversion: '1.0',
    id: 'ce-1',
    source: '/src',
    type: 'com.example',
    time: '2024-02-02T00:00:00Z',
    subject: 's',
    data: { a: 1 },
  };

  it('reads a structured event, keeping extension attributes in meta', () => {
    const [e] = eventsFromJson(ce, ctx);
    assert.deepEqual(
      [e!.id, e!.idSupplied, e!.source, e!.type, e!.time],
      ['ce-1', true, '/src', 'com.example', '2024-02-02T00:00:00Z'],
    );
    assert.deepEqual(e!.meta, { subject: 's', specversion: '1.0' });
    assert.deepEqual(toCloudEvent(e!), ce);
  });

  it('reads a batch and data_base64', () => {
    const { data: _data, ...withoutData } = ce;
    const events = eventsFromJson([ce, { ...withoutData, id: 'ce-2', data_base64: 'AQID' }], ctx, 'cloudevents');
    assert.equal(events[1]!.data, 'AQID');
    assert.equal(events[1]!.meta.data_base64, true);
    assert.equal(toCloudEvent(events[1]!).data_base64, 'AQID');
  });

  it('requires specversion 1.0, id and source, and refuses data with data_base64', () => {
    fails(() => eventsFromJson({ ...ce, specversion: '0.3' }, ctx), '/specversion');
    fails(() => eventsFromJson([ce, { ...ce, id: undefined }], ctx), '/1/id', 1);
    fails(() => eventsFromJson({ type: 't', id: 'x' }, ctx, 'cloudevents'), '/specversion');
    fails(() => eventsFromJson({ ...ce, source: undefined }, ctx), '/source');
    fails(() => eventsFromJson({ ...ce, data_base64: 'AQID' }, ctx), '/data_base64', undefined, /not both/);
    const { data: _data, ...withoutData } = ce;
    fails(() => eventsFromJson({ ...withoutData, data_base64: 'not base64!' }, ctx), '/data_base64');
  });
});

describe('native input: CloudEvents binary mode', () => {
  const headers = {
    'ce-specversion': '1.0',
    'ce-id': 'b-1',
    'ce-source': '/bin',
    'ce-type': 'com.bin',
    'ce-subject': 'caf%C3%A9',
    'content-type': 'text/plain',
  };

  it('takes attributes from ce- headers, percent-decoded, and the body as data', () => {
    const e = eventFromBinary(headers, 'hello', 'text/plain', false, ctx);
    assert.deepEqual([e.id, e.source, e.type, e.data], ['b-1', '/bin', 'com.bin', 'hello']);
    assert.equal(e.meta.subject, 'café');
    assert.equal(e.meta.datacontenttype, 'text/plain');
  });

  it('marks base64 bytes, and names missing attributes', () => {
    const e = eventFromBinary(headers, 'AQID', 'application/octet-stream', true, ctx);
    assert.equal(e.meta.data_base64, true);
    fails(() => eventFromBinary({ ...headers, 'ce-id': undefined }, null, undefined, false, ctx), '/id');
    fails(() => eventFromBinary({ ...headers, 'ce-specversion': '2.0' }, null, undefined, false, ctx), '/specversion');
  });
});
