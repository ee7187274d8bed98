import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import Fastify from 'fastify';
import pino from 'pino';
import { RivuletError } from '../../src/kernel/errors.js';
import {
  UNEXPECTED_MESSAGE,
  answerError,
  errorHandlerFor,
  nativeStatus,
  publicMessage,
  type ErrorFormat,
} from '../../src/http/dialect-errors.js';

/** a format that answers `{"oops": message}` as text, 404s as 410, with a Basic challenge */
const format: ErrorFormat = {
  answer(err, req) {
    const status = err.code === 'STREAM_NOT_FOUND' ? 410 : nativeStatus(err);
    return {
      status,
      type: 'text/plain; charset=utf-8',
      body: JSON.stringify({ oops: publicMessage(err, status), route: req.routeOptions.url }),
      ...(err.code === 'CONFLICT' ? { headers: { 'x-conflict': 'yes' } } : {}),
    };
  },
  challenge: 'Basic realm="test"',
};

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  err?: { message: string };
}

async function appWith(errors: ErrorFormat) {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const app = Fastify({ loggerInstance: pino({ level: 'info' }, sink), disableRequestLogging: true });
  app.setErrorHandler(errorHandlerFor(errors));
  app.get('/throw/:code', async (req) => {
    const { code } = req.params as { code: string };
    if (code === 'plain') throw new Error('the disk caught fire at /var/secret');
    throw new RivuletError(
      code as never,
      `refused with ${code}`,
      code === 'RATE_LIMITED' ? { retryAfter: 7 } : undefined,
    );
  });
  app.get('/caught', async (req, reply) => {
    try {
      throw new RivuletError('INVALID_STATE', 'not now');
    } catch (err) {
      answerError(errors, err as RivuletError, req, reply);
      return reply;
    }
  });
  await app.ready();
  return { app, lines };
}

describe('dialect error answers', async () => {
  const { app, lines } = await appWith(format);
  after(() => app.close());

  it('answers a catalogue error in the format, with the format’s own status for a code', async () => {
    const res = await app.inject({ url: '/throw/STREAM_NOT_FOUND' });
    assert.equal(res.statusCode, 410);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.body, '{"oops":"refused with STREAM_NOT_FOUND","route":"/throw/:code"}');
    assert.equal(res.headers['www-authenticate'], undefined);
    assert.equal(res.headers['retry-after'], undefined);
  });

  it('challenges a 401 and adds Retry-After when the error names one', async () => {
    const unauthenticated = await app.inject({ url: '/throw/UNAUTHENTICATED' });
    assert.equal(unauthenticated.statusCode, 401);
    assert.equal(unauthenticated.headers['www-authenticate'], 'Basic realm="test"');
    const limited = await app.inject({ url: '/throw/RATE_LIMITED' });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.headers['retry-after'], '7');
    assert.equal(limited.headers['www-authenticate'], undefined);
  });

  it('sends the headers the answer names', async () => {
    const res = await app.inject({ url: '/throw/CONFLICT' });
    assert.equal(res.statusCode, 409);
    assert.equal(res.headers['x-conflict'], 'yes');
  });

  it('answers an unexpected failure with 500, its message kept for the log alone', async () => {
    lines.length = 0;
    const res = await app.inject({ url: '/throw/plain' });
    assert.equal(res.statusCode, 500);
    assert.equal(res.body, JSON.stringify({ oops: UNEXPECTED_MESSAGE, route: '/throw/:code' }));
    assert.doesNotMatch(res.body, /secret/);
    const logged = lines.find((l) => l.msg === 'request failed');
    assert.ok(logged, 'a 5xx is logged');
    assert.equal(logged.level, 50, 'at error level');
    assert.equal(logged.code, 'INTERNAL');
    assert.match(logged.err?.message ?? '', /disk caught fire/, 'with the cause');
  });

  it('logs a refusal at info, without a cause', async () => {
    lines.length = 0;
    await app.inject({ url: '/throw/VALIDATION_FAILED' });
    const logged = lines.find((l) => l.msg === 'request refused');
    assert.ok(logged);
    assert.equal(logged.level, 30);
    assert.equal(logged.code, 'VALIDATION_FAILED');
    assert.equal(
      lines.some((l) => l.msg === 'request failed'),
      false,
    );
  });

  it('answers an error a route caught itself the same way', async () => {
    const res = await app.inject({ url: '/caught' });
    assert.equal(res.statusCode, 409);
    assert.equal(res.body, '{"oops":"not now","route":"/caught"}');
  });

  it('sends no challenge when the format names none', async () => {
    const { app: plain } = await appWith({
      answer: (err) => ({ status: nativeStatus(err), type: 'application/json', body: { m: err.message } }),
    });
    try {
      const res = await plain.inject({ url: '/throw/UNAUTHENTICATED' });
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], undefined);
      assert.deepEqual(res.json(), { m: 'refused with UNAUTHENTICATED' });
    } finally {
      await plain.close();
    }
  });
});

describe('publicMessage', () => {
  it('redacts an unexpected failure only', () => {
    assert.equal(publicMessage(new RivuletError('INTERNAL', 'db path /x')), UNEXPECTED_MESSAGE);
    assert.equal(publicMessage(new RivuletError('STORE_UNAVAILABLE', 'the store is away')), 'the store is away');
    assert.equal(publicMessage(new RivuletError('NOT_FOUND', 'no such thing')), 'no such thing');
  });
});
