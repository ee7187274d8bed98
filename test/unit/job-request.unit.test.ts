import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileJobRequest,
  eventEnvelope,
  jobRequestFromWholeEvent,
  mappingDocument,
  planJobRequest,
} from '../../src/mapping/job-request.js';
import type { JobRequestSpec } from '../../src/mapping/job-request.js';
import { compileUrlTemplate, renderUrlTemplate } from '../../src/mapping/url-template.js';
import { isRivuletError } from '../../src/kernel/errors.js';
import type { ErrorCode } from '../../src/kernel/errors.js';
import type { StoredEvent } from '../../src/kernel/envelope.js';

const event: StoredEvent = {
  id: '01890a5d-ac96-774b-bcce-b302099a8057',
  stream: 'people',
  seq: 7,
  typeSeq: 3,
  type: 'Person',
  source: 'aether/kernel',
  time: '2024-05-01T10:00:00Z',
  received: '2024-05-01T10:00:01Z',
  producer: 'kernel',
  data: { id: 'p 1/2', name: 'Ada Lovelace', tags: ['math', 'poetry'], address: { city: 'London' }, nickname: null },
  meta: {},
  schemaVersion: 2,
};

/** The seed 001 job of docs/delivery-mapping.md. */
const job: JobRequestSpec = {
  type: 'POST',
  url: 'https://registry.example.org/{schema_name}/{id}',
  datamap: {
    id: '$.msg.id',
    schema_name: '$.schema.name',
    name: '$.msg.name',
    tags: '$.msg.tags[*]',
    source: '$.constant.source',
    event_id: '$.event.id',
  },
  constant: { source: 'aether' },
  query_params: ['source'],
  json_body: ['id', 'name', 'tags', 'event_id'],
  basic_auth: { user: 'sync', pw: 's3cret' },
};

function failsWith(code: ErrorCode, pattern: RegExp, fn: () => unknown, details?: Record<string, unknown>): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isRivuletError(err), String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    for (const [k, v] of Object.entries(details ?? {})) assert.deepEqual(err.details?.[k], v);
    return true;
  });
}

describe('renderUrlTemplate', () => {
  it('fills placeholders with percent-encoded values', () => {
    assert.equal(
      renderUrlTemplate('https://h/{a}/{b}?x={c}', { a: 'p 1/2', b: 42, c: 'é&=' }),
      'https://h/p%201%2F2/42?x=%C3%A9%26%3D',
    );
  });

  it('joins arrays with commas, writes objects and other values as JSON', () => {
    assert.equal(renderUrlTemplate('https://h/{l}', { l: ['a,b', 'c', 3] }), 'https://h/a%2Cb,c,3');
    assert.equal(renderUrlTemplate('https://h/{o}', { o: { k: 1 } }), 'https://h/%7B%22k%22%3A1%7D');
    assert.equal(renderUrlTemplate('https://h/{t}/{n}', { t: true, n: null }), 'https://h/true/null');
  });

  it('reads {{ and }} as literal braces', () => {
    assert.equal(renderUrlTemplate('https://h/{{x}}/{a}', { a: 1 }), 'https://h/{x}/1');
    assert.deepEqual(compileUrlTemplate('https://h/{{a}}/{b}/{b}').keys, ['b']);
  });

  it('names a placeholder the datamap did not fill', () => {
    failsWith(
      'BAD_REQUEST',
      /^URL template needs "\{id\}" but the datamap produced no value for it$/,
      () => renderUrlTemplate('https://h/{id}', {}),
      { key: 'id' },
    );
  });

  it('refuses unbalanced braces and empty placeholders', () => {
    failsWith('BAD_REQUEST', /unclosed "\{"/, () => compileUrlTemplate('https://h/{id'));
    failsWith('BAD_REQUEST', /lone "\}"/, () => compileUrlTemplate('https://h/id}'));
    failsWith('BAD_REQUEST', /invalid placeholder "\{\}"/, () => compileUrlTemplate('https://h/{}'));
  });
});

describe('planJobRequest (seed 001 job model)', () => {
  it('builds the worked example: URL template, query params, JSON body, basic auth', () => {
    const plan = planJobRequest(job, event, 'Person');
    assert.equal(plan.method, 'POST');
    assert.equal(plan.url, 'https://registry.example.org/Person/p%201%2F2?source=aether');
    assert.deepEqual(plan.headers, {
      authorization: `Basic ${Buffer.from('sync:s3cret').toString('base64')}`,
      'content-type': 'application/json',
    });
    assert.deepEqual(JSON.parse(plan.body ?? ''), {
      id: 'p 1/2',
      name: 'Ada Lovelace',
      tags: ['math', 'poetry'],
      event_id: event.id,
    });
    assert.deepEqual(plan.notes, []);
  });

  it('evaluates against {schema, msg, constant, event}', () => {
    const doc = mappingDocument(event, undefined, { k: 1 });
    assert.deepEqual(doc.schema, { name: 'Person', version: 2 });
    assert.equal(doc.msg, event.data);
    assert.deepEqual(doc.constant, { k: 1 });
    assert.equal((doc['event'] as Record<string, unknown>)['seq'], 7);
    assert.equal(Object.hasOwn(doc['event'] as object, 'data'), false);
  });

  it('sends only mapped keys as query parameters; lists repeat, nulls are left out', () => {
    const plan = planJobRequest(
      {
        type: 'GET',
        url: 'https://h/search?fixed=1',
        datamap: { tag: '$.msg.tags[*]', city: '$.msg.address', nick: '$.msg.nickname', none: '$.msg.nope' },
        query_params: ['tag', 'city', 'nick', 'none'],
      },
      event,
    );
    assert.equal(plan.url, 'https://h/search?fixed=1&tag=math&tag=poetry&city=%7B%22city%22%3A%22London%22%7D');
    assert.equal(plan.body, undefined);
    assert.ok(plan.notes.includes('query parameter "none" skipped: the datamap produced no value for it'));
    assert.ok(plan.notes.includes('datamap key "none" matched nothing, so it is left out'));
  });

  it('puts only mapped keys in json_body', () => {
    const plan = planJobRequest(
      { type: 'put', url: 'https://h/x', datamap: { id: '$.msg.id', gone: '$.msg.gone' }, json_body: ['id', 'gone'] },
      event,
    );
    assert.equal(plan.method, 'PUT');
    assert.equal(plan.body, '{"id":"p 1/2"}');
    assert.ok(plan.notes.includes('json_body key "gone" skipped: the datamap produced no value for it'));
  });

  it('sends no body for methods without one', () => {
    for (const type of ['GET', 'HEAD', 'DELETE', 'OPTIONS']) {
      const plan = planJobRequest({ ...job, type }, event, 'Person');
      assert.equal(plan.body, undefined, type);
      assert.equal(plan.headers['content-type'], undefined, type);
      assert.ok(plan.notes.includes(`json_body is ignored: ${type} requests carry no body`), type);
    }
  });

  it('sends a token as `access_token <token>`, or verbatim when it has a scheme', () => {
    const base = { type: 'GET', url: 'https://h/', datamap: {} };
    assert.equal(planJobRequest({ ...base, token: 'abc123' }, event).headers['authorization'], 'access_token abc123');
    assert.equal(
      planJobRequest({ ...base, token: 'Bearer eyJhbGc.x.y' }, event).headers['authorization'],
      'Bearer eyJhbGc.x.y',
    );
    assert.equal(planJobRequest({ ...base, token: 'Token abc' }, event).headers['authorization'], 'Token abc');
  });

  it('prefers basic_auth to token, and accepts the original `password` field', () => {
    const plan = planJobRequest(
      { type: 'GET', url: 'https://h/', datamap: {}, token: 't', basic_auth: { user: 'u', password: 'p' } },
      event,
    );
    assert.equal(plan.headers['authorization'], `Basic ${Buffer.from('u:p').toString('base64')}`);
    assert.ok(plan.notes.includes('token is ignored: basic_auth takes precedence'));
  });

  it('adds configured headers, lower-cased, and lets content-type be overridden', () => {
    const plan = planJobRequest(
      {
        type: 'POST',
        url: 'https://h/',
        datamap: { id: '$.msg.id' },
        json_body: ['id'],
        headers: { 'X-Source': 'rivulet', 'Content-Type': 'application/vnd.x+json' },
      },
      event,
    );
    assert.deepEqual(plan.headers, { 'x-source': 'rivulet', 'content-type': 'application/vnd.x+json' });
  });

  it('fails for this event when the URL needs a key the datamap did not produce', () => {
    failsWith(
      'BAD_REQUEST',
      /URL template needs "\{missing\}" but the datamap produced no value for it/,
      () => planJobRequest({ type: 'GET', url: 'https://h/{missing}', datamap: { missing: '$.msg.nope' } }, event),
      { key: 'missing' },
    );
  });

  it('finds configuration mistakes when the job is compiled', () => {
    failsWith(
      'BAD_REQUEST',
      /job type must be one of GET, HEAD, POST/,
      () => compileJobRequest({ ...job, type: 'FETCH' }),
      { pointer: '/type' },
    );
    failsWith(
      'INVALID_EXPRESSION',
      /datamap key "id"/,
      () => compileJobRequest({ ...job, datamap: { id: '$.msg[' } }),
      { pointer: '/datamap/id' },
    );
    failsWith('BAD_REQUEST', /http or https URL, not ftp:/, () => compileJobRequest({ ...job, url: 'ftp://h/{id}' }), {
      pointer: '/url',
    });
    failsWith('BAD_REQUEST', /not a valid HTTP field name/, () =>
      compileJobRequest({ ...job, headers: { 'bad header': 'x' } }),
    );
    failsWith('BAD_REQUEST', /header "x-a" must be a string without control characters/, () =>
      compileJobRequest({ ...job, headers: { 'X-A': 'a\r\nInjected: 1' } }),
    );
    failsWith('BAD_REQUEST', /header "host" is set by Rivulet/, () =>
      compileJobRequest({ ...job, headers: { Host: 'evil' } }),
    );
    failsWith('BAD_REQUEST', /basic_auth user cannot contain ":"/, () =>
      compileJobRequest({ ...job, basic_auth: { user: 'a:b', pw: 'c' } }),
    );
    failsWith('BAD_REQUEST', /token must be a non-empty string/, () =>
      compileJobRequest({ ...job, basic_auth: undefined, token: ' ' }),
    );
  });

  it('reports a URL that a value makes invalid', () => {
    failsWith('BAD_REQUEST', /not a valid URL/, () =>
      planJobRequest({ type: 'GET', url: 'http://{host}/', datamap: { host: '$.msg.name' } }, event),
    );
  });
});

describe('jobRequestFromWholeEvent', () => {
  it('sends the whole event envelope as the body when there is no datamap', () => {
    const plan = planJobRequest({ type: 'POST', url: 'https://h/events', token: 'Bearer t' }, event);
    assert.deepEqual(JSON.parse(plan.body ?? ''), eventEnvelope(event));
    assert.equal(plan.mapped, null);
    assert.equal(plan.headers['content-type'], 'application/json');
    assert.deepEqual(
      jobRequestFromWholeEvent(
        { ...job, json_body: undefined, query_params: undefined, url: 'https://h/events' },
        event,
      ).body,
      JSON.stringify(eventEnvelope(event)),
    );
  });

  it('refuses settings that need a datamap', () => {
    failsWith('BAD_REQUEST', /uses "\{id\}" but the job has no datamap/, () =>
      planJobRequest({ type: 'POST', url: 'https://h/{id}' }, event),
    );
    failsWith('BAD_REQUEST', /json_body names datamap keys/, () =>
      planJobRequest({ type: 'POST', url: 'https://h/', json_body: ['id'] }, event),
    );
  });
});
