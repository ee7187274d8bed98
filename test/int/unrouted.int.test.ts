/**
 * Requests the router refuses: malformed percent-escapes, a 5,000-character path segment, an
 * unsupported method on a path that exists, an unknown path. Each is answered by the API whose
 * mount it hits, in that API's format, without echoing the path; a wrong method is 405 with
 * `Allow`. The produce route is also tried over a real socket, where the produce lane sees
 * requests before fastify.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { apiOf, assertApiError, type Api } from '../support/api-format.js';
import { buildTestApp } from '../support/test-app.js';

const LONG = 'a'.repeat(5000);

/** one path per API mount, with a method it does not serve and the methods it does */
const MOUNTS: { api: Api; badEscape: string; long: string; wrongMethod: [string, string, string] }[] = [
  {
    api: 'native',
    badEscape: '/v1/streams/%zz/events',
    long: `/v1/streams/${LONG}/events`,
    wrongMethod: ['DELETE', '/v1/streams/fz/events', 'GET, HEAD, POST'],
  },
  {
    api: 'eventserver',
    badEscape: '/api/v1/streams/%zz/events',
    long: `/api/v1/streams/${LONG}/events`,
    wrongMethod: ['PUT', '/api/v1/streams/fz/events', 'GET, HEAD, POST'],
  },
  { api: 'iflux', badEscape: '/events/%zz', long: `/events/${LONG}`, wrongMethod: ['DELETE', '/events', 'POST'] },
  {
    api: 'okdata',
    badEscape: '/streams/%zz/1',
    long: `/streams/${LONG}/1`,
    wrongMethod: ['PATCH', '/streams/sales/1', 'DELETE, GET, HEAD, POST, PUT'],
  },
  {
    api: 'aether',
    badEscape: '/job/%zz',
    long: `/job/${LONG}`,
    wrongMethod: ['PATCH', '/job/j1/start', 'GET, HEAD, POST'],
  },
  // durable streams take any path below /ds: a long one is the protocol's own 400 (a stream name too long)
  {
    api: 'durable-streams',
    badEscape: '/ds/%zz',
    long: `/ds/${LONG}`,
    wrongMethod: ['PATCH', '/ds/x', 'DELETE, GET, HEAD, OPTIONS, POST, PUT'],
  },
  {
    api: 'specstore',
    badEscape: '/source/o/d/%zz',
    long: `/source/o/d/${LONG}`,
    wrongMethod: ['DELETE', '/source/o/d/1', 'GET, HEAD'],
  },
];

function assertNoEcho(body: string, what: string): void {
  assert.ok(!body.includes('%zz') && !body.includes('aaaaaaaaaa'), `${what} echoes the path: ${body.slice(0, 200)}`);
  assert.ok(!body.includes('FST_ERR'), `${what} is fastify's own answer: ${body.slice(0, 200)}`);
}

describe('requests no route takes', () => {
  it('bad escapes, over-long segments, wrong methods and unknown paths are answered in the format of the API whose mount they hit', async () => {
    const t = await buildTestApp();
    try {
      assert.equal(
        (await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'fz' } }))
          .statusCode,
        201,
      );
      for (const m of MOUNTS) {
        const bad = await t.app.inject({ method: 'GET', url: m.badEscape, headers: t.admin });
        assert.equal(bad.statusCode, 400, `${m.badEscape}: ${bad.body}`);
        assertApiError(bad, m.api, `GET ${m.badEscape}`);
        assertNoEcho(bad.body, m.badEscape);

        const long = await t.app.inject({ method: 'GET', url: m.long, headers: t.admin });
        // the event server's seed knows no 414: it answers 400, as for every other bad request
        assert.equal(
          long.statusCode,
          m.api === 'eventserver' || m.api === 'durable-streams' ? 400 : 414,
          `${m.api} long: ${long.body}`,
        );
        assertApiError(long, m.api, `GET ${m.api} long path`);
        assertNoEcho(long.body, `${m.api} long path`);

        const [method, url, allow] = m.wrongMethod;
        const wrong = await t.app.inject({ method: method as 'GET', url, headers: t.admin });
        assert.equal(wrong.statusCode, 405, `${method} ${url}: ${wrong.body}`);
        assert.equal(wrong.headers.allow, allow, `${method} ${url}`);
        assertApiError(wrong, m.api, `${method} ${url}`);
      }
      // okdata at the root: its routes name the API
      const rootWrong = await t.app.inject({ method: 'PATCH', url: '/sales/1', headers: t.admin });
      assert.equal(rootWrong.statusCode, 405);
      assertApiError(rootWrong, apiOf('/sales/1', '/:dataset'), 'PATCH /sales/1');
      // a bad body on a path no route takes: still 404/405 by the mount, not a body error in another format
      const badBody = await t.app.inject({
        method: 'POST',
        url: '/job/j1/',
        headers: { ...t.admin, 'content-type': 'application/json' },
        payload: Buffer.from([0x7b, 0xff, 0xfe]),
      });
      assert.equal(badBody.statusCode, 404, badBody.body);
      assertApiError(badBody, 'aether', 'POST /job/j1/ with a bad body');
      // an unknown path is 404 in its mount's format, not naming the path
      for (const [url, api] of [
        ['/v1/nowhere-at-all', 'native'],
        ['/job/j1/nowhere-at-all', 'aether'],
        ['/api/v1/streams/fz/nowhere-at-all', 'eventserver'],
      ] as const) {
        const res = await t.app.inject({ method: 'GET', url, headers: t.admin });
        assert.equal(res.statusCode, 404, url);
        assertApiError(res, api, url);
        assert.ok(!res.body.includes('nowhere-at-all'), `${url} echoed`);
      }
    } finally {
      await t.close();
    }
  });

  it('over a real socket, with the produce lane in front, produce paths with bad escapes or long names are refused as problem+json', async () => {
    const t = await buildTestApp();
    try {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as { port: number };
      const base = `http://127.0.0.1:${port}`;
      for (const [path, status] of [
        ['/v1/streams/%zz/events', 400],
        [`/v1/streams/${LONG}/events`, 414],
        ['/v1/streams/%E0%A4%A/events', 400],
      ] as const) {
        const res = await request(`${base}${path}`, {
          method: 'POST',
          headers: { ...t.admin, 'content-type': 'application/json' },
          body: '{"type":"t","data":{}}',
        });
        const body = await res.body.text();
        assert.equal(res.statusCode, status, `${path.slice(0, 40)}: ${body}`);
        assertApiError({ statusCode: res.statusCode, headers: res.headers, body }, 'native', path.slice(0, 40));
        assertNoEcho(body, path.slice(0, 40));
      }
      const wrong = await request(`${base}/v1/streams/fz/events`, {
        method: 'PUT',
        headers: { ...t.admin, 'content-type': 'application/json' },
        body: '{}',
      });
      await wrong.body.text();
      assert.equal(wrong.statusCode, 405);
      assert.equal(wrong.headers.allow, 'GET, HEAD, POST');
    } finally {
      await t.close();
    }
  });
});
