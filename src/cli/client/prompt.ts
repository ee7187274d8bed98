/** Questions asked on a terminal: a yes/no confirmation and a secret typed without echo. */
import { createInterface } from 'node:readline';
import { usageError } from './cli-error.js';

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export async function askSecret(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo nothing of what is typed; the question itself is written before muting.
  process.stderr.write(question);
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** All of stdin as text, for a key piped in (`echo $KEY | rivulet login URL`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Asks before deleting on a terminal; refuses (exit 2) without `--yes` when stdin is not a
 * terminal, so a script never deletes by accident.
 */
export async function confirmDeletion(what: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY)
    throw usageError(`refusing to delete ${what} without confirmation`, 'pass --yes to delete from a script');
  if (!(await confirm(`Delete ${what}?`))) throw usageError('not deleted');
}
