/** What a delivered JetStream message's reply subject says: its consumer, stream seq and receive time. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ackInfo } from '../../src/store/nats/nats-page-reader.js';

describe('nats page reader: reply subjects of delivered messages', () => {
  it('reads the nine-token form', () => {
    assert.deepEqual(ackInfo('$JS.ACK.rivulet_YmVuY2g.Ab12Cd.1.4711.3.1765084800123456789.12'), {
      consumer: 'Ab12Cd',
      seq: 4711,
      receivedMs: 1765084800123,
    });
  });

  it('reads the form with a domain and an account hash', () => {
    assert.deepEqual(ackInfo('$JS.ACK.hub.ACCHASH.rivulet_YmVuY2g.Ab12Cd.2.99.7.1765084800999000000.0.rand0m'), {
      consumer: 'Ab12Cd',
      seq: 99,
      receivedMs: 1765084800999,
    });
  });

  it('refuses what is not an ack subject', () => {
    assert.equal(ackInfo('_INBOX.abc.def'), null);
    assert.equal(ackInfo('$JS.ACK.s.c.1.2'), null);
    assert.equal(ackInfo('$JS.ACK.s.c.1.x.3.4.5'), null);
  });
});
