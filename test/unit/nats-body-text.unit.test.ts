/**
 * The nats reader threads splice a message body's fields into the answer instead of parsing
 * the body: the splice must give the text decoding and rendering gives, byte for byte, and
 * must refuse (so the body is decoded whole) anything not shaped as `encodeBody` writes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewEvent } from '../../src/kernel/envelope.js';
import { eventJson, eventJsonOfTexts } from '../../src/kernel/event-json.js';
import { bodyTexts } from '../../src/store/nats/nats-body-text.js';
import { decodeEvent, encodeBody } from '../../src/store/nats/nats-event-codec.js';
import { eventsFor } from '../conformance/store/page-texts.js';

const awkwardStrings = ['a"b', 'back\\slash\\', '\\"', 'quote at end"', '}{][,:', '\u2028 🦀 \ud800', ''];

function events(): NewEvent[] {
  const out = eventsFor(40);
  for (const [i, s] of awkwardStrings.entries()) {
    out.push({
      ...out[i]!,
      id: `${s}-${i}`,
      type: s === '' ? 'empty-is-not-allowed-but-any-text-splices' : s,
      source: s,
      producer: s,
      data: { [s]: [s, { [s]: s }], n: -0.5e-7 },
      meta: { [s]: s },
      schemaVersion: i,
    });
  }
  return out;
}

describe('nats body texts', () => {
  it('splices the answer decoding and rendering give, byte for byte', () => {
    for (const [i, ev] of events().entries()) {
      const data = Buffer.from(encodeBody(ev));
      const raw = { seq: i + 1, data, receivedMs: Date.parse('2026-02-03T04:05:06.789Z') };
      const t = bodyTexts(data.toString('utf8'));
      assert.ok(t, encodeBody(ev));
      const decoded = decodeEvent('a "stream"', raw);
      const spliced = eventJsonOfTexts({
        id: t.id,
        stream: JSON.stringify('a "stream"'),
        seq: raw.seq,
        typeSeq: decoded.typeSeq,
        type: t.type,
        source: t.source,
        time: t.time,
        received: JSON.stringify(decoded.received),
        producer: t.producer,
        dataJson: t.data,
        metaJson: t.meta,
        schemaVersion: t.schemaVersion,
      });
      assert.equal(spliced, eventJson(decoded));
      assert.equal(t.data, JSON.stringify(decoded.data));
      assert.equal(JSON.parse(t.type), decoded.type);
      assert.equal(JSON.parse(t.time), decoded.time);
    }
  });

  it('refuses bodies of any other shape, so they are decoded whole', () => {
    const good = encodeBody(events()[3]!);
    const bodies = [
      '',
      '{}',
      good.slice(0, -1),
      `${good} `,
      good.replace('{"id":', '{ "id":'),
      good.replace(',"meta":', ',"extra":1,"meta":'),
      good.replace(/,"data":.*,"meta":/, ',"meta":'),
      JSON.stringify({ type: 't', id: 'x' }),
      '{"id":"unterminated',
      '{"id":"a","type":"t","source":"s","time":"t","producer":null,"data":{"a":[1,2},"meta":{},"schemaVersion":null}',
      '{"id":"a","type":1,"source":"s","time":"t","producer":null,"data":1,"meta":{},"schemaVersion":null}',
    ];
    for (const body of bodies) assert.equal(bodyTexts(body), null, body);
  });
});
