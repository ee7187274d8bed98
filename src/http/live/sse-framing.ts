/**
 * Server-Sent Events framing. A field value may not hold CR or LF (they end a field), so an
 * `id` or `event` carrying one is refused rather than letting it inject fields; multi-line
 * data is split into several `data:` lines, which the client joins with LF again.
 */

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

export function sseFrame(message: SseMessage): string {
  let out = '';
  if (message.id !== undefined) out += `id: ${fieldValue(message.id, 'id')}\n`;
  if (message.event !== undefined) out += `event: ${fieldValue(message.event, 'event')}\n`;
  for (const line of message.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** a comment line: ignored by clients, keeps proxies from closing an idle connection */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

function fieldValue(value: string, name: string): string {
  // NUL is refused too: browsers ignore an id containing it
  if (/[\r\n\0]/.test(value)) throw new Error(`SSE ${name} may not contain CR, LF or NUL`);
  return value;
}

/** an event type as an SSE `event` field: line breaks become spaces so a stored type can never break the framing */
export function sseEventName(type: string): string {
  return type.replace(/[\r\n\0]/g, ' ');
}
