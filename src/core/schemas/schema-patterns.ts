/**
 * JSON Schema patterns (`pattern`, `patternProperties`) run on RE2, in time linear in the
 * string, whatever the pattern: `^(a+)+$` against a long string of `a`s followed by `!` holds
 * a backtracking engine for minutes. Ajv takes the engine through its `code.regExp` option;
 * the schema is walked first so a pattern RE2 cannot run (a backreference, lookaround) is
 * refused at registration with the pointer of the keyword that holds it.
 */
import type { Options } from 'ajv';
import { compileLinearRegex } from '../../mapping/linear-regex.js';

type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

/** Ajv's regular expression engine: RE2 via src/mapping/linear-regex.ts. */
export const linearRegExpEngine: RegExpEngine = Object.assign(
  // Ajv compiles with the `u` flag; RE2 matches code points, so the flag changes nothing here
  (pattern: string) => compileLinearRegex(pattern),
  { code: 'linearRegExp' },
);

/** Keywords whose values are data, not schemas: patterns inside them are not patterns. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'examples', 'default']);

/** Compiles every pattern of `schema` for RE2; throws UNSUPPORTED_REGEX naming the first that fails. */
export function checkSchemaPatterns(schema: unknown): void {
  const pending: Array<{ node: unknown; pointer: string }> = [{ node: schema, pointer: '' }];
  while (pending.length > 0) {
    const { node, pointer } = pending.pop() as { node: unknown; pointer: string };
    if (Array.isArray(node)) {
      node.forEach((item, i) => pending.push({ node: item, pointer: `${pointer}/${i}` }));
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    for (const [key, value] of Object.entries(node)) {
      const at = `${pointer}/${escapePointer(key)}`;
      if (key === 'pattern' && typeof value === 'string') compileLinearRegex(value, { pointer: at });
      else if (key === 'patternProperties' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const property of Object.keys(value))
          compileLinearRegex(property, { pointer: `${at}/${escapePointer(property)}` });
      }
      if (!DATA_KEYWORDS.has(key)) pending.push({ node: value, pointer: at });
    }
  }
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
