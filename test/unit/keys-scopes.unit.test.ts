import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RivuletError } from '../../src/kernel/errors.js';
import { KeyService, Principal, hashSecret } from '../../src/core/keys/key-service.js';
import { assertScope, grantsAllow, grantsSee, parseGrants } from '../../src/core/keys/scopes.js';
import { openTestStore } from '../support/test-app.js';

describe('scopes', () => {
  it("never reach an internal stream; its owner does within the key's patterns, and nobody produces into it", () => {
    const key = (owner: string, scopes: string[]) =>
      new Principal({ id: owner, name: '', owner, scopes, createdAt: '', expiresAt: null });
    const bob = key('bob', ['manage:*']);
    const alice = key('alice', ['consume:*', 'manage:orders*']);
    const admin = key('admin', ['admin']);
    for (const stream of [
      '_sink.s1.attempts',
      '_rule.r1.actions',
      'orders.dlq',
      'orders.retry-dlq',
      'okdata.set.failed.1',
    ]) {
      for (const action of ['produce', 'consume', 'manage'] as const)
        assert.equal(bob.can(action, stream), false, `bob ${action} ${stream}`);
      assert.equal(bob.sees(stream), false);
      assert.equal(bob.canAsOwner('consume', stream, 'alice'), false, "another owner's");
      assert.equal(alice.canAsOwner('consume', stream, 'alice'), true, `alice reads her ${stream}`);
      assert.equal(alice.canAsOwner('produce', stream, 'alice'), false, 'nobody produces');
      assert.equal(alice.sees(stream, 'alice'), true);
      assert.equal(admin.can('consume', stream), true);
      assert.equal(admin.can('produce', stream), false, 'not even an admin');
    }
    assert.equal(alice.canAsOwner('manage', 'orders.dlq', 'alice'), true);
    assert.equal(alice.canAsOwner('manage', '_sink.s1.attempts', 'alice'), false, 'outside her manage pattern');
    assert.equal(bob.can('produce', 'orders'), true, 'ordinary streams as before');
    assert.equal(bob.can('produce', 'okdata.set.processed.1'), true);
  });

  it('matches stream patterns with * and escapes everything else', () => {
    const { admin, grants } = parseGrants(['produce:orders.*', 'consume:audit', 'manage:team-a*']);
    assert.equal(admin, false);
    assert.equal(grantsAllow(grants, 'produce', 'orders.eu'), true);
    assert.equal(grantsAllow(grants, 'produce', 'ordersXeu'), false, '. is literal');
    assert.equal(grantsAllow(grants, 'produce', 'orders'), false);
    assert.equal(grantsAllow(grants, 'consume', 'orders.eu'), false);
    assert.equal(grantsAllow(grants, 'consume', 'audit'), true);
    assert.equal(grantsAllow(grants, 'consume', 'audit2'), false, 'anchored');
    assert.equal(grantsSee(grants, 'orders.x'), true);
    assert.equal(grantsSee(grants, 'other'), false);
  });

  it('lets manage imply produce and consume', () => {
    const { grants } = parseGrants(['manage:team-a*']);
    for (const action of ['produce', 'consume', 'manage'] as const)
      assert.equal(grantsAllow(grants, action, 'team-a.x'), true);
    assert.equal(grantsAllow(grants, 'produce', 'team-b'), false);
  });

  it('recognises admin and refuses malformed scopes with a pointer', () => {
    assert.equal(parseGrants(['admin']).admin, true);
    assertScope('admin', '/scopes/0');
    assertScope('consume:*', '/scopes/0');
    for (const bad of ['root', 'produce:', 'read:orders', 'produce:a/b', 'produce:a b']) {
      assert.throws(
        () => assertScope(bad, '/scopes/3'),
        (e: unknown) =>
          e instanceof RivuletError && e.code === 'VALIDATION_FAILED' && e.details?.pointer === '/scopes/3',
        bad,
      );
    }
  });
});

describe('keys', () => {
  it('creates keys shown once, stores only a hash, authenticates and authorises', async () => {
    const store = await openTestStore();
    try {
      const keys = new KeyService(store.documents, { now: () => new Date() });
      const { key, secret } = await keys.create({ owner: 'ann', scopes: ['produce:orders.*'] });
      assert.match(secret, /^rvl_/);
      const docs = await store.documents.list('keys');
      assert.ok(
        docs.every((d) => !JSON.stringify(d).includes(secret)),
        'the secret is never stored',
      );
      assert.ok(docs.some((d) => d.key === hashSecret(secret)));
      const p = await keys.authenticate(secret);
      assert.equal(p?.owner, 'ann');
      assert.equal(p?.can('produce', 'orders.eu'), true);
      assert.equal(p?.can('consume', 'orders.eu'), false);
      assert.equal(p?.can('admin'), false);
      assert.equal(await keys.authenticate('rvl_wrong'), null);
      assert.equal((await keys.get(key.id)).owner, 'ann');
      const admin = await keys.create({ owner: 'root', scopes: ['admin'] });
      const a = await keys.authenticate(admin.secret);
      assert.equal(a?.admin, true);
      assert.equal(a?.can('manage', 'anything'), true);
      assert.equal(a?.can('admin'), true);
      await assert.rejects(
        keys.create({ owner: 'x', scopes: [] }),
        (e: unknown) => e instanceof RivuletError && e.code === 'VALIDATION_FAILED',
      );
      await assert.rejects(
        keys.create({ owner: 'x', scopes: ['nope'] }),
        (e: unknown) => e instanceof RivuletError && e.details?.pointer === '/scopes/0',
      );
      await assert.rejects(
        keys.get('missing'),
        (e: unknown) => e instanceof RivuletError && e.code === 'KEY_NOT_FOUND',
      );
    } finally {
      await store.close();
    }
  });

  it('stops accepting an expired key', async () => {
    const store = await openTestStore();
    try {
      let now = Date.parse('2024-01-01T00:00:00Z');
      const keys = new KeyService(store.documents, { now: () => new Date(now) });
      const { secret } = await keys.create({ owner: 'o', scopes: ['admin'], expiresAt: '2024-01-01T01:00:00Z' });
      assert.ok(await keys.authenticate(secret));
      now += 2 * 3600_000;
      assert.equal(await keys.authenticate(secret), null, 'expired, even while cached');
      await assert.rejects(
        keys.create({ owner: 'o', scopes: ['admin'], expiresAt: 'soon' }),
        (e: unknown) => e instanceof RivuletError && e.details?.pointer === '/expiresAt',
      );
      // the clock now stands at 02:00: an hour ago is the past, and a key cannot be made expired
      await assert.rejects(
        keys.create({ owner: 'o', scopes: ['admin'], expiresAt: '2024-01-01T01:00:00Z' }),
        (e: unknown) =>
          e instanceof RivuletError && e.code === 'VALIDATION_FAILED' && e.details?.pointer === '/expiresAt',
      );
    } finally {
      await store.close();
    }
  });

  it('revokes a key at once on this process, and other processes within the cache lifetime', async () => {
    const store = await openTestStore();
    try {
      let now = 0;
      const clock = { now: () => new Date(now) };
      const here = new KeyService(store.documents, clock);
      const elsewhere = new KeyService(store.documents, clock);
      const { key, secret } = await here.create({ owner: 'o', scopes: ['admin'] });
      assert.ok(await elsewhere.authenticate(secret), 'cached as valid elsewhere');
      await here.revoke(key.id);
      assert.equal(await here.authenticate(secret), null);
      assert.ok(await elsewhere.authenticate(secret), 'the other cache has not expired yet');
      now += 5_001;
      assert.equal(await elsewhere.authenticate(secret), null);
      await assert.rejects(
        here.revoke(key.id),
        (e: unknown) => e instanceof RivuletError && e.code === 'KEY_NOT_FOUND',
      );
    } finally {
      await store.close();
    }
  });

  it('stops accepting a registered secret at once when another replaces it', async () => {
    const store = await openTestStore();
    try {
      const keys = new KeyService(store.documents, { now: () => new Date() });
      const admin = { id: 'admin', name: 'admin', owner: 'admin', scopes: ['admin'], expiresAt: null };
      await keys.register('rvl_first-secret', admin);
      assert.ok(await keys.authenticate('rvl_first-secret'), 'cached as valid');
      await keys.register('rvl_second-secret', admin);
      assert.equal(
        await keys.authenticate('rvl_first-secret'),
        null,
        'the replaced secret is not served from the cache',
      );
      assert.equal(keys.authenticate('rvl_first-secret'), null, 'answered from the cache, without a promise');
      assert.ok(await keys.authenticate('rvl_second-secret'));
    } finally {
      await store.close();
    }
  });
});
