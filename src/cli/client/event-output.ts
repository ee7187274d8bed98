/**
 * Events written as they arrive (`tail`, `consume`): one line per event for people, one JSON
 * value per line with --ndjson, a JSON array closed at the end with --json. Writes wait for
 * stdout to drain, so a slow pipe slows the reader instead of growing memory.
 */
import { truncate, type OutputMode } from './output.js';
import type { EventView } from '../../http/api-views.js';

/** `     42  2024-05-01T10:00:00.000Z  order.placed  {"id":1}` — seq right-aligned, data cut to fit. */
export function eventLine(e: EventView, note = ''): string {
  return `${String(e.seq).padStart(8)}  ${e.time}  ${e.type}  ${truncate(JSON.stringify(e.data) ?? 'null', 100)}${note}\n`;
}

/** Thrown by `write` once the reader of stdout went away (`rivulet tail x | head`). */
export class ReaderGone extends Error {
  constructor() {
    super('the reader of the output went away');
    this.name = 'ReaderGone';
  }
}

export class EventWriter {
  private count = 0;
  private gone = false;
  private readonly goneWaiters = new Set<() => void>();

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly mode: OutputMode,
  ) {
    // EPIPE: the pipe's reader exited; stop quietly instead of crashing on the next write
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      this.gone = true;
      for (const wake of this.goneWaiters) wake();
    });
  }

  get written(): number {
    return this.count;
  }

  async write(event: EventView, note = ''): Promise<void> {
    if (this.gone) throw new ReaderGone();
    const text =
      this.mode === 'json'
        ? `${this.count === 0 ? '[\n' : ',\n'}${JSON.stringify(event)}`
        : this.mode === 'ndjson'
          ? `${JSON.stringify(event)}\n`
          : eventLine(event, note);
    this.count++;
    if (!this.out.write(text)) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.goneWaiters.delete(wake);
          this.out.off('drain', wake);
          resolve();
        };
        this.goneWaiters.add(wake);
        this.out.once('drain', wake);
      });
      if (this.gone) throw new ReaderGone();
    }
  }

  /** closes the JSON array; nothing to do in the other modes */
  end(): void {
    if (this.mode === 'json' && !this.gone) this.out.write(this.count === 0 ? '[]\n' : '\n]\n');
  }
}
