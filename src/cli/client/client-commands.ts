/** Registers the client commands (everything but `serve`) on the `rivulet` program. */
import { Option, type Command } from 'commander';
import { addCompletionCommand } from './completion-command.js';
import { addKeysCommands } from './keys-commands.js';
import { addLoginCommands } from './login-commands.js';
import { addProduceCommand } from './produce-command.js';
import { addReadCommand } from './read-command.js';
import { addStatusCommand } from './status-command.js';
import { addStreamsCommands } from './streams-commands.js';

export function addClientCommands(program: Command): void {
  program.addOption(new Option('-p, --profile <name>', 'profile from `rivulet login` (default: "default")').env('RIVULET_PROFILE'));
  program.addHelpText('after', [
    '',
    'Exit codes: 0 ok, 1 the server refused (4xx), 2 usage or configuration error,',
    '            3 cannot reach the server, 4 server error (5xx).',
    'Environment: RIVULET_URL and RIVULET_KEY override the profile.',
  ].join('\n'));
  addLoginCommands(program);
  addStatusCommand(program);
  addStreamsCommands(program);
  addProduceCommand(program);
  addReadCommand(program);
  addKeysCommands(program);
  addCompletionCommand(program);
}
