/**
 * URL templates of seed 001 jobs: `https://api.example.org/people/{id}?src={source}`.
 *
 * `{key}` is replaced by the datamap's value for `key`, percent-encoded with
 * encodeURIComponent so a value cannot add path segments, a query or a different host;
 * `{{` and `}}` are literal braces, as in the original's Python `str.format` templates.
 * Values: strings as they are, arrays as their elements joined with `,` (each element
 * encoded, so a comma inside one is `%2C`), objects as JSON, other values as JSON text.
 */
import { RivuletError } from '../kernel/errors.js';
import { redactedUrl } from '../kernel/secret-urls.js';

type Piece = { text: string } | { key: string };

export interface CompiledUrlTemplate {
  readonly template: string;
  /** the placeholder keys, in order of first appearance */
  readonly keys: readonly string[];
  render(values: Record<string, unknown>): string;
}

/** Parses the template once; unbalanced braces or an empty `{}` → BAD_REQUEST. */
export function compileUrlTemplate(template: string): CompiledUrlTemplate {
  const pieces = parseTemplate(template);
  const keys = [...new Set(pieces.flatMap((piece) => ('key' in piece ? [piece.key] : [])))];
  return Object.freeze({
    template,
    keys: Object.freeze(keys),
    render: (values: Record<string, unknown>) =>
      pieces.map((piece) => ('key' in piece ? placeholderValue(piece.key, values) : piece.text)).join(''),
  });
}

export function renderUrlTemplate(template: string, values: Record<string, unknown>): string {
  return compileUrlTemplate(template).render(values);
}

function templateError(template: string, problem: string, offset: number): RivuletError {
  // the template is quoted back without the secrets it may hold (secret-urls.ts)
  const shown = redactedUrl(template);
  return new RivuletError('BAD_REQUEST', `URL template ${JSON.stringify(shown)}: ${problem} at offset ${offset}`, {
    details: { template: shown, offset, pointer: '/url' },
  });
}

function parseTemplate(template: string): Piece[] {
  if (typeof template !== 'string')
    throw new RivuletError('BAD_REQUEST', 'URL template must be a string', { details: { pointer: '/url' } });
  const pieces: Piece[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    const next = template[i + 1];
    if ((ch === '{' && next === '{') || (ch === '}' && next === '}')) {
      text += ch;
      i++;
    } else if (ch === '}') {
      throw templateError(template, 'a lone "}" (write "}}" for a literal brace)', i);
    } else if (ch === '{') {
      const close = template.indexOf('}', i + 1);
      const key = close === -1 ? '' : template.slice(i + 1, close);
      if (close === -1) throw templateError(template, 'an unclosed "{" (write "{{" for a literal brace)', i);
      if (key.length === 0 || key.includes('{')) throw templateError(template, `an invalid placeholder "{${key}}"`, i);
      if (text.length > 0) pieces.push({ text });
      pieces.push({ key });
      text = '';
      i = close;
    } else {
      text += ch;
    }
  }
  if (text.length > 0) pieces.push({ text });
  return pieces;
}

function placeholderValue(key: string, values: Record<string, unknown>): string {
  if (!Object.hasOwn(values, key) || values[key] === undefined) {
    throw new RivuletError('BAD_REQUEST', `URL template needs "{${key}}" but the datamap produced no value for it`, {
      details: { key },
    });
  }
  const value = values[key];
  if (Array.isArray(value)) return value.map((item) => encodeURIComponent(asText(item))).join(',');
  return encodeURIComponent(asText(value));
}

/** Strings are used as they are; anything else as its JSON text (`42`, `true`, `null`, `{"a":1}`). */
export function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}
