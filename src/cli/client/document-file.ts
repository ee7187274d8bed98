/** A JSON or YAML document from a file (or stdin, `-`), for `sinks create -f`, `rules create -f` and the like. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { usageError } from './cli-error.js';

export function readDocumentFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both
    value = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw usageError(
      `${file}: not JSON or YAML: ${(err as Error).message.split('\n')[0]}`,
      `write ${what} as a JSON or YAML object`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError(`${file}: ${what} must be a JSON or YAML object`);
  }
  return value;
}

/** A JSON value given inline on the command line (`--event '{"type":"t"}'`). */
export function parseJsonArgument(text: string, flag: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw usageError(`${flag} is not JSON: ${(err as Error).message}`);
  }
}
