/**
 * Reads events from a text stream without holding it whole: NDJSON (one object per line,
 * or any concatenation of JSON objects) and JSON arrays of objects, told apart by the input
 * itself. Each top-level object (or array element) is cut out by tracking string and nesting
 * state, then parsed on its own.
 */
import { usageError } from './cli-error.js';

export interface InputEvent {
  /** the event's JSON text, as it will be sent */
  text: string;
  /** bytes of input it took, for progress */
  inputBytes: number;
}

export async function* eventsOfText(chunks: AsyncIterable<string>): AsyncGenerator<InputEvent> {
  const splitter = new ObjectSplitter();
  for await (const chunk of chunks) yield* splitter.push(chunk);
  splitter.end();
}

class ObjectSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private inArray = false;
  /** text of the object being cut out that arrived in earlier chunks */
  private pending = '';
  private collecting = false;
  private count = 0;
  private line = 1;

  *push(chunk: string): Generator<InputEvent> {
    let start = this.collecting ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === '\n') this.line++;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (this.collecting) {
        if (c === '"') this.inString = true;
        else if (c === '{' || c === '[') this.depth++;
        else if (c === '}' || c === ']') {
          this.depth--;
          if (this.depth === 0) {
            const text = this.pending + chunk.slice(start, i + 1);
            this.pending = '';
            this.collecting = false;
            yield this.parsed(text);
          }
        }
        continue;
      }
      if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\uFEFF') continue;
      if (c === '{') {
        this.collecting = true;
        this.depth = 1;
        start = i;
      } else if (c === '[' && !this.inArray) {
        this.inArray = true;
      } else if (this.inArray && (c === ',' || c === ']')) {
        if (c === ']') this.inArray = false;
      } else {
        throw usageError(
          `input line ${this.line}: expected a JSON object${this.inArray ? ' in the array' : ''}, found "${c}"`,
          'give NDJSON (one event object per line) or a JSON array of event objects',
        );
      }
    }
    if (this.collecting) this.pending += chunk.slice(start);
  }

  end(): void {
    if (this.collecting || this.inArray)
      throw usageError(
        `input ended inside ${this.collecting ? `event ${this.count + 1}` : 'a JSON array'}`,
        'the input is cut short or not valid JSON',
      );
  }

  private parsed(text: string): InputEvent {
    this.count++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw usageError(
        `event ${this.count} (near input line ${this.line}) is not valid JSON: ${(err as Error).message}`,
      );
    }
    // Re-serialised compactly: the batch size counts what is sent, not the input's indentation.
    const compact = JSON.stringify(value);
    return { text: compact, inputBytes: Buffer.byteLength(text) + 1 };
  }
}
