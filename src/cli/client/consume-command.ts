/**
 * `rivulet consume <stream> --consumer <name>`: the leased consumer API from a terminal.
 * Receives events under a lease, prints them, then acknowledges them — so an event is acked
 * only after it was written out (at least once). `--no-ack` gives the leases back instead,
 * so nothing is consumed; `--follow` waits for more until Ctrl-C.
 */
import { Option, type Command } from 'commander';
import { usageError } from './cli-error.js';
import { sleepUnlessAborted } from './abortable-sleep.js';
import { clientFor, runAction } from './command-context.js';
import { EventWriter, ReaderGone } from './event-output.js';
import type { ApiClient } from './http-client.js';
import { addOutputOptions, outputMode, type OutputFlags } from './output.js';
import { parseDuration, parsePositiveInt } from './quantities.js';
import { CONSUMER_HINTS, consumerPath } from './consumers-commands.js';
import type { EventView } from '../../http/api-views.js';

interface ConsumeFlags extends OutputFlags {
  consumer: string;
  max?: number;
  batch: number;
  ack: boolean;
  follow?: boolean;
  lease?: number;
  clientId?: string;
  pollInterval: number;
}

interface Delivery {
  event: EventView;
  deliveries: number;
  leaseToken: string;
}

interface Outcomes {
  outcomes: { token: string; outcome: 'ok' | 'not-held' }[];
}

const MAX_RECEIVE = 1000;

export function addConsumeCommand(program: Command): void {
  const consume = program
    .command('consume')
    .description('receive events through a consumer, print them and acknowledge them')
    .argument('<stream>', 'stream name')
    .requiredOption('-c, --consumer <name>', 'the consumer (see `rivulet consumers create`)')
    .option(
      '-n, --max <n>',
      'stop after this many events (default: until none is left, or Ctrl-C with --follow)',
      parsePositiveInt,
    )
    .addOption(new Option('--batch <n>', 'events per receive (1–1000)').argParser(parsePositiveInt).default(100))
    .option('--no-ack', 'give the events back after printing them (nothing is consumed)')
    .option('--follow', 'when none is left, wait for more until Ctrl-C')
    .option('--lease <duration>', "lease per receive (default: the consumer's)", parseDuration)
    .option('--client-id <id>', "name this client in the consumer's leases")
    .addOption(
      new Option('--poll-interval <duration>', 'with --follow: the longest wait between receives when idle')
        .argParser(parseDuration)
        .default(1000, '1s'),
    )
    .addHelpText(
      'after',
      [
        '',
        'Each batch is acknowledged after it was printed; an event whose ack came too late (its',
        'lease ran out and it went to another client) is reported on stderr.',
        '',
        'Examples:',
        '  rivulet consume orders --consumer billing --max 10',
        '  rivulet consume orders --consumer billing --follow --ndjson | ./process.sh',
        '  rivulet consume orders --consumer billing --no-ack        # look without consuming',
      ].join('\n'),
    );
  addOutputOptions(consume).action(
    runAction(async (stream: string, flags: ConsumeFlags, cmd: Command) => {
      if (flags.batch > MAX_RECEIVE) throw usageError(`--batch is at most ${MAX_RECEIVE}`);
      if (!flags.ack && flags.follow)
        throw usageError(
          '--no-ack with --follow would hold leases without end',
          'use --no-ack with --max, or drop --no-ack',
        );
      const mode = outputMode(flags);
      const writer = new EventWriter(process.stdout, mode);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const session = new ConsumeSession(clientFor(cmd), stream, flags, writer, stop.signal);
      try {
        await session.run();
      } catch (err) {
        // the reader of stdout went away: the batch being printed was not acked, and is delivered again
        if (!(err instanceof ReaderGone)) throw err;
        return;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        writer.end();
      }
      if (mode === 'table' && writer.written === 0) process.stderr.write('No events.\n');
      process.stderr.write(`${session.summary()}\n`);
    }),
  );
}

class ConsumeSession {
  private readonly path: string;
  private acked = 0;
  private released = 0;
  private late = 0;
  /** with --no-ack: leases held until the end, so the next receive answers new events */
  private readonly held: string[] = [];

  constructor(
    private readonly client: ApiClient,
    stream: string,
    private readonly flags: ConsumeFlags,
    private readonly writer: EventWriter,
    private readonly stop: AbortSignal,
  ) {
    this.path = consumerPath(stream, flags.consumer);
  }

  async run(): Promise<void> {
    let idleWait = 100;
    try {
      while (!this.stop.aborted) {
        const left = this.flags.max === undefined ? Infinity : this.flags.max - this.writer.written;
        if (left <= 0) return;
        const body = {
          max: Math.min(this.flags.batch, left),
          ...(this.flags.lease !== undefined && { leaseMs: this.flags.lease }),
          ...(this.flags.clientId !== undefined && { clientId: this.flags.clientId }),
        };
        const got = (
          await this.client.request<{ deliveries: Delivery[] }>('POST', `${this.path}/receive`, {
            json: body,
            hints: CONSUMER_HINTS,
          })
        ).body.deliveries;
        if (got.length === 0) {
          if (!this.flags.follow) return;
          await sleepUnlessAborted(idleWait, this.stop);
          idleWait = Math.min(idleWait * 2, this.flags.pollInterval);
          continue;
        }
        idleWait = 100;
        const tokens = got.map((d) => d.leaseToken);
        try {
          // printed in full before the ack, even when Ctrl-C comes meanwhile
          for (const d of got) await this.writer.write(d.event, d.deliveries > 1 ? `  (delivery ${d.deliveries})` : '');
        } catch (err) {
          // the reader went away: give the batch back now rather than when its lease runs out
          if (err instanceof ReaderGone) this.held.push(...tokens.filter((t) => !this.held.includes(t)));
          throw err;
        }
        if (this.flags.ack) await this.settle('ack', tokens);
        else this.held.push(...tokens);
      }
    } finally {
      if (this.held.length > 0) await this.settle('release', this.held.splice(0));
    }
  }

  private async settle(verb: 'ack' | 'release', tokens: string[]): Promise<void> {
    const lateBefore = this.late;
    for (let i = 0; i < tokens.length; i += MAX_RECEIVE) {
      const answer = (
        await this.client.request<Outcomes>('POST', `${this.path}/${verb}`, {
          json: { tokens: tokens.slice(i, i + MAX_RECEIVE) },
          hints: CONSUMER_HINTS,
        })
      ).body;
      for (const o of answer.outcomes) {
        if (o.outcome === 'ok') {
          if (verb === 'ack') this.acked++;
          else this.released++;
        } else this.late++;
      }
    }
    if (this.late > lateBefore)
      process.stderr.write(
        `rivulet: ${this.late - lateBefore} ${verb}s came after the lease ran out; those events will be delivered again (raise --lease)\n`,
      );
  }

  summary(): string {
    const n = this.writer.written;
    const settled = this.flags.ack ? `acknowledged ${this.acked}` : `gave back ${this.released} (not consumed)`;
    return `Received ${n} event${n === 1 ? '' : 's'}, ${settled}${this.late > 0 ? `, ${this.late} too late` : ''}.`;
  }
}
