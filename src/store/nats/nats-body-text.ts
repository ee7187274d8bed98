/**
 * A message body's fields as JSON text, found by walking the text once. A body is
 * `JSON.stringify` of the same fields in the same order every time (`encodeBody`), so each
 * field's text can be spliced into an answer as it is, without parsing data and meta and
 * writing them again. A body of any other shape answers null, and is decoded whole instead.
 */

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

/** where the JSON value that starts at `at` ends; -1 if it does not. The text has no whitespace (JSON.stringify's). */
function valueEnd(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === 0x22) return stringEnd(text, at + 1);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (let i = at; i < text.length;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i = stringEnd(text, i + 1);
        if (i < 0) return -1;
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // a number, true, false or null: up to the next separator
  let i = at;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x2c || c === 0x7d || c === 0x5d) break;
    i++;
  }
  return i > at ? i : -1;
}

/** the end of a string whose text starts at `at` (after its opening quote), past its closing quote */
function stringEnd(text: string, at: number): number {
  for (let i = at; ;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return -1;
    // a quote after an odd number of backslashes is escaped
    let b = quote - 1;
    while (b >= at && text.charCodeAt(b) === 0x5c) b--;
    if ((quote - 1 - b) % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}
