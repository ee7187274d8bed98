/**
 * `rivulet tail <stream>`: follows a stream live over Server-Sent Events (GET
 * /v1/streams/{name}/live) until Ctrl-C. It remembers the last seq it printed and, when the
 * connection drops or the server restarts, reconnects with `Last-Event-ID` after a backoff,
 * so nothing is missed or printed twice. `--resume <file>` keeps that seq across runs.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CliError, EXIT, usageError } from './cli-error.js';
import { sleepUnlessAborted } from './abortable-sleep.js';
import { colourFor } from './colour.js';
import { nextDelayMs, type RetryPolicy } from '../../delivery/backoff.js';
import { clientFor, runAction } from './command-context.js';
import { EventWriter, ReaderGone } from './event-output.js';
import type { ApiClient, Query } from './http-client.js';
import { addOutputOptions, outputMode, type OutputFlags } from './output.js';
import { collect, parseDuration, parsePositiveInt } from './quantities.js';
import { readSse } from './sse-reader.js';
import { parseStartPosition, type StartPosition } from './start-position.js';
import type { EventView } from '../../http/api-views.js';

interface TailFlags extends OutputFlags {
  from?: StartPosition;
  type?: string[];
  resume?: string;
  max?: number;
  idleTimeout: number;
  maxBackoff: number;
}

/** Backoff between reconnections: doubling from 250 ms, with full jitter, up to --max-backoff. */
const FIRST_BACKOFF_MS = 250;
const RECONNECT: RetryPolicy = {
  maxAttempts: Number.MAX_SAFE_INTEGER,
  initialDelayMs: FIRST_BACKOFF_MS,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 'full',
};
/** State writes at most this often while events flow; always on exit. */
const SAVE_EVERY_MS = 250;
/** Errors in `rivulet:error` after which reconnecting cannot help. */
const FINAL_ERRORS = new Set(['STREAM_NOT_FOUND', 'FORBIDDEN', 'UNAUTHORIZED']);

export function addTailCommand(program: Command): void {
  const tail = program
    .command('tail')
    .description('follow a stream live until Ctrl-C; reconnects and resumes by itself')
    .argument('<stream>', 'stream name')
    .option(
      '--from <position>',
      'start at: end (default: new events only), beginning, a seq, or a time',
      parseStartPosition,
    )
    .option('--type <type>', 'only this event type (repeat for several)', collect)
    .option('--resume <file>', 'keep the last seq in this file; start after it when the file exists (overrides --from)')
    .option('-n, --max <n>', 'stop after this many events', parsePositiveInt)
    .addOption(
      new Option('--idle-timeout <duration>', 'reconnect when not even a heartbeat came for this long')
        .argParser(parseDuration)
        .default(45_000, '45s'),
    )
    .addOption(
      new Option('--max-backoff <duration>', 'longest wait between reconnections')
        .argParser(parseDuration)
        .default(10_000, '10s'),
    )
    .addHelpText(
      'after',
      [
        '',
        'Output: one line per event; --ndjson (or --json) one event per line as JSON, as it arrives.',
        'On exit the last seq is printed on stderr; pass it back with --from <seq + 1>, or use --resume.',
        '',
        'Examples:',
        '  rivulet tail orders',
        '  rivulet tail orders --from beginning --type order.placed --ndjson | jq .data',
        '  rivulet tail orders --resume ~/.orders.seq --ndjson >> orders.ndjson',
      ].join('\n'),
    );
  addOutputOptions(tail).action(
    runAction(async (stream: string, flags: TailFlags, cmd: Command) => {
      const mode = outputMode(flags);
      const client = clientFor(cmd);
      const writer = new EventWriter(process.stdout, mode === 'table' ? 'table' : 'ndjson');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const state = flags.resume === undefined ? undefined : new SeqFile(flags.resume, stream);
      const follower = new Follower(client, stream, flags, writer, stop.signal, state);
      try {
        await follower.run(state?.read() ?? (await startAfter(client, stream, flags.from)));
      } catch (err) {
        if (!(err instanceof ReaderGone)) throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        state?.save(follower.lastSeq, true);
        if (follower.connected)
          process.stderr.write(
            follower.lastSeq === undefined
              ? `Stopped after ${writer.written} events.\n`
              : `Stopped after ${writer.written} events; last seq ${follower.lastSeq} (resume with --from ${follower.lastSeq + 1}${state ? ` or --resume ${flags.resume}` : ''}).\n`,
          );
      }
    }),
  );
}

/**
 * The seq to start after, or a time. `end` is resolved to the stream's last seq now, so even
 * the first connection can be resumed exactly.
 */
async function startAfter(
  client: ApiClient,
  stream: string,
  from: StartPosition | undefined,
): Promise<number | { time: string }> {
  const start = from ?? { from: 'end' };
  switch (start.from) {
    case 'beginning':
      return 0;
    case 'seq':
      return start.seq - 1;
    case 'time':
      return { time: start.time };
    case 'end': {
      const s = await client.request<{ stats: { lastSeq: number } }>(
        'GET',
        `/v1/streams/${encodeURIComponent(stream)}`,
      );
      return s.body.stats.lastSeq;
    }
  }
}

class Follower {
  lastSeq: number | undefined;
  private connectedOnce = false;

  get connected(): boolean {
    return this.connectedOnce;
  }

  constructor(
    private readonly client: ApiClient,
    private readonly stream: string,
    private readonly flags: TailFlags,
    private readonly writer: EventWriter,
    private readonly stop: AbortSignal,
    private readonly state: SeqFile | undefined,
  ) {}

  async run(start: number | { time: string }): Promise<void> {
    const fromTime = typeof start === 'number' ? undefined : start.time;
    this.lastSeq = typeof start === 'number' ? start : undefined;
    let failures = 0;
    while (!this.stop.aborted && !this.done()) {
      try {
        const delivered = await this.connectOnce(fromTime);
        failures = delivered ? 0 : failures;
        if (this.stop.aborted || this.done()) return;
        process.stderr.write(`rivulet: the server ended the stream; reconnecting${this.resumeText()}\n`);
      } catch (err) {
        if (this.stop.aborted) return;
        if (err instanceof ReaderGone) throw err;
        // refusals (4xx) are final; a server that is down or failing is waited for, once it was reached
        const retryable =
          err instanceof CliError
            ? err.exitCode === EXIT.UNREACHABLE || err.exitCode === EXIT.SERVER || err.status === 429
            : true;
        if (!retryable || !this.connectedOnce) throw err;
        process.stderr.write(
          `rivulet: ${err instanceof Error ? err.message : String(err)}; reconnecting${this.resumeText()}\n`,
        );
      }
      failures++;
      const policy = { ...RECONNECT, maxDelayMs: this.flags.maxBackoff };
      await sleepUnlessAborted(FIRST_BACKOFF_MS / 2 + nextDelayMs(failures, policy), this.stop);
    }
  }

  private done(): boolean {
    return this.flags.max !== undefined && this.writer.written >= this.flags.max;
  }

  private resumeText(): string {
    return this.lastSeq === undefined ? '' : ` after seq ${this.lastSeq}`;
  }

  /** One connection: answers whether it delivered anything (then the backoff starts again). */
  private async connectOnce(fromTime: string | undefined): Promise<boolean> {
    const connection = new AbortController();
    const abort = () => connection.abort();
    this.stop.addEventListener('abort', abort, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const watch = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => connection.abort(new Error(`nothing arrived for ${Math.round(this.flags.idleTimeout / 1000)} s`)),
        this.flags.idleTimeout,
      );
    };
    let delivered = false;
    try {
      watch();
      const query: Query = {
        type: this.flags.type,
        ...(this.lastSeq === undefined ? { from: fromTime } : { after: this.lastSeq }),
      };
      const res = await this.client.open('GET', `/v1/streams/${encodeURIComponent(this.stream)}/live`, {
        query,
        headers: {
          accept: 'text/event-stream',
          ...(this.lastSeq !== undefined && { 'last-event-id': String(this.lastSeq) }),
        },
        signal: connection.signal,
      });
      if (!this.connectedOnce) {
        // a quiet stream would otherwise look like a hung command
        const where =
          this.lastSeq === undefined
            ? `from ${fromTime ?? 'now'}`
            : `after seq ${this.lastSeq}${this.state ? ` (from ${this.flags.resume})` : ''}`;
        process.stderr.write(
          `${colourFor(process.stderr).dim(`Following "${this.stream}" ${where}; waiting for events (Ctrl-C stops).`)}\n`,
        );
      }
      this.connectedOnce = true;
      if (!res.body) return false;
      let savedAt = 0;
      for await (const chunk of readSse(res.body)) {
        watch();
        for (const message of chunk.messages) {
          if (message.id !== undefined) {
            const event = JSON.parse(message.data) as EventView;
            // the server resumes after Last-Event-ID; this only guards against a duplicate ever printed twice
            if (this.lastSeq !== undefined && event.seq <= this.lastSeq) continue;
            await this.writer.write(event);
            this.lastSeq = event.seq;
            delivered = true;
            if (this.done()) return true;
          } else this.control(message.event, message.data);
        }
        if (this.state && Date.now() - savedAt >= SAVE_EVERY_MS) {
          this.state.save(this.lastSeq);
          savedAt = Date.now();
        }
      }
      return delivered;
    } catch (err) {
      if (err instanceof ReaderGone) throw err;
      if (connection.signal.aborted && !this.stop.aborted && !(err instanceof CliError)) {
        throw new CliError(
          EXIT.UNREACHABLE,
          `connection to ${this.client.url} lost: ${(connection.signal.reason as Error)?.message ?? 'aborted'}`,
        );
      }
      if (this.stop.aborted || err instanceof CliError) throw err;
      throw new CliError(EXIT.UNREACHABLE, `connection to ${this.client.url} lost: ${(err as Error).message}`);
    } finally {
      clearTimeout(idle);
      this.stop.removeEventListener('abort', abort);
      connection.abort();
    }
  }

  private control(name: string, data: string): void {
    let body: { requestedAfter?: number; firstSeq?: number; code?: string; message?: string } = {};
    try {
      body = JSON.parse(data) as typeof body;
    } catch {
      // an unknown control message is reported as it is
    }
    if (name === 'rivulet:reset') {
      const missed =
        body.firstSeq !== undefined && body.requestedAfter !== undefined
          ? ` (seq ${body.requestedAfter + 1}–${body.firstSeq - 1} missed)`
          : '';
      process.stderr.write(
        `rivulet: retention removed events before seq ${body.firstSeq}${missed}; continuing from there\n`,
      );
      if (body.firstSeq !== undefined) this.lastSeq = body.firstSeq - 1;
    } else if (name === 'rivulet:error') {
      if (body.code !== undefined && FINAL_ERRORS.has(body.code)) {
        throw new CliError(
          EXIT.REFUSED,
          `the server ended the subscription: ${body.code}: ${body.message ?? ''}`,
          'check the stream and the key (`rivulet streams ls`, `rivulet status`)',
        );
      }
      process.stderr.write(
        `rivulet: the server ended the subscription: ${body.code ?? 'error'}: ${body.message ?? data}\n`,
      );
    }
  }
}

/** The last seq printed, kept in a small JSON file replaced atomically. */
class SeqFile {
  private saved: number | undefined;

  constructor(
    private readonly file: string,
    private readonly stream: string,
  ) {}

  read(): number | undefined {
    if (!existsSync(this.file)) return undefined;
    let value: { stream?: unknown; lastSeq?: unknown };
    try {
      value = JSON.parse(readFileSync(this.file, 'utf8')) as typeof value;
    } catch (err) {
      throw usageError(
        `cannot read ${this.file}: ${(err as Error).message}`,
        'delete the file to start again from --from',
      );
    }
    if (
      value.stream !== this.stream ||
      typeof value.lastSeq !== 'number' ||
      !Number.isSafeInteger(value.lastSeq) ||
      value.lastSeq < 0
    ) {
      throw usageError(
        `${this.file} does not hold a position on stream "${this.stream}"`,
        'use another --resume file for each stream',
      );
    }
    this.saved = value.lastSeq;
    return value.lastSeq;
  }

  save(lastSeq: number | undefined, force = false): void {
    if (lastSeq === undefined || (lastSeq === this.saved && !force)) return;
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ stream: this.stream, lastSeq })}\n`);
    renameSync(temp, this.file);
    this.saved = lastSeq;
  }
}
