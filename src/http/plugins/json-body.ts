/**
 * The JSON body parser every API shares: refuses invalid UTF-8 (rather than silently
 * replacing it), nesting beyond the configured depth (checked before parsing), and
 * `__proto__` / `constructor.prototype` keys that could poison objects later merged, and
 * `\uD800`-style escapes of lone surrogates, which are not text (RFC 8259 §8.2; I-JSON,
 * RFC 7493 §2.1) and make later encoding steps (URLs, UTF-8 storage) throw.
 */
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { RivuletError } from '../../kernel/errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new RivuletError('INVALID_UTF8', 'the body is not valid UTF-8');
  }
}

/**
 * true when arrays/objects nest deeper than `max`; a linear scan that never recurses. Strings
 * are skipped with `indexOf` to their closing quote rather than a character at a time: most
 * of an event body is keys and string values.
 */
export function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // to the closing quote: one preceded by an even run of backslashes
      for (;;) {
        const q = text.indexOf('"', i + 1);
        if (q < 0) return false; // unterminated: the parser refuses it
        let backslashes = 0;
        while (text.charCodeAt(q - 1 - backslashes) === 92 /* \ */) backslashes++;
        i = q;
        if (backslashes % 2 === 0) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

export function parseJsonText(text: string, maxDepth: number): unknown {
  if (text.trim() === '') throw new RivuletError('INVALID_JSON', 'the body is empty; send a JSON document');
  if (nestingExceeds(text, maxDepth)) {
    throw new RivuletError('NESTING_TOO_DEEP', `the JSON body nests deeper than ${maxDepth} levels`, {
      details: { limit: maxDepth },
    });
  }
  let value: unknown;
  try {
    // secure-json-parse scans the text with its own patterns after parsing; a body that holds
    // neither word nor any \u escape (which could spell them) cannot carry a forbidden key
    value = mayHoldForbiddenKey(text)
      ? secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
      : JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // secure-json-parse reports these as SyntaxErrors too; its message tells them apart
    if (/forbidden (prototype|constructor) property/i.test(message)) {
      throw new RivuletError('FORBIDDEN_KEY', 'the body uses a forbidden key ("__proto__" or "constructor.prototype")');
    }
    throw new RivuletError('INVALID_JSON', `the body is not valid JSON: ${message}`);
  }
  // valid UTF-8 cannot carry a surrogate, so only a \u escape can: skip the walk without one
  if (/\\u[dD][89a-fA-F]/.test(text) && holdsLoneSurrogate(value)) {
    throw new RivuletError(
      'INVALID_JSON',
      'the body escapes a lone surrogate (e.g. "\\ud800"); strings must be valid Unicode',
    );
  }
  return value;
}

function mayHoldForbiddenKey(text: string): boolean {
  return text.includes('\\u') || text.includes('__proto__') || text.includes('constructor');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** true when any string or key in the parsed value holds an unpaired surrogate; never recurses */
function holdsLoneSurrogate(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (LONE_SURROGATE.test(key)) return true;
        stack.push(item);
      }
    }
  }
  return false;
}

export function parseJsonBody(body: Buffer, maxDepth: number): unknown {
  return parseJsonText(decodeUtf8(body), maxDepth);
}

export const JSON_TYPES = ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'];

/** Registers the JSON parser for the JSON media types on `app` (and the contexts it encapsulates). */
export function registerJsonParser(app: FastifyInstance, maxDepth: number): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, maxDepth));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
