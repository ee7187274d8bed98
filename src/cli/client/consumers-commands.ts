/** `rivulet consumers ls|create|describe|delete|seek <stream> …`: a stream's durable consumers. */
import type { Command } from 'commander';
import type { ConsumerView, LagView } from '../../http/api-views.js';
import { clientFor, runAction } from './command-context.js';
import type { ApiClient } from './http-client.js';
import {
  addOutputOptions,
  formatCount,
  outputMode,
  printJson,
  printList,
  renderFields,
  type Column,
  type OutputFlags,
} from './output.js';
import { confirmDeletion } from './prompt.js';
import { collect, parseDuration, parsePositiveInt } from './quantities.js';
import { describeStart, parseStartPosition, type StartPosition } from './start-position.js';

// the API answers these as the core declares them; type-only imports, nothing of the server loads

export const consumerPath = (stream: string, consumer?: string) =>
  `/v1/streams/${encodeURIComponent(stream)}/consumers${consumer === undefined ? '' : `/${encodeURIComponent(consumer)}`}`;

export const CONSUMER_HINTS = { 404: 'check the stream and consumer names (`rivulet consumers ls <stream>`)' };

type Listed = ConsumerView & { lag: LagView };

const COLUMNS: Column<Listed>[] = [
  { header: 'NAME', value: (c) => c.name },
  { header: 'TYPES', value: (c) => (c.types.length === 0 ? '*' : c.types.join(',')) },
  { header: 'COMMITTED', value: (c) => String(c.committedSeq), align: 'right' },
  { header: 'PENDING', value: (c) => formatCount(c.lag.pending), align: 'right' },
  { header: 'LEASED', value: (c) => formatCount(c.lag.leased), align: 'right' },
  { header: 'OLDEST UNACKED', value: (c) => ageText(c.lag.oldestUnackedAgeMs) },
];

async function listAll(client: ApiClient, stream: string): Promise<ConsumerView[]> {
  const all: ConsumerView[] = [];
  let after: string | undefined;
  do {
    const page = await client.request<{ consumers: ConsumerView[]; next: string | null }>('GET', consumerPath(stream), {
      query: { limit: 1000, after },
    });
    all.push(...page.body.consumers);
    after = page.body.next ?? undefined;
  } while (after !== undefined);
  return all;
}

async function withLag(client: ApiClient, c: ConsumerView): Promise<ConsumerView & { lag: LagView }> {
  const lag = (await client.request<LagView>('GET', `${consumerPath(c.stream, c.name)}/lag`, { hints: CONSUMER_HINTS }))
    .body;
  return { ...c, lag };
}

export function addConsumersCommands(program: Command): void {
  const consumers = program
    .command('consumers')
    .description('list, create, describe, seek and delete the consumers of a stream');

  addOutputOptions(
    consumers
      .command('ls')
      .alias('list')
      .description('list a stream’s consumers (the table adds their lag)')
      .argument('<stream>', 'stream name'),
  ).action(
    runAction(async (stream: string, flags: OutputFlags, cmd: Command) => {
      const client = clientFor(cmd);
      const mode = outputMode(flags);
      const all = await listAll(client, stream);
      // JSON lists are the API's own objects; the lag is one request per consumer, for people
      if (mode !== 'table') return printList(process.stdout, mode, all, [], '');
      printList(
        process.stdout,
        mode,
        await Promise.all(all.map((c) => withLag(client, c))),
        COLUMNS,
        `No consumers on "${stream}".`,
      );
    }),
  );

  addOutputOptions(
    consumers
      .command('create')
      .description('create a consumer: a durable read position with leases and dead letters')
      .argument('<stream>', 'stream name')
      .argument('<name>', 'consumer name')
      .option('--type <type>', 'only this event type (repeat for several; default all)', collect)
      .option('--from <position>', 'first event: beginning (default), end, a seq, or a time', parseStartPosition)
      .option('--lease <duration>', 'lease of a receive (default 30s)', parseDuration)
      .option('--max-deliveries <n>', 'deliveries before an event is dead-lettered (default 5)', parsePositiveInt)
      .option('--dead-letter-stream <name>', 'where dead letters go (default <stream>.dlq)')
      .addHelpText(
        'after',
        '\nExample:\n  rivulet consumers create orders billing --type order.placed --from end --lease 1m',
      ),
    false,
  ).action(
    runAction(
      async (
        stream: string,
        name: string,
        flags: OutputFlags & {
          type?: string[];
          from?: StartPosition;
          lease?: number;
          maxDeliveries?: number;
          deadLetterStream?: string;
        },
        cmd: Command,
      ) => {
        const body = {
          name,
          ...(flags.type && { types: flags.type }),
          ...(flags.from && { start: flags.from }),
          ...(flags.lease !== undefined && { leaseMs: flags.lease }),
          ...(flags.maxDeliveries !== undefined && { maxDeliveries: flags.maxDeliveries }),
          ...(flags.deadLetterStream !== undefined && { deadLetterStream: flags.deadLetterStream }),
        };
        const created = (await clientFor(cmd).request<ConsumerView>('POST', consumerPath(stream), { json: body })).body;
        if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', created);
        process.stdout.write(`Consumer "${created.name}" created on "${created.stream}".\n`);
      },
    ),
  );

  addOutputOptions(
    consumers
      .command('describe')
      .description('show a consumer’s settings, position and lag')
      .argument('<stream>', 'stream name')
      .argument('<name>', 'consumer name'),
    false,
  ).action(
    runAction(async (stream: string, name: string, flags: OutputFlags, cmd: Command) => {
      const client = clientFor(cmd);
      const c = await withLag(
        client,
        (await client.request<ConsumerView>('GET', consumerPath(stream, name), { hints: CONSUMER_HINTS })).body,
      );
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', c);
      process.stdout.write(
        renderFields([
          ['Name', c.name],
          ['Stream', c.stream],
          ['Types', c.types.length === 0 ? 'all' : c.types.join(', ')],
          ['Committed', `seq ${c.committedSeq} of ${c.lag.lastSeq}`],
          ['Pending', formatCount(c.lag.pending)],
          ['Leased', formatCount(c.lag.leased)],
          ['Oldest unacked', ageText(c.lag.oldestUnackedAgeMs)],
          ['Lease', `${c.leaseMs} ms`],
          ['Max deliveries', String(c.maxDeliveries)],
          ['Dead letters', c.deadLetterStream ?? `${c.stream}.dlq`],
          ['Created', c.createdAt],
          ['Updated', c.updatedAt],
        ]),
      );
    }),
  );

  addOutputOptions(
    consumers
      .command('seek')
      .description('move a consumer to a position; its leases are dropped')
      .argument('<stream>', 'stream name')
      .argument('<name>', 'consumer name')
      .requiredOption(
        '--to <position>',
        'beginning, end, a seq (the next event delivered) or a time',
        parseStartPosition,
      )
      .addHelpText(
        'after',
        '\nExamples:\n  rivulet consumers seek orders billing --to 42\n  rivulet consumers seek orders billing --to 2024-05-01T00:00:00Z',
      ),
    false,
  ).action(
    runAction(async (stream: string, name: string, flags: OutputFlags & { to: StartPosition }, cmd: Command) => {
      const moved = (
        await clientFor(cmd).request<ConsumerView>('POST', `${consumerPath(stream, name)}/seek`, {
          json: flags.to,
          hints: CONSUMER_HINTS,
        })
      ).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', moved);
      process.stdout.write(
        `Consumer "${name}" moved to ${describeStart(flags.to)} (committed seq ${moved.committedSeq}).\n`,
      );
    }),
  );

  consumers
    .command('delete')
    .description('delete a consumer with its position and leases')
    .argument('<stream>', 'stream name')
    .argument('<name>', 'consumer name')
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .action(
      runAction(async (stream: string, name: string, flags: { yes?: boolean }, cmd: Command) => {
        const client = clientFor(cmd);
        await confirmDeletion(`consumer "${name}" of "${stream}"`, flags.yes);
        await client.request('DELETE', consumerPath(stream, name), { hints: CONSUMER_HINTS });
        process.stdout.write(`Consumer "${name}" deleted.\n`);
      }),
    );
}

export function ageText(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
