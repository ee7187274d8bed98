#!/usr/bin/env node
/** The `rivulet` command. Each command is a thin layer over the same functions the server uses. */
import { Command } from 'commander';
import { addServeCommand } from './serve-command.js';
import { readVersion } from '../runtime/version.js';

const program = new Command('rivulet')
  .description('Rivulet: an HTTP-first event streaming server')
  .version(readVersion())
  .showHelpAfterError('(run with --help for usage)');
addServeCommand(program);
await program.parseAsync(process.argv);
