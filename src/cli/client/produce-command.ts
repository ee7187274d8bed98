/**
 * `rivulet produce <stream>`: events from arguments, a file or stdin, in batches sized under
 * the server's limits, a few requests in flight, with a progress bar on a terminal and a
 * summary at the end. Input is read as it is sent, so a file of any size fits in memory.
 */
import { createReadStream, statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { usageError } from './cli-error.js';
import { colourFor } from './colour.js';
import { BatchSender, type Batch } from './batch-sender.js';
import { clientFor, runAction } from './command-context.js';
import { eventsOfText, type InputEvent } from './event-input.js';
import { addOutputOptions, formatBytes, formatCount, outputMode, printJson, type OutputFlags } from './output.js';
import { parsePositiveInt, parseSize } from './quantities.js';

interface ProduceFlags extends OutputFlags {
  type?: string;
  data?: string;
  source?: string;
  id?: string;
  time?: string;
  file?: string;
  batchEvents: number;
  batchBytes: number;
  inFlight: number;
  ordered?: boolean;
  retries: number;
  producer?: string;
  progress: boolean;
}

export function addProduceCommand(program: Command): void {
  const produce = program
    .command('produce')
    .description('write events to a stream: from --type/--data, a file (-f) or stdin (NDJSON or a JSON array)')
    .argument('<stream>', 'stream name')
    .option('-t, --type <type>', 'type of the one event given on the command line')
    .option('-d, --data <json>', 'its data, as JSON')
    .option('--source <source>', 'its source')
    .option('--id <id>', 'its id (makes a retry idempotent)')
    .option('--time <time>', 'its time (RFC 3339)')
    .option('-f, --file <file>', 'read events from this file ("-" for stdin)')
    .addOption(new Option('--batch-events <n>', 'most events per request').argParser(parsePositiveInt).default(500))
    .addOption(
      new Option('--batch-bytes <size>', 'most bytes per request').argParser(parseSize).default(1024 * 1024, '1MiB'),
    )
    .addOption(new Option('--in-flight <n>', 'requests in flight at once').argParser(parsePositiveInt).default(4))
    .option('--ordered', 'keep the input order across batches (one request in flight)')
    .addOption(
      new Option('--retries <n>', 'attempts per batch on 429, 503 and network errors')
        .argParser(parsePositiveInt)
        .default(5),
    )
    .option('--producer <id>', 'producer id (X-Producer-ID)')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  rivulet produce orders --type order.placed --data \'{"id":1,"total":9.5}\'',
        '  rivulet produce orders -f orders.ndjson',
        '  cat events.json | rivulet produce orders --ordered',
        '',
        'Each line (or array element) is one event: {"type","data",...} or a CloudEvent (with specversion).',
        'With several requests in flight, batches may be stored out of input order; --ordered keeps it.',
      ].join('\n'),
    );
  addOutputOptions(produce, false).action(
    runAction(async (stream: string, flags: ProduceFlags, cmd: Command) => {
      const client = clientFor(cmd);
      const fromArgs = flags.type !== undefined || flags.data !== undefined;
      if (fromArgs && flags.file !== undefined)
        throw usageError('give events either with --type/--data or with --file, not both');
      if (!fromArgs && flags.file === undefined && process.stdin.isTTY) {
        throw usageError('no events given', 'use --type and --data, -f <file>, or pipe NDJSON on stdin');
      }
      const input = fromArgs ? argumentEvent(flags) : fileEvents(flags.file);
      const totalBytes = flags.file && flags.file !== '-' ? fileSize(flags.file) : undefined;
      const progress = flags.progress && !fromArgs && process.stderr.isTTY ? progressBar(totalBytes) : undefined;

      const started = performance.now();
      let sentEvents = 0;
      let sentBytes = 0;
      let retries = 0;
      let duplicates = 0;
      let batches = 0;
      let readBytes = 0;
      const sender = new BatchSender(client, {
        stream,
        inFlight: flags.ordered ? 1 : flags.inFlight,
        maxAttempts: flags.retries,
        producer: flags.producer,
        onSent: (b, dup) => {
          sentEvents += b.events.length;
          duplicates += dup;
          sentBytes += b.bytes;
          batches++;
          progress?.update(totalBytes === undefined ? sentEvents : readBytes, { events: formatCount(sentEvents) });
        },
        onRetry: () => retries++,
      });
      let batch: Batch = { number: 1, events: [], bytes: 0 };
      let interrupted: unknown;
      try {
        for await (const event of input) {
          readBytes += event.inputBytes;
          const size = Buffer.byteLength(event.text) + 1;
          if (
            batch.events.length > 0 &&
            (batch.events.length >= flags.batchEvents || batch.bytes + size > flags.batchBytes)
          ) {
            await sender.send(batch);
            batch = { number: batch.number + 1, events: [], bytes: 0 };
          }
          batch.events.push(event.text);
          batch.bytes += size;
          if (sender.failure) break;
        }
        if (batch.events.length > 0) await sender.send(batch);
      } catch (err) {
        interrupted = err;
      }
      await sender.drain();
      progress?.stop();
      const seconds = (performance.now() - started) / 1000;
      const summary = {
        stream,
        events: sentEvents,
        new: sentEvents - duplicates,
        duplicates,
        bytes: sentBytes,
        seconds: Math.round(seconds * 1000) / 1000,
        eventsPerSecond: seconds > 0 ? Math.round(sentEvents / seconds) : sentEvents,
        batches,
        retries,
        failed: sender.failedEvents,
      };
      if (outputMode(flags) === 'json') printJson(process.stdout, 'json', summary);
      else {
        const failed = summary.failed > 0 ? `, ${formatCount(summary.failed)} failed` : '';
        // events whose ids the stream already held were accepted but not stored again: say how many
        const dups =
          summary.duplicates > 0
            ? ` and ${formatCount(summary.duplicates)} duplicate${summary.duplicates === 1 ? '' : 's'} (already in the stream, not stored again)`
            : '';
        const colour = colourFor(fromArgs ? process.stdout : process.stderr);
        const line = `${colour.green('Produced')} ${formatCount(summary.new)} new event${summary.new === 1 ? '' : 's'}${dups} (${formatBytes(summary.bytes)} sent) to "${stream}" in ${seconds.toFixed(2)} s, ${formatCount(summary.eventsPerSecond)} events/s${failed}${retries > 0 ? `, ${retries} retries` : ''}.\n`;
        (fromArgs ? process.stdout : process.stderr).write(line);
      }
      if (interrupted) throw interrupted;
      if (sender.failure) throw sender.failure;
    }),
  );
}

async function* argumentEvent(flags: ProduceFlags): AsyncGenerator<InputEvent> {
  if (flags.type === undefined) throw usageError('--data needs --type');
  let data: unknown = null;
  if (flags.data !== undefined) {
    try {
      data = JSON.parse(flags.data);
    } catch {
      throw usageError(
        `--data is not valid JSON: ${flags.data}`,
        'quote it for the shell, e.g. --data \'{"a":1}\'; a string is --data \'"text"\'',
      );
    }
  }
  const event = {
    type: flags.type,
    ...(flags.source && { source: flags.source }),
    ...(flags.id && { id: flags.id }),
    ...(flags.time && { time: flags.time }),
    data,
  };
  const text = JSON.stringify(event);
  yield { text, inputBytes: text.length };
}

function fileEvents(file: string | undefined): AsyncGenerator<InputEvent> {
  const stream = file === undefined || file === '-' ? process.stdin : createReadStream(file);
  stream.setEncoding('utf8');
  return eventsOfText(stream as AsyncIterable<string>);
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function progressBar(totalBytes: number | undefined): cliProgress.SingleBar {
  const format =
    totalBytes === undefined
      ? 'producing {events} events | {duration_formatted}'
      : 'producing [{bar}] {percentage}% | {events} events | ETA {eta_formatted}';
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true, clearOnComplete: true, fps: 10 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalBytes ?? 0, 0, { events: '0' });
  return bar;
}
