/**
 * Profiles: named (server URL, key) pairs kept in $XDG_CONFIG_HOME/rivulet/profiles.json
 * (~/.config when unset). The file holds secrets, so it is written 0600 in a 0700 directory.
 * RIVULET_URL and RIVULET_KEY override whatever the profile says, so scripts and CI need no file.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { usageError } from './cli-error.js';

export const DEFAULT_PROFILE = 'default';

export interface Profile {
  url: string;
  key: string;
}

interface ProfilesFile {
  profiles: Record<string, Profile>;
}

export interface Connection {
  url: string;
  key: string | undefined;
  profile: string;
}

export function profilesPath(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0
      ? env.XDG_CONFIG_HOME
      : join(env.HOME ?? homedir(), '.config');
  return join(base, 'rivulet', 'profiles.json');
}

function readProfiles(file: string): ProfilesFile {
  if (!existsSync(file)) return { profiles: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ProfilesFile>;
    return { profiles: typeof parsed.profiles === 'object' && parsed.profiles !== null ? parsed.profiles : {} };
  } catch (err) {
    throw usageError(
      `cannot read ${file}: ${(err as Error).message}`,
      'fix or delete the file, then run `rivulet login <url>` again',
    );
  }
}

function writeProfiles(file: string, content: ProfilesFile): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(dirname(file), 0o700);
  // Written beside and renamed, so a crash never leaves half a file of secrets.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

export function saveProfile(name: string, profile: Profile, env: NodeJS.ProcessEnv = process.env): string {
  const file = profilesPath(env);
  const content = readProfiles(file);
  content.profiles[name] = profile;
  writeProfiles(file, content);
  return file;
}

/** Answers whether there was such a profile. */
export function removeProfile(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = profilesPath(env);
  const content = readProfiles(file);
  if (!(name in content.profiles)) return false;
  delete content.profiles[name];
  writeProfiles(file, content);
  return true;
}

/** The server and key a command talks to: environment over profile. */
export function resolveConnection(profileName: string | undefined, env: NodeJS.ProcessEnv = process.env): Connection {
  const name = profileName ?? env.RIVULET_PROFILE ?? DEFAULT_PROFILE;
  const stored = readProfiles(profilesPath(env)).profiles[name];
  if (profileName !== undefined && stored === undefined && !env.RIVULET_URL) {
    throw usageError(`there is no profile "${name}"`, `run \`rivulet login <url> --profile ${name}\``);
  }
  const url = env.RIVULET_URL || stored?.url;
  if (!url) throw usageError('no server configured', 'run `rivulet login <url>`, or set RIVULET_URL and RIVULET_KEY');
  return { url: normaliseUrl(url), key: env.RIVULET_KEY || stored?.key, profile: name };
}

export function normaliseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`"${raw}" is not a URL`, 'give the server address with its scheme, e.g. http://localhost:8080');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`"${raw}" is not an http(s) URL`);
  return url.toString().replace(/\/+$/, '');
}
