/** `rivulet read <stream>`: events in seq order, page after page, as a table, JSON or NDJSON. */
import { Option, type Command } from 'commander';
import { usageError } from './cli-error.js';
import type { EventView } from '../../http/api-views.js';
import { clientFor, runAction } from './command-context.js';
import type { ApiClient, Query } from './http-client.js';
import { addOutputOptions, outputMode, renderTable, truncate, type Column, type OutputFlags } from './output.js';
import { collect, parseNonNegativeInt, parsePositiveInt } from './quantities.js';

interface ReadFlags extends OutputFlags {
  after?: number;
  from?: string;
  to?: string;
  type?: string[];
  limit?: number;
  all?: boolean;
  pageSize: number;
}

const COLUMNS: Column<EventView>[] = [
  { header: 'SEQ', value: (e) => String(e.seq), align: 'right' },
  { header: 'TIME', value: (e) => e.time },
  { header: 'TYPE', value: (e) => e.type },
  { header: 'ID', value: (e) => e.id },
  { header: 'DATA', value: (e) => truncate(JSON.stringify(e.data) ?? '', 80) },
];

export function addReadCommand(program: Command): void {
  const read = program
    .command('read')
    .description('read events in seq order (100 unless --limit or --all)')
    .argument('<stream>', 'stream name')
    .option('--after <seq>', 'events after this seq', parseNonNegativeInt)
    .option('--from <time>', 'events at or after this time (RFC 3339 or YYYY-MM-DD)')
    .option('--to <time>', 'events at or before this time (RFC 3339 or YYYY-MM-DD)')
    .option('--type <type>', 'only this event type (repeat for several)', collect)
    .option('-n, --limit <n>', 'at most this many events (default 100)', parsePositiveInt)
    .option('--all', 'every matching event')
    .addOption(new Option('--page-size <n>', 'events per request').argParser(parsePositiveInt).default(1000))
    .addHelpText(
      'after',
      '\nExamples:\n  rivulet read orders --after 120 --limit 10\n  rivulet read orders --type order.placed --from 2024-05-01 --all --ndjson > placed.ndjson',
    );
  addOutputOptions(read).action(
    runAction(async (stream: string, flags: ReadFlags, cmd: Command) => {
      if (flags.all && flags.limit !== undefined) throw usageError('choose one of --limit and --all');
      const limit = flags.all ? Infinity : (flags.limit ?? 100);
      const mode = outputMode(flags);
      const out = process.stdout;
      const table: EventView[] = [];
      let count = 0;
      if (mode === 'json') out.write('[');
      for await (const event of readEvents(clientFor(cmd), stream, flags, limit)) {
        if (mode === 'json') out.write(`${count === 0 ? '\n' : ',\n'}${JSON.stringify(event)}`);
        else if (mode === 'ndjson') {
          if (!out.write(`${JSON.stringify(event)}\n`)) await new Promise((resolve) => out.once('drain', resolve));
        } else table.push(event);
        count++;
      }
      if (mode === 'json') out.write(count === 0 ? ']\n' : '\n]\n');
      if (mode === 'table') {
        if (table.length === 0) process.stderr.write('No events.\n');
        else out.write(renderTable(table, COLUMNS));
      }
    }),
  );
}

/** Follows the server's `next` cursor until the limit is reached or nothing more matched. */
async function* readEvents(
  client: ApiClient,
  stream: string,
  flags: ReadFlags,
  limit: number,
): AsyncGenerator<EventView> {
  const path = `/v1/streams/${encodeURIComponent(stream)}/events`;
  let cursor: string | undefined;
  let left = limit;
  while (left > 0) {
    const pageLimit = Math.min(left, flags.pageSize);
    const query: Query =
      cursor !== undefined
        ? { cursor, limit: pageLimit }
        : { after: flags.after, from: flags.from, to: flags.to, type: flags.type, limit: pageLimit };
    const page = (await client.request<{ events: EventView[]; next: string | null }>('GET', path, { query })).body;
    for (const event of page.events) yield event;
    left -= page.events.length;
    if (page.next === null || page.events.length === 0) return;
    cursor = page.next;
  }
}
