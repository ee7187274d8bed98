/** `rivulet keys ls|create|revoke`: API keys, for admins. */
import type { Command } from 'commander';
import { usageError } from './cli-error.js';
import { clientFor, runAction } from './command-context.js';
import { addOutputOptions, outputMode, printJson, printList, type Column, type OutputFlags } from './output.js';
import { collect } from './quantities.js';
import type { KeyView } from '../../http/api-views.js';

const COLUMNS: Column<KeyView>[] = [
  { header: 'ID', value: (k) => k.id },
  { header: 'NAME', value: (k) => k.name || '-' },
  { header: 'OWNER', value: (k) => k.owner },
  { header: 'SCOPES', value: (k) => k.scopes.join(',') },
  { header: 'CREATED', value: (k) => k.createdAt },
  { header: 'EXPIRES', value: (k) => k.expiresAt ?? 'never' },
];

export function addKeysCommands(program: Command): void {
  const keys = program.command('keys').description('list, create and revoke API keys (admin)');

  addOutputOptions(keys.command('ls').alias('list').description('list keys (never their secrets)')).action(
    runAction(async (flags: OutputFlags, cmd: Command) => {
      const list = (await clientFor(cmd).request<{ keys: KeyView[] }>('GET', '/v1/keys')).body.keys;
      printList(process.stdout, outputMode(flags), list, COLUMNS, 'No keys.');
    }),
  );

  addOutputOptions(
    keys
      .command('create')
      .description('create a key; its secret is shown once')
      .requiredOption('--owner <owner>', 'who the key belongs to')
      .option(
        '--scope <scope>',
        'admin, or produce:|consume:|manage: and a stream pattern (repeat for several)',
        collect,
      )
      .option('--name <name>', 'a label for the key')
      .option('--expires <time>', 'expiry time (RFC 3339)')
      .addHelpText(
        'after',
        '\nExample:\n  rivulet keys create --owner shop --scope produce:orders --scope consume:orders.*',
      ),
    false,
  ).action(
    runAction(
      async (
        flags: OutputFlags & { owner: string; scope?: string[]; name?: string; expires?: string },
        cmd: Command,
      ) => {
        if (!flags.scope || flags.scope.length === 0)
          throw usageError('a key needs at least one --scope', 'e.g. --scope produce:orders or --scope admin');
        const body = {
          owner: flags.owner,
          scopes: flags.scope,
          ...(flags.name && { name: flags.name }),
          ...(flags.expires && { expiresAt: flags.expires }),
        };
        const created = (
          await clientFor(cmd).request<{ key: KeyView; secret: string }>('POST', '/v1/keys', { json: body })
        ).body;
        if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', created);
        process.stderr.write(
          `Key ${created.key.id} created for ${created.key.owner} (${created.key.scopes.join(', ')}). Its secret, shown only now:\n`,
        );
        process.stdout.write(`${created.secret}\n`);
      },
    ),
  );

  keys
    .command('revoke')
    .description('revoke a key; requests made with it are refused from now on')
    .argument('<id>', 'key id (see `rivulet keys ls`)')
    .action(
      runAction(async (id: string, _flags: object, cmd: Command) => {
        await clientFor(cmd).request('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
        process.stdout.write(`Key ${id} revoked.\n`);
      }),
    );
}
