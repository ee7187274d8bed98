/** okdata's times: ISO dates (whole UTC days) and date-times (offset or UTC), and event timestamps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventTime, fromBoundMs, parseOkdataTime, toBoundMs } from '../../src/dialects/okdata/okdata-time.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('okdata times', () => {
  it('reads a date as a whole UTC day, inclusive at both ends', () => {
    const day = parseOkdataTime('2020-10-18')!;
    assert.equal(day.dateOnly, true);
    assert.equal(iso(fromBoundMs(day)), '2020-10-18T00:00:00.000Z');
    assert.equal(iso(toBoundMs(day)), '2020-10-18T23:59:59.999Z');
    assert.equal(iso(toBoundMs(parseOkdataTime('2020-02-29')!)), '2020-02-29T23:59:59.999Z', 'leap day');
  });

  it('reads date-times exactly, with offsets in either form, and UTC without one', () => {
    const cases: [string, string][] = [
      ['2020-10-18T01:30:00+02:00', '2020-10-17T23:30:00.000Z'],
      ['2020-10-18T01:30:00+0200', '2020-10-17T23:30:00.000Z'],
      ['2020-10-17T20:00:00-05:30', '2020-10-18T01:30:00.000Z'],
      ['2020-10-18T12:00:00', '2020-10-18T12:00:00.000Z'],
      ['2020-10-18 12:00', '2020-10-18T12:00:00.000Z'],
      ['2020-10-18T12:00:00.123456789z', '2020-10-18T12:00:00.123Z'],
    ];
    for (const [text, expected] of cases) {
      const t = parseOkdataTime(text);
      assert.ok(t && !t.dateOnly, text);
      assert.equal(iso(toBoundMs(t)), expected, text);
    }
  });

  it('refuses what is not a date', () => {
    for (const text of [
      '',
      'yesterday',
      '2020-13-01',
      '2021-02-29',
      '2020-10-18T24:00:00Z',
      '2020-10-18T12:60:00Z',
      '18.10.2020',
      '2020-10-18T12',
      '2020-10-18T12:00:00+2',
    ]) {
      assert.equal(parseOkdataTime(text), undefined, text);
    }
  });

  it('takes event timestamps as ISO strings or epoch milliseconds', () => {
    assert.equal(eventTime('2020-06-02T09:48:58+02:00'), '2020-06-02T07:48:58.000Z');
    assert.equal(eventTime(1603065600000), '2020-10-19T00:00:00.000Z');
    for (const value of [undefined, null, 'soon', true, {}, Number.NaN, 1e20])
      assert.equal(eventTime(value), undefined, String(value));
  });
});
