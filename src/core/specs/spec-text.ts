/**
 * Spec documents as text: YAML (a superset of JSON) into plain JSON values, with the same
 * guards as every JSON body: bounded nesting, no prototype-polluting keys, no YAML aliases
 * blowing up in size.
 */
import { parse as parseYaml } from 'yaml';
import { RivuletError } from '../../kernel/errors.js';
import { specInvalid } from './spec-invalid.js';

export function parseSpecText(text: string, maxDepth = 64): unknown {
  if (text.trim() === '') throw new RivuletError('INVALID_JSON', 'the body is empty; send a spec (YAML or JSON)');
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  } catch (err) {
    throw specInvalid(`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, '');
  }
  check(value, 0, maxDepth);
  // only JSON values go on (YAML's timestamps or binary would not round-trip)
  return JSON.parse(JSON.stringify(value ?? null)) as unknown;
}

function check(value: unknown, depth: number, max: number): void {
  if (value === null || typeof value !== 'object') return;
  if (depth >= max)
    throw new RivuletError('NESTING_TOO_DEEP', `the spec nests deeper than ${max} levels`, { details: { limit: max } });
  for (const [key, v] of Object.entries(value)) {
    const polluting =
      key === '__proto__' || (key === 'constructor' && v !== null && typeof v === 'object' && 'prototype' in v);
    if (polluting)
      throw new RivuletError('FORBIDDEN_KEY', 'the spec uses a forbidden key ("__proto__" or "constructor.prototype")');
    check(v, depth + 1, max);
  }
}
