/** `rivulet login <url>` and `rivulet logout`: keep or forget a server and its key. */
import type { Command } from 'commander';
import { usageError } from './cli-error.js';
import { runAction } from './command-context.js';
import { ApiClient } from './http-client.js';
import { addOutputOptions, outputMode, printJson, type OutputFlags } from './output.js';
import { DEFAULT_PROFILE, normaliseUrl, removeProfile, saveProfile } from './profile.js';
import { askSecret, readStdin } from './prompt.js';
import type { KeyView } from '../../http/api-views.js';

export function addLoginCommands(program: Command): void {
  const login = program
    .command('login')
    .description('check a key against a server and keep both in a profile')
    .argument('<url>', 'the server, e.g. http://localhost:8080')
    .option('--key <key>', 'the API key (otherwise read from stdin, or asked for on a terminal)')
    .addHelpText(
      'after',
      '\nExamples:\n  rivulet login http://localhost:8080 --key "$(cat data/admin.key)"\n  cat admin.key | rivulet login https://rivulet.example.com --profile prod',
    );
  addOutputOptions(login, false).action(
    runAction(async (rawUrl: string, flags: { key?: string } & OutputFlags, cmd: Command) => {
      const url = normaliseUrl(rawUrl);
      const name = cmd.optsWithGlobals<{ profile?: string }>().profile ?? DEFAULT_PROFILE;
      const key = (flags.key ?? (process.stdin.isTTY ? await askSecret('API key: ') : await readStdin())).trim();
      if (key.length === 0)
        throw usageError('no key given', 'pass --key, pipe the key on stdin, or type it when asked');
      const who = (await new ApiClient({ url, key, profile: name }).request<KeyView>('GET', '/v1/whoami')).body;
      const file = saveProfile(name, { url, key });
      if (outputMode(flags) === 'json') printJson(process.stdout, 'json', { profile: name, url, key: who, file });
      else
        process.stdout.write(
          `Logged in to ${url} as ${who.owner} (key ${who.name || who.id}; scopes ${who.scopes.join(', ')}).\nProfile "${name}" saved in ${file}.\n`,
        );
    }),
  );

  program
    .command('logout')
    .description('forget the profile (the key itself stays valid on the server)')
    .action(
      runAction(async (_flags: object, cmd: Command) => {
        const name = cmd.optsWithGlobals<{ profile?: string }>().profile ?? DEFAULT_PROFILE;
        if (!removeProfile(name)) throw usageError(`there is no profile "${name}"`);
        process.stdout.write(`Profile "${name}" removed.\n`);
      }),
    );
}
