/**
 * A full disk: the data directory is a real 2 MiB tmpfs, filled up with a ballast file.
 * Writes are refused with 507 STORAGE_FULL before any acknowledgement, every event that was
 * acknowledged is still there, and once space returns writes succeed again without a restart.
 * Needs root (mount); where mounting is refused the test is skipped and says why.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/resources.js';
import { buildTestApp } from '../support/test-app.js';

function tryMount(dir: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a small tmpfs here (${String((err as Error).message).split('\n')[0]}); a real full filesystem is needed`;
  }
}

/** writes until the filesystem refuses; answers the ballast's path */
function fillUp(dir: string): string {
  const path = join(dir, 'ballast');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  return path;
}

const mountDir = tempDir('rivulet-full');
const unmountable = tryMount(mountDir);
if (!unmountable) execFileSync('umount', [mountDir]);

describe('disk full', () => {
  it('refuses writes with 507 STORAGE_FULL, loses nothing acknowledged, and writes again once space returns', { skip: unmountable ?? false }, async () => {
    const dir = tempDir('rivulet-full');
    assert.equal(tryMount(dir), null);
    try {
      const t = await buildTestApp({ dataDir: dir });
      try {
        const produce = (id: string) => t.app.inject({ method: 'POST', url: '/v1/streams/orders/events', headers: t.admin, payload: { type: 't', id, data: { pad: 'x'.repeat(2000) } } });
        assert.equal((await t.app.inject({ method: 'POST', url: '/v1/streams', headers: t.admin, payload: { name: 'orders' } })).statusCode, 201);
        const acked: string[] = [];
        for (let i = 0; i < 20; i++) {
          const res = await produce(`before-${i}`);
          assert.equal(res.statusCode, 201, res.body);
          acked.push(`before-${i}`);
        }
        const ballast = fillUp(dir);
        let refusal: { statusCode: number; headers: Record<string, unknown>; json(): Record<string, unknown> } | undefined;
        for (let i = 0; i < 500 && !refusal; i++) {
          const res = await produce(`full-${i}`);
          if (res.statusCode === 201) acked.push(`full-${i}`);
          else refusal = res;
        }
        assert.ok(refusal, 'a write was refused once the disk filled up');
        assert.equal(refusal.statusCode, 507);
        assert.equal(refusal.json().code, 'STORAGE_FULL');
        assert.equal(refusal.headers['retry-after'], '5');
        // still refused while full, and reads keep working
        assert.equal((await produce('still-full')).statusCode, 507);
        const readAll = async () => {
          const res = await t.app.inject({ method: 'GET', url: '/v1/streams/orders/events?limit=10000', headers: t.admin });
          assert.equal(res.statusCode, 200);
          return (res.json() as { events: { id: string; seq: number }[] }).events;
        };
        const whileFull = await readAll();
        assert.deepEqual(whileFull.map((e) => e.id), acked, 'every acknowledged event is there, nothing refused is');

        rmSync(ballast);
        const again = await produce('after');
        assert.equal(again.statusCode, 201, again.body);
        acked.push('after');
        const after = await readAll();
        assert.deepEqual(after.map((e) => e.id), acked);
        assert.deepEqual(after.map((e) => e.seq), acked.map((_, i) => i + 1), 'seqs have no gap');
      } finally {
        await t.close();
      }
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});
