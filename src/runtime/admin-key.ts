/**
 * The first admin key. With RIVULET_ADMIN_KEY set, that secret is registered as the admin
 * key. Otherwise, on a store with no keys at all, one is generated, printed once, and
 * written to <data-dir>/admin.key (mode 0600) so a newcomer can find it again.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyService } from '../core/keys/key-service.js';

export const ADMIN_KEY_FILE = 'admin.key';

export type AdminKeyOutcome =
  { kind: 'configured' } | { kind: 'existing' } | { kind: 'generated'; secret: string; file: string };

export async function ensureAdminKey(
  keys: KeyService,
  options: { adminKey?: string; dataDir: string },
): Promise<AdminKeyOutcome> {
  if (options.adminKey) {
    if (options.adminKey.length < 16) throw new Error('the admin key must be at least 16 characters long');
    await keys.register(options.adminKey, {
      id: 'admin',
      name: 'admin (configured)',
      owner: 'admin',
      scopes: ['admin'],
      expiresAt: null,
    });
    return { kind: 'configured' };
  }
  if ((await keys.count()) > 0) return { kind: 'existing' };
  const { secret } = await keys.create({ name: 'admin (generated)', owner: 'admin', scopes: ['admin'] });
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, ADMIN_KEY_FILE);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { kind: 'generated', secret, file };
}
