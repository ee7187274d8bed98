/**
 * `--specs-dir`: spec files applied at start-up, as the admin, in file-name order. A file
 * whose spec is already the dataset's latest revision (same hash, not failed) is skipped, so
 * restarting does not pile up revisions. A file that does not parse or is refused stops the
 * start with an error naming it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/load-config.js';
import { isRivuletError } from '../kernel/errors.js';
import { Principal } from '../core/keys/key-service.js';
import { stateOf } from '../core/specs/revision-model.js';
import type { SpecService } from '../core/specs/spec-service.js';
import { parseSpecText } from '../core/specs/spec-text.js';

export interface SpecsDirOutcome {
  file: string;
  /** the revision made, or null when the file's spec was already the latest */
  revision: string | null;
}

export async function applySpecsDir(dir: string, specs: SpecService): Promise<SpecsDirOutcome[]> {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.(ya?ml|json)$/i.test(f))
      .sort();
  } catch (err) {
    throw new ConfigError(`--specs-dir: cannot read ${dir}: ${(err as Error).message}`);
  }
  const now = specs.now();
  const admin = new Principal({
    id: 'specs-dir',
    name: 'start-up specs',
    owner: 'admin',
    scopes: ['admin'],
    createdAt: now,
    expiresAt: null,
  });
  const out: SpecsDirOutcome[] = [];
  for (const file of files) {
    const path = join(dir, file);
    try {
      const contents = parseSpecText(readFileSync(path, 'utf8'));
      const spec = specs.parse(contents);
      const latestNumber = await specs.revisions.latestNumber(spec.meta.owner, spec.meta.dataset);
      const latest =
        latestNumber > 0 ? await specs.revisions.revision(spec.meta.owner, spec.meta.dataset, latestNumber) : null;
      if (latest && latest.hash === spec.hash && stateOf(latest) !== 'FAILED') {
        out.push({ file, revision: null });
        continue;
      }
      const doc = await specs.upload(contents, admin, { prune: false });
      out.push({ file, revision: doc.id });
    } catch (err) {
      if (isRivuletError(err)) throw new ConfigError(`--specs-dir: ${path}: ${err.message}`);
      throw err;
    }
  }
  return out;
}
