/** What every client command shares: its connection, and one way of ending with an exit code. */
import type { Command } from 'commander';
import { reportError } from './cli-error.js';
import { ApiClient } from './http-client.js';
import { resolveConnection } from './profile.js';

export function clientFor(cmd: Command): ApiClient {
  const { profile } = cmd.optsWithGlobals<{ profile?: string }>();
  return new ApiClient(resolveConnection(profile));
}

/**
 * Wraps an action so a failure prints its message and hint and sets the documented exit
 * code. The exit code is set rather than `process.exit()` called, so stdout drains first.
 */
export function runAction<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}
