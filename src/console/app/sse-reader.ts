/**
 * Reads a text/event-stream response with fetch. EventSource cannot be used: it hands typed
 * events (`event: order.placed`) only to listeners of that exact type, and the console does
 * not know a stream's types in advance.
 */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/** resolves when the server ends the stream; `onOpen` runs once the server accepted the subscription */
export async function readSse(
  url: string,
  signal: AbortSignal,
  onMessage: (m: SseMessage) => void,
  onOpen: () => void = () => undefined,
): Promise<void> {
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream' },
    signal,
    cache: 'no-store',
    credentials: 'omit',
  });
  if (!res.ok || !res.body) {
    let detail = res.statusText;
    try {
      detail = ((await res.json()) as { detail?: string }).detail ?? detail;
    } catch {
      // not a problem document
    }
    throw new Error(`live subscription refused (${res.status}): ${detail}`);
  }
  onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0) onMessage({ event: event || 'message', data: data.join('\n'), id });
        event = '';
        data = [];
        id = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = text;
      else if (field === 'data') data.push(text);
      else if (field === 'id') id = text;
    }
  }
}
