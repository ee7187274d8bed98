/**
 * `--aether-jobs-dir`: aether job declarations (seed 001) loaded at start-up, as the admin, in
 * file-name order. A file holds one job or a list of jobs (JSON or YAML). As the seed says, an
 * existing job with the same id takes precedence: the folder only creates jobs that are not
 * there, it never changes one. A job may name topics that do not exist yet: it waits for them
 * (docs/dialects/aether.md). A file that does not parse or holds a refused job stops the
 * start with an error naming it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config/load-config.js';
import { isRivuletError } from '../kernel/errors.js';
import { Principal } from '../core/keys/key-service.js';
import { AetherJobs, type AetherOptions, type AetherServices } from '../dialects/aether/aether-jobs.js';

export interface AetherJobsDirOutcome {
  file: string;
  job: string;
  /** created: the job was new; kept: a job with that id existed and was left as it was */
  outcome: 'created' | 'kept';
}

export async function loadAetherJobsDir(
  dir: string,
  services: AetherServices,
  options: AetherOptions = {},
): Promise<AetherJobsDirOutcome[]> {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.(ya?ml|json)$/i.test(f))
      .sort();
  } catch (err) {
    throw new ConfigError(`--aether-jobs-dir: cannot read ${dir}: ${(err as Error).message}`);
  }
  const jobs = new AetherJobs(services, options);
  const admin = new Principal({
    id: 'aether-jobs-dir',
    name: 'start-up aether jobs',
    owner: 'admin',
    scopes: ['admin'],
    createdAt: services.clock.now().toISOString(),
    expiresAt: null,
  });
  const out: AetherJobsDirOutcome[] = [];
  for (const file of files) {
    const path = join(dir, file);
    let parsed: unknown;
    try {
      const text = readFileSync(path, 'utf8');
      parsed = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new ConfigError(`--aether-jobs-dir: ${path} does not parse: ${(err as Error).message}`);
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    for (const [i, job] of list.entries()) {
      try {
        const { job: view, created } = await jobs.upsert(job, admin, { keepExisting: true });
        out.push({ file, job: view.id, outcome: created ? 'created' : 'kept' });
      } catch (err) {
        if (isRivuletError(err)) {
          const pointer = typeof err.details?.['pointer'] === 'string' ? ` (at ${err.details['pointer']})` : '';
          throw new ConfigError(
            `--aether-jobs-dir: ${path}${Array.isArray(parsed) ? ` job ${i}` : ''}: ${err.message}${pointer}`,
          );
        }
        throw err;
      }
    }
  }
  return out;
}
