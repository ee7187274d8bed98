/**
 * Finds where a field's value lies in the text of a JSON object, without parsing it: the stored
 * answer of an event (SQLite) or a message body (nats) holds its data as text, and a reader that
 * wants only the data, or wants to splice it into an answer, takes that slice. The text must be
 * JSON as JSON.stringify writes it (no whitespace).
 */

/** index just past the JSON value that starts at `at`; throws when the text ends first */
export function skipValue(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c === 0x22) return skipString(text, at);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const d = text.charCodeAt(i);
      if (d === 0x22) i = skipString(text, i) - 1;
      else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return i + 1;
      }
    }
    throw new Error('unterminated JSON value');
  }
  // a number, true, false or null: up to the next separator
  let i = at;
  while (i < text.length) {
    const d = text.charCodeAt(i);
    if (d === 0x2c || d === 0x7d || d === 0x5d) break;
    i++;
  }
  return i;
}

/** index just past the string literal whose opening quote is at `at` */
function skipString(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === 0x5c) i++;
    else if (d === 0x22) return i + 1;
  }
  throw new Error('unterminated JSON string');
}

/** the text of `field`'s value in a JSON object written by JSON.stringify, or undefined when absent */
export function fieldText(text: string, field: string): string | undefined {
  const key = JSON.stringify(field);
  let i = 1;
  while (i < text.length && text.charCodeAt(i) === 0x22) {
    const keyEnd = skipString(text, i);
    const valueStart = keyEnd + 1;
    const valueEnd = skipValue(text, valueStart);
    if (text.slice(i, keyEnd) === key) return text.slice(valueStart, valueEnd);
    i = valueEnd + 1;
  }
  return undefined;
}

const DATA_KEY = ',"data":';

/**
 * The text of `data` in an event's stored answer (kernel/event-json.ts). Every field before
 * `data` there holds a string, a number or null, and a quote inside a string is escaped, so the
 * first `,"data":` in the text is the key itself: found with one search instead of walking the
 * fields before it.
 */
export function eventDataText(answer: string): string | undefined {
  const at = answer.indexOf(DATA_KEY);
  if (at < 0) return fieldText(answer, 'data');
  const start = at + DATA_KEY.length;
  return answer.slice(start, skipValue(answer, start));
}
