#!/usr/bin/env node
/** The `rivulet` command. Each command is a thin layer over the same functions the server uses. */
import { Command, CommanderError } from 'commander';
import { addServeCommand } from './serve-command.js';
import { addClientCommands } from './client/client-commands.js';
import { EXIT } from './client/cli-error.js';
import { readVersion } from '../runtime/version.js';

const program = new Command('rivulet')
  .description('Rivulet: an HTTP-first event streaming server')
  .version(readVersion())
  .showHelpAfterError('(run with --help for usage)')
  // Usage errors exit 2 (not commander's 1, which means "the server refused"); set before
  // the commands are added so they inherit it.
  .exitOverride();
addServeCommand(program);
addClientCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
}
