/** The readable log: one line per request (arrival folded into the answer, with a refusal's reason), other lines as they come. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { prettyLogDestination } from '../../src/observability/pretty-log.js';
import { logFormatOf } from '../../src/runtime/server.js';

describe('pretty logs', () => {
  it('folds the lines of a request into one and keeps other messages', () => {
    const out: string[] = [];
    const log = pino({ level: 'info' }, prettyLogDestination({ colour: false, write: (text) => out.push(text) }));
    log.info(
      { reqId: 'r1', req: { method: 'GET', url: '/v1/streams', host: 'h', remoteAddress: '127.0.0.1' } },
      'incoming request',
    );
    log.info({ reqId: 'r2', req: { method: 'POST', url: '/v1/streams/o/events' } }, 'incoming request');
    log.info({ reqId: 'r1', code: 'UNAUTHENTICATED', detail: 'this route needs a key' }, 'request refused');
    log.info({ reqId: 'r1', res: { statusCode: 401 }, responseTime: 0.84 }, 'request completed');
    log.info({ reqId: 'r2', res: { statusCode: 201 }, responseTime: 2.1 }, 'request completed');
    log.warn({ component: 'delivery' }, 'sink failing');
    const lines = out.join('').trimEnd().split('\n');
    assert.equal(lines.length, 3, out.join(''));
    assert.match(
      lines[0]!,
      /INFO.*GET \/v1\/streams 401 0\.8 ms UNAUTHENTICATED: this route needs a key.*"reqId":"r1"/,
    );
    assert.match(lines[1]!, /INFO.*POST \/v1\/streams\/o\/events 201 2\.1 ms/);
    assert.match(lines[2]!, /WARN.*sink failing/);
    assert.doesNotMatch(out.join(''), /incoming request|\{"level"/);
  });

  it('auto is pretty on a terminal and JSON otherwise', () => {
    assert.equal(logFormatOf({ logFormat: 'auto' }, { isTTY: true }), 'pretty');
    assert.equal(logFormatOf({ logFormat: 'auto' }, { isTTY: false }), 'json');
    assert.equal(logFormatOf({ logFormat: 'json' }, { isTTY: true }), 'json');
    assert.equal(logFormatOf({ logFormat: 'pretty' }, {}), 'pretty');
  });
});
