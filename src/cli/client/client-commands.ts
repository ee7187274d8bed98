/** Registers the client commands (everything but `serve`) on the `rivulet` program. */
import { Option, type Command } from 'commander';
import { addApplyCommand } from './apply-command.js';
import { addCompletionCommand } from './completion-command.js';
import { addConsumeCommand } from './consume-command.js';
import { addConsumersCommands } from './consumers-commands.js';
import { addKeysCommands } from './keys-commands.js';
import { addLoginCommands } from './login-commands.js';
import { addProduceCommand } from './produce-command.js';
import { addReadCommand } from './read-command.js';
import { addRulesCommands } from './rules-commands.js';
import { addSchemasCommands } from './schemas-commands.js';
import { addSinksCommands } from './sinks-commands.js';
import { addStatusCommand } from './status-command.js';
import { addStreamsCommands } from './streams-commands.js';
import { addTailCommand } from './tail-command.js';

export function addClientCommands(program: Command): void {
  program.addOption(
    new Option('-p, --profile <name>', 'profile from `rivulet login` (default: "default")').env('RIVULET_PROFILE'),
  );
  program.addHelpText(
    'after',
    [
      '',
      'Exit codes: 0 ok, 1 the server refused (4xx), 2 usage or configuration error,',
      '            3 cannot reach the server, 4 server error (5xx).',
      'Environment: RIVULET_URL and RIVULET_KEY override the profile.',
    ].join('\n'),
  );
  addLoginCommands(program);
  addStatusCommand(program);
  addStreamsCommands(program);
  addProduceCommand(program);
  addReadCommand(program);
  addTailCommand(program);
  addConsumeCommand(program);
  addConsumersCommands(program);
  addSinksCommands(program);
  addSchemasCommands(program);
  addRulesCommands(program);
  addKeysCommands(program);
  addApplyCommand(program);
  addCompletionCommand(program);
}
