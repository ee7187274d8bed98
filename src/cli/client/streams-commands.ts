/** `rivulet streams ls|create|describe|delete`. */
import type { Command } from 'commander';
import { clientFor, runAction } from './command-context.js';
import type { ApiClient } from './http-client.js';
import {
  addOutputOptions,
  formatBytes,
  formatCount,
  outputMode,
  printJson,
  printList,
  renderFields,
  type Column,
  type OutputFlags,
} from './output.js';
import { confirmDeletion } from './prompt.js';
import { parseDuration, parsePositiveInt, parseSize } from './quantities.js';
import type { StreamPage, StreamView } from '../../http/api-views.js';

const path = (name: string) => `/v1/streams/${encodeURIComponent(name)}`;

/** Every stream the key can see, page after page. */
export async function listAllStreams(client: ApiClient, prefix?: string): Promise<StreamView[]> {
  const all: StreamView[] = [];
  let after: string | undefined;
  do {
    const page = await client.request<StreamPage>('GET', '/v1/streams', { query: { limit: 1000, after, prefix } });
    all.push(...page.body.streams);
    after = page.body.next ?? undefined;
  } while (after !== undefined);
  return all;
}

const COLUMNS: Column<StreamView>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'EVENTS', value: (s) => formatCount(s.stats.count), align: 'right' },
  { header: 'LAST SEQ', value: (s) => String(s.stats.lastSeq), align: 'right' },
  { header: 'BYTES', value: (s) => formatBytes(s.stats.bytes), align: 'right' },
  { header: 'LAST EVENT', value: (s) => s.stats.lastTime ?? '-' },
];

/** streams the server writes for itself: a sink's or rule's dead letters and state */
function isInternalStream(name: string): boolean {
  return name.startsWith('_sink.') || name.startsWith('_rule.');
}

export function addStreamsCommands(program: Command): void {
  const streams = program.command('streams').description('list, create, describe and delete streams');

  addOutputOptions(
    streams
      .command('ls')
      .alias('list')
      .description('list the streams this key can see')
      .option('--prefix <p>', 'only names starting with this')
      .option('--all', "include the server's internal streams (_sink.*, _rule.*: dead letters and the like)"),
  ).action(
    runAction(async (flags: OutputFlags & { prefix?: string; all?: boolean }, cmd: Command) => {
      const listed = await listAllStreams(clientFor(cmd), flags.prefix);
      // internal streams are listed when asked for by name (--prefix _sink.) or with --all
      const shown =
        flags.all || flags.prefix?.startsWith('_') ? listed : listed.filter((s) => !isInternalStream(s.name));
      const hidden = listed.length - shown.length;
      printList(process.stdout, outputMode(flags), shown, COLUMNS, 'No streams.');
      if (hidden > 0 && outputMode(flags) === 'table')
        process.stderr.write(
          `(${formatCount(hidden)} internal stream${hidden === 1 ? '' : 's'} not shown; --all lists them)\n`,
        );
    }),
  );

  addOutputOptions(
    streams
      .command('create')
      .description('create a stream')
      .argument('<name>', 'stream name')
      .option('--description <text>', 'what the stream holds')
      .option('--retention-age <duration>', 'drop events older than this (e.g. 7d, 12h)', parseDuration)
      .option('--retention-events <n>', 'keep at most this many events', parsePositiveInt)
      .option('--retention-bytes <size>', 'keep at most this many bytes (e.g. 1GB, 512MiB)', parseSize)
      .option('--exclusive-producer', 'only the first producer may write')
      .addHelpText(
        'after',
        '\nExample:\n  rivulet streams create orders --description "web shop orders" --retention-age 7d --retention-bytes 1GB',
      ),
    false,
  ).action(
    runAction(
      async (
        name: string,
        flags: OutputFlags & {
          description?: string;
          retentionAge?: number;
          retentionEvents?: number;
          retentionBytes?: number;
          exclusiveProducer?: boolean;
        },
        cmd: Command,
      ) => {
        const retention = {
          ...(flags.retentionAge !== undefined && { maxAgeMs: flags.retentionAge }),
          ...(flags.retentionEvents !== undefined && { maxEvents: flags.retentionEvents }),
          ...(flags.retentionBytes !== undefined && { maxBytes: flags.retentionBytes }),
        };
        const body = {
          name,
          ...(flags.description !== undefined && { description: flags.description }),
          ...(Object.keys(retention).length > 0 && { retention }),
          ...(flags.exclusiveProducer && { exclusiveProducer: true }),
        };
        const created = (await clientFor(cmd).request<StreamView>('POST', '/v1/streams', { json: body })).body;
        if (outputMode(flags) === 'json') printJson(process.stdout, 'json', created);
        else process.stdout.write(`Stream "${created.name}" created.\n`);
      },
    ),
  );

  addOutputOptions(
    streams
      .command('describe')
      .description('show a stream’s settings, counts and bounds')
      .argument('<name>', 'stream name'),
    false,
  ).action(
    runAction(async (name: string, flags: OutputFlags, cmd: Command) => {
      const s = (await clientFor(cmd).request<StreamView>('GET', path(name))).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', s);
      process.stdout.write(
        renderFields([
          ['Name', s.name],
          ['Description', s.description || '-'],
          ['Owner', s.owner],
          ['Events', formatCount(s.stats.count)],
          ['Seq range', s.stats.count === 0 ? '-' : `${s.stats.firstSeq}–${s.stats.lastSeq}`],
          ['Bytes', formatBytes(s.stats.bytes)],
          ['First event', s.stats.firstTime ?? '-'],
          ['Last event', s.stats.lastTime ?? '-'],
          ['Retention', retentionText(s.retention)],
          ['Producer', s.exclusiveProducer ? `exclusive${s.lockedBy ? ` (owned by ${s.lockedBy})` : ''}` : 'any'],
          ['Created', s.createdAt],
          ['Updated', `${s.updatedAt} (version ${s.version})`],
        ]),
      );
    }),
  );

  streams
    .command('delete')
    .description('delete a stream and all its events')
    .argument('<name>', 'stream name')
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .action(
      runAction(async (name: string, flags: { yes?: boolean }, cmd: Command) => {
        const client = clientFor(cmd);
        await confirmDeletion(`stream "${name}" and all its events`, flags.yes);
        await client.request('DELETE', path(name));
        process.stdout.write(`Stream "${name}" deleted.\n`);
      }),
    );
}

function retentionText(r: StreamView['retention']): string {
  const parts = [
    r.maxAgeMs ? `${humanDuration(r.maxAgeMs)} old` : undefined,
    r.maxEvents ? `${formatCount(r.maxEvents)} events` : undefined,
    r.maxBytes ? formatBytes(r.maxBytes) : undefined,
  ].filter(Boolean);
  return parts.length === 0 ? 'keep everything' : `at most ${parts.join(', ')}`;
}

function humanDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
