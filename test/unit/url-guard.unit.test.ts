import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { Agent, request } from 'undici';
import { createUrlGuard } from '../../src/delivery/url-guard.js';
import type { UrlGuardOptions } from '../../src/delivery/url-guard.js';
import { isRivuletError } from '../../src/kernel/errors.js';

/** A resolver with fixed answers, so no test depends on the network. */
const fakeDns: Record<string, string[]> = {
  'public.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'internal.example': ['10.0.0.7'],
  'mixed.example': ['93.184.215.14', '127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'receiver.test': ['127.0.0.1'],
  'hooks.corp': ['10.1.2.3'],
};
async function resolve(hostname: string): Promise<LookupAddress[]> {
  const found = fakeDns[hostname];
  if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
}
const guard = (options: UrlGuardOptions = {}) => createUrlGuard({ resolve, ...options });

function hasCode(err: unknown, code: string): boolean {
  for (
    let e = err, depth = 0;
    e !== null && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if ((e as { code?: unknown }).code === code) return true;
  }
  return false;
}

async function refused(url: string, options: UrlGuardOptions = {}, range?: RegExp): Promise<void> {
  await assert.rejects(guard(options).check(url), (err: unknown) => {
    assert.ok(isRivuletError(err), `${url}: ${String(err)}`);
    assert.equal(err.code, 'TARGET_URL_FORBIDDEN', url);
    if (range !== undefined) assert.match(err.message, range, url);
    return true;
  });
}

describe('url guard: check', () => {
  const refusedByDefault: Array<[string, RegExp]> = [
    ['http://localhost/', /localhost \(127\.0\.0\.1\) is in the loopback range/],
    ['http://api.localhost:8080/', /loopback/],
    ['http://127.0.0.1/', /127\.0\.0\.1 is in the loopback range/],
    ['http://127.9.8.7:9000/x', /loopback/],
    ['http://[::1]/', /::1 is in the loopback range/],
    ['http://[::ffff:127.0.0.1]/', /loopback \(as IPv4 127\.0\.0\.1\)/],
    ['http://[::ffff:169.254.169.254]/', /linkLocal/],
    ['http://[::127.0.0.1]/', /loopback \(as IPv4 127\.0\.0\.1\)/],
    ['http://[64:ff9b::10.0.0.1]/', /private \(as IPv4 10\.0\.0\.1\)/],
    ['http://[2002:7f00:1::]/', /loopback \(as IPv4 127\.0\.0\.1\)/],
    ['http://2130706433/', /127\.0\.0\.1 is in the loopback range/],
    ['http://0x7f000001/', /loopback/],
    ['http://0177.0.0.1/', /loopback/],
    ['http://127.1/', /loopback/],
    ['http://169.254.169.254/latest/meta-data/', /linkLocal/],
    ['http://[fe80::1]/', /linkLocal/],
    ['http://0.0.0.0/', /unspecified/],
    ['http://[::]/', /unspecified/],
    ['http://10.1.2.3/', /private/],
    ['http://172.16.0.1/', /private/],
    ['http://172.31.255.255/', /private/],
    ['http://192.168.1.1/', /private/],
    ['http://100.64.0.1/', /carrierGradeNat/],
    ['http://[fd00::1]/', /uniqueLocal/],
    ['http://224.0.0.1/', /multicast/],
    ['http://[ff02::1]/', /multicast/],
    ['http://255.255.255.255/', /broadcast/],
    ['http://240.0.0.1/', /reserved/],
    ['http://192.0.2.1/', /reserved/],
    ['http://[2001:db8::1]/', /reserved/],
    ['http://internal.example/', /internal\.example \(10\.0\.0\.7\) is in the private range/],
    ['http://mixed.example/', /127\.0\.0\.1/],
    ['http://metadata.example/', /linkLocal/],
  ];
  for (const [url, range] of refusedByDefault) it(`refuses ${url}`, () => refused(url, {}, range));

  const allowed = [
    'http://93.184.215.14/',
    'https://8.8.8.8:8443/dns',
    'http://[2606:4700:4700::1111]/',
    'http://[::ffff:8.8.8.8]/',
    'https://public.example/hook',
    'http://172.32.0.1/',
  ];
  for (const url of allowed) {
    it(`allows ${url}`, async () => {
      const result = await guard().check(url);
      assert.ok(result.addresses.length > 0);
    });
  }

  it('refuses schemes other than http and https', async () => {
    for (const url of [
      'ftp://public.example/',
      'file:///etc/passwd',
      'gopher://public.example/',
      'data:text/plain,x',
    ]) {
      await assert.rejects(
        guard().check(url),
        (err: unknown) => isRivuletError(err) && err.code === 'TARGET_URL_FORBIDDEN' && /scheme/.test(err.message),
      );
    }
  });

  it('refuses what is not a URL', async () => {
    await assert.rejects(guard().check('not a url'), { code: 'BAD_REQUEST' });
  });

  it('allows credentials in the URL, with a note', async () => {
    const result = await guard().check('https://user:pw@public.example/');
    assert.equal(result.notes.length, 1);
    assert.match(result.notes[0] ?? '', /credentials/);
  });

  it('passes DNS failures on as they are', async () => {
    await assert.rejects(guard().check('http://nowhere.example/'), { code: 'ENOTFOUND' });
  });

  it('allowLoopback lets loopback through and nothing else', async () => {
    const options = { allowLoopback: true };
    for (const url of [
      'http://localhost/',
      'http://127.0.0.1:3000/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://receiver.test/',
    ])
      await guard(options).check(url);
    for (const url of [
      'http://10.1.2.3/',
      'http://169.254.169.254/',
      'http://0.0.0.0/',
      'http://192.168.0.1/',
      'http://[fd00::1]/',
    ])
      await refused(url, options);
  });

  it('allowPrivate opens private ranges but not loopback or link-local', async () => {
    const options = { allowPrivate: true };
    for (const url of [
      'http://10.1.2.3/',
      'http://192.168.0.1/',
      'http://100.64.1.1/',
      'http://[fd12::1]/',
      'http://internal.example/',
    ])
      await guard(options).check(url);
    for (const url of ['http://127.0.0.1/', 'http://169.254.169.254/', 'http://0.0.0.0/']) await refused(url, options);
  });

  it('allowHosts lets named hosts through without an address check', async () => {
    const options = { allowHosts: ['hooks.corp', '*.svc.cluster.local'] };
    const result = await guard(options).check('http://HOOKS.corp./x');
    assert.deepEqual(result.addresses, []);
    await guard(options).check('http://api.ns.svc.cluster.local/');
    await refused('http://internal.example/', options);
    await refused('http://10.1.2.3/', options);
  });

  it('allowCidrs lets address ranges through', async () => {
    const options = { allowCidrs: ['10.0.0.0/24', '169.254.170.2/32'] };
    await guard(options).check('http://internal.example/');
    await guard(options).check('http://169.254.170.2/creds');
    await guard(options).check('http://[::ffff:10.0.0.9]/');
    await refused('http://169.254.169.254/', options);
    await refused('http://10.0.1.1/', options);
    assert.throws(() => createUrlGuard({ allowCidrs: ['10.0.0.0/33'] }), { code: 'BAD_REQUEST' });
  });
});

describe('url guard: lookup', () => {
  it('answers like dns.lookup, with one address or all of them', async () => {
    const { lookup } = guard();
    const one = await new Promise<[string, number | undefined]>((ok, fail) =>
      lookup('public.example', {}, (err, address, family) => (err ? fail(err) : ok([address as string, family]))),
    );
    assert.deepEqual(one, ['93.184.215.14', 4]);
    const v6 = await new Promise<unknown>((ok, fail) =>
      lookup('public.example', { family: 6, all: true }, (err, addresses) => (err ? fail(err) : ok(addresses))),
    );
    assert.deepEqual(v6, [{ address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }]);
  });

  it('refuses a name that resolves to a forbidden address', async () => {
    const err = await new Promise<unknown>((ok) => guard().lookup('mixed.example', { all: true }, (e) => ok(e)));
    assert.ok(isRivuletError(err) && err.code === 'TARGET_URL_FORBIDDEN');
  });
});

describe('url guard: a real request through undici', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((_req, res) => res.end('reached'));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((ok) => server.close(() => ok())));

  async function send(options: UrlGuardOptions): Promise<string> {
    const dispatcher = new Agent({ connect: { lookup: guard(options).lookup } });
    try {
      const response = await request(`http://receiver.test:${port}/`, { dispatcher });
      return await response.body.text();
    } finally {
      await dispatcher.close();
    }
  }

  it('is refused at connect time when loopback is not allowed', async () => {
    await assert.rejects(send({}), (err: unknown) => hasCode(err, 'TARGET_URL_FORBIDDEN'));
  });

  it('gets through when loopback is allowed', async () => {
    assert.equal(await send({ allowLoopback: true }), 'reached');
  });
});
