/**
 * A message body's fields as JSON text, found by walking the text once. A body is
 * `JSON.stringify` of the same fields in the same order every time (`encodeBody`), so each
 * field's text can be spliced into an answer as it is, without parsing data and meta and
 * writing them again. A body of any other shape answers null, and is decoded whole instead.
 */
import { skipValue } from '../json-field.js';

export interface BodyTexts {
  /** JSON strings, quoted and escaped */
  id: string;
  type: string;
  source: string;
  time: string;
  /** a JSON string or `null` */
  producer: string;
  data: string;
  meta: string;
  /** digits or `null` */
  schemaVersion: string;
}

const KEYS = [
  '{"id":',
  ',"type":',
  ',"source":',
  ',"time":',
  ',"producer":',
  ',"data":',
  ',"meta":',
  ',"schemaVersion":',
];

export function bodyTexts(text: string): BodyTexts | null {
  const values: string[] = [];
  let at = 0;
  for (const key of KEYS) {
    if (!text.startsWith(key, at)) return null;
    at += key.length;
    const end = valueEnd(text, at);
    if (end < 0) return null;
    values.push(text.slice(at, end));
    at = end;
  }
  if (at !== text.length - 1 || text.charCodeAt(at) !== 0x7d) return null;
  const [id, type, source, time, producer, data, meta, schemaVersion] = values as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // the fields the answer writes without looking into them must be what encodeBody writes
  if (type.charCodeAt(0) !== 0x22 || time.charCodeAt(0) !== 0x22 || meta.charCodeAt(0) !== 0x7b) return null;
  return { id, type, source, time, producer, data, meta, schemaVersion };
}

/** where the JSON value that starts at `at` ends; -1 if the text ends first or holds no value there */
function valueEnd(text: string, at: number): number {
  if (at >= text.length) return -1;
  try {
    const end = skipValue(text, at);
    return end > at ? end : -1;
  } catch {
    return -1;
  }
}
