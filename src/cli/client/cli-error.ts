/**
 * The exit codes scripts can rely on, and the one error type commands throw to reach them.
 * They are part of the CLI's contract (docs/cli.md): never renumber them.
 */
export const EXIT = {
  OK: 0,
  /** the server refused the request (4xx) */
  REFUSED: 1,
  /** bad usage, or a missing or broken profile */
  USAGE: 2,
  /** the server could not be reached */
  UNREACHABLE: 3,
  /** the server failed (5xx) */
  SERVER: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** what the user can do about it */
    readonly hint?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string, hint?: string) => new CliError(EXIT.USAGE, message, hint);

/** Prints the error the way every command does, and answers the exit code. */
export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): ExitCode {
  if (err instanceof CliError) {
    stderr.write(`rivulet: ${err.message}\n`);
    if (err.hint) stderr.write(`  hint: ${err.hint}\n`);
    return err.exitCode;
  }
  stderr.write(`rivulet: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT.SERVER;
}
