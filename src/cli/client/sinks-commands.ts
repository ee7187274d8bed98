/**
 * `rivulet sinks …`: continuous deliveries of streams to targets (docs/delivery.md) — list,
 * create (from a file or from flags), describe, delete, and the control verbs: pause, resume,
 * seek, replay, retry-dead-letters, attempts.
 */
import { Option, type Command } from 'commander';
import { usageError } from './cli-error.js';
import { colourFor } from './colour.js';
import { clientFor, runAction } from './command-context.js';
import { ageText } from './consumers-commands.js';
import { readDocumentFile } from './document-file.js';
import type { ApiClient } from './http-client.js';
import {
  addOutputOptions,
  formatBytes,
  formatCount,
  outputMode,
  printJson,
  printList,
  renderFields,
  truncate,
  type Column,
  type OutputFlags,
} from './output.js';
import { confirmDeletion } from './prompt.js';
import { collect, parsePositiveInt } from './quantities.js';
import { describeStart, parseStartPosition, type StartPosition } from './start-position.js';
import type { AttemptView, SinkView } from '../../http/api-views.js';

interface CreateFlags extends OutputFlags {
  file?: string;
  id?: string;
  stream?: string[];
  http?: string;
  method?: string;
  toStream?: string;
  type?: string[];
  condition?: string;
  transform?: string;
  from?: StartPosition;
  paused?: boolean;
  description?: string;
  signingSecret?: string[];
}

const HINTS = { 404: 'check the sink id (`rivulet sinks ls`)' };
const path = (id: string, verb = '') => `/v1/sinks/${encodeURIComponent(id)}${verb}`;

function targetText(t: SinkView['target']): string {
  const where =
    typeof t['url'] === 'string'
      ? t['url']
      : typeof t['stream'] === 'string'
        ? t['stream']
        : typeof t['bucket'] === 'string'
          ? t['bucket']
          : '';
  return where ? `${t.kind} ${where}` : t.kind;
}

const COLUMNS: Column<SinkView>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'STATUS', value: (s) => s.status },
  { header: 'STREAMS', value: (s) => s.streams.join(',') },
  { header: 'TARGET', value: (s) => truncate(targetText(s.target), 50) },
  { header: 'DELIVERED', value: (s) => formatCount(s.stats.delivered ?? 0), align: 'right' },
  { header: 'FAILED', value: (s) => formatCount(s.stats.failed ?? 0), align: 'right' },
  { header: 'DEAD', value: (s) => formatCount(s.stats.deadLettered ?? 0), align: 'right' },
  { header: 'PENDING', value: (s) => formatCount(s.lag.pending), align: 'right' },
];

const ATTEMPT_COLUMNS: Column<AttemptView>[] = [
  { header: 'AT', value: (a) => a.at },
  { header: 'STREAM', value: (a) => a.stream },
  { header: 'SEQ', value: (a) => String(a.seq), align: 'right' },
  { header: 'ATTEMPT', value: (a) => String(a.attempt), align: 'right' },
  { header: 'OUTCOME', value: (a) => a.outcome },
  { header: 'STATUS', value: (a) => (a.status === null ? '-' : String(a.status)), align: 'right' },
  { header: 'LATENCY', value: (a) => `${a.latencyMs} ms`, align: 'right' },
  { header: 'ACTION', value: (a) => a.action },
  { header: 'ERROR', value: (a) => truncate(a.error ?? '', 60) },
];

async function listAll(client: ApiClient): Promise<SinkView[]> {
  const all: SinkView[] = [];
  let after: string | undefined;
  do {
    const page = await client.request<{ sinks: SinkView[]; next: string | null }>('GET', '/v1/sinks', {
      query: { limit: 1000, after },
    });
    all.push(...page.body.sinks);
    after = page.body.next ?? undefined;
  } while (after !== undefined);
  return all;
}

/** The create body: a whole file, or one built from flags (the two do not mix). */
function createBody(flags: CreateFlags): Record<string, unknown> {
  const built = [
    flags.id,
    flags.stream,
    flags.http,
    flags.toStream,
    flags.type,
    flags.condition,
    flags.transform,
    flags.from,
    flags.paused,
    flags.description,
    flags.method,
  ];
  if (flags.file !== undefined) {
    if (built.some((v) => v !== undefined)) throw usageError('give the sink in a file (-f) or with flags, not both');
    const sink = readDocumentFile(flags.file, 'a sink') as Record<string, unknown>;
    return withSigningSecrets(withStartShorthand(sink), flags.signingSecret);
  }
  if (!flags.stream || flags.stream.length === 0)
    throw usageError('a sink needs at least one --stream (or a file: -f sink.yaml)');
  if ((flags.http === undefined) === (flags.toStream === undefined))
    throw usageError(
      'give one target: --http <url> or --to-stream <name>',
      'other targets (s3, opensearch) and mappings: write the sink in a file and use -f',
    );
  if (flags.method !== undefined && flags.http === undefined) throw usageError('--method goes with --http');
  if (flags.signingSecret !== undefined && flags.http === undefined)
    throw usageError('--signing-secret goes with --http');
  const filter = {
    ...(flags.type && { types: flags.type }),
    ...(flags.condition !== undefined && { condition: flags.condition }),
  };
  return {
    ...(flags.id !== undefined && { id: flags.id }),
    ...(flags.description !== undefined && { description: flags.description }),
    streams: flags.stream,
    ...(Object.keys(filter).length > 0 && { filter }),
    ...(flags.transform !== undefined && { transform: flags.transform }),
    target:
      flags.http !== undefined
        ? {
            kind: 'http',
            url: flags.http,
            ...(flags.method !== undefined && { method: flags.method.toUpperCase() }),
            ...(flags.signingSecret && { signing: { secrets: flags.signingSecret } }),
          }
        : { kind: 'stream', stream: flags.toStream },
    ...(flags.from && { start: flags.from }),
    ...(flags.paused && { state: 'paused' }),
  };
}

/**
 * `start: end` (or beginning, a seq, a time) in a file, as `--from` takes it, becomes the
 * API's `{ from: … }`; the object form passes as it is.
 */
export function withStartShorthand(sink: Record<string, unknown>): Record<string, unknown> {
  const start = sink['start'];
  if (typeof start !== 'string' && typeof start !== 'number') return sink;
  try {
    return { ...sink, start: parseStartPosition(String(start)) };
  } catch (err) {
    throw usageError(`start: ${(err as Error).message}`);
  }
}

/** `--signing-secret` with a file: the secrets join the file's http target */
function withSigningSecrets(sink: Record<string, unknown>, secrets: string[] | undefined): Record<string, unknown> {
  if (!secrets) return sink;
  const target = sink['target'] as Record<string, unknown> | undefined;
  if (target?.['kind'] !== 'http') throw usageError('--signing-secret goes with an http target');
  return { ...sink, target: { ...target, signing: { secrets } } };
}

/**
 * A sink just created or resumed is not held by a server process for a moment, and reads as
 * "stopped" though it is about to run. Ask again for a little while, so the status shown is
 * the one it settles in; one that stays unheld is said to be waiting.
 */
async function settled(client: ApiClient, sink: SinkView): Promise<SinkView> {
  let current = sink;
  for (let i = 0; i < 20 && current.state !== 'paused' && current.deliveredBy === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    current = (await client.request<SinkView>('GET', path(current.id), { hints: HINTS })).body;
  }
  return current;
}

function statusText(s: SinkView): string {
  const colour = colourFor(process.stdout);
  if (s.status === 'stopped' && s.state !== 'paused')
    return colour.yellow('waiting for a server process to deliver it');
  const paint = s.status === 'running' ? colour.green : s.status === 'failing' ? colour.red : colour.yellow;
  return paint(s.status);
}

function describeText(s: SinkView): string {
  const stats = s.stats;
  const fields: [string, string][] = [
    ['ID', s.id],
    ['Description', s.description || '-'],
    ['Status', `${s.status}${s.deliveredBy ? ` (delivered by ${s.deliveredBy})` : ''}`],
    ['Owner', s.owner],
    ['Streams', s.streams.join(', ')],
    ['Target', targetText(s.target)],
    ['Filter', s.filter ? JSON.stringify(s.filter) : 'none'],
    ['Transform', s.transform ?? 'none'],
    ['Dead letters', s.deadLetterStream ?? '<stream>.dlq'],
    ['Delivered', `${formatCount(stats.delivered ?? 0)} events, ${formatBytes(stats.bytes ?? 0)}`],
    [
      'Failed attempts',
      `${formatCount(stats.failed ?? 0)} (retried ${formatCount(stats.retried ?? 0)}, dead-lettered ${formatCount(stats.deadLettered ?? 0)}, filtered out ${formatCount(stats.filtered ?? 0)})`,
    ],
    ['Last success', stats.lastSuccessAt ?? '-'],
    [
      'Last error',
      stats.lastError ? `${stats.lastErrorAt ?? ''} ${stats.lastStatus ?? ''} ${stats.lastError}`.trim() : '-',
    ],
    ...s.lag.streams.map((l): [string, string] => [
      `Lag ${l.stream}`,
      `${formatCount(l.pending)} pending, at seq ${l.committedSeq} of ${l.lastSeq}, oldest ${ageText(l.oldestUnackedAgeMs)}`,
    ]),
    [
      'Side jobs',
      s.jobs.length === 0
        ? 'none'
        : s.jobs
            .map((j) => `${j.kind ?? 'job'} ${j.stream ?? ''} ${j.fromSeq ?? ''}–${j.toSeq ?? ''}`.trim())
            .join('; '),
    ],
    ['Created', s.createdAt],
    ['Updated', `${s.updatedAt} (version ${s.version})`],
  ];
  return renderFields(fields);
}

/** A control verb that answers the sink: prints a sentence, or the sink with --json. */
function controlVerb(
  sinks: Command,
  name: string,
  description: string,
  verb: string,
  done: (s: SinkView) => string,
): void {
  addOutputOptions(sinks.command(name).description(description).argument('<id>', 'sink id'), false).action(
    runAction(async (id: string, flags: OutputFlags, cmd: Command) => {
      const client = clientFor(cmd);
      const sink = await settled(
        client,
        (await client.request<SinkView>('POST', path(id, verb), { hints: HINTS })).body,
      );
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', sink);
      process.stdout.write(`${done(sink)}\n`);
    }),
  );
}

export function addSinksCommands(program: Command): void {
  const sinks = program
    .command('sinks')
    .description('manage sinks: deliveries of streams to targets (http, stream, s3, opensearch)');

  addOutputOptions(sinks.command('ls').alias('list').description('list sinks with status, counts and lag')).action(
    runAction(async (flags: OutputFlags, cmd: Command) => {
      printList(process.stdout, outputMode(flags), await listAll(clientFor(cmd)), COLUMNS, 'No sinks.');
    }),
  );

  addOutputOptions(
    sinks
      .command('create')
      .description('create a sink from a file (-f, JSON or YAML: docs/delivery.md) or from flags')
      .option('-f, --file <path>', 'the sink as JSON or YAML ("-" for stdin)')
      .option('--id <id>', 'sink id (default: generated)')
      .option('--stream <name>', 'a source stream (repeat for several)', collect)
      .option('--http <url>', 'target: POST each event to this URL')
      .option('--method <method>', 'with --http: POST, PUT or PATCH')
      .option('--to-stream <name>', 'target: write each event into this stream')
      .option('--type <type>', 'only this event type (repeat; `order.*` patterns allowed)', collect)
      .option('--condition <expr>', 'only events for which this JSONata expression is true')
      .option('--transform <expr>', 'JSONata over the event building what is delivered')
      .option('--from <position>', 'first event: end (default), beginning, a seq, or a time', parseStartPosition)
      .option('--paused', 'create it paused')
      .addOption(
        new Option(
          '--signing-secret <whsec>',
          'with --http (or an http target in -f): sign each request (Standard Webhooks) with this secret, "whsec_" + base64; repeat to rotate',
        )
          .env('RIVULET_SIGNING_SECRET')
          .argParser(collect),
      )
      .option('--description <text>', 'what the sink is for')
      .addHelpText(
        'after',
        [
          '',
          'Examples:',
          '  rivulet sinks create --id orders-hook --stream orders --http https://hooks.example.com/orders --type "order.*"',
          '  rivulet sinks create --stream raw --to-stream clean --transform \'{"id": data.id}\' --from beginning',
          '  rivulet sinks create -f orders-to-s3.yaml',
        ].join('\n'),
      ),
    false,
  ).action(
    runAction(async (flags: CreateFlags, cmd: Command) => {
      const client = clientFor(cmd);
      const created = await settled(
        client,
        (
          await client.request<SinkView>('POST', '/v1/sinks', {
            json: createBody(flags),
            hints: { 404: 'check the stream names (`rivulet streams ls`)' },
          })
        ).body,
      );
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', created);
      process.stdout.write(
        `Sink "${created.id}" created (${statusText(created)}): ${created.streams.join(', ')} → ${targetText(created.target)}.\n`,
      );
    }),
  );

  addOutputOptions(
    sinks
      .command('describe')
      .description('show a sink: settings (secrets redacted), status, stats, lag')
      .argument('<id>', 'sink id'),
    false,
  ).action(
    runAction(async (id: string, flags: OutputFlags, cmd: Command) => {
      const sink = (await clientFor(cmd).request<SinkView>('GET', path(id), { hints: HINTS })).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', sink);
      process.stdout.write(describeText(sink));
    }),
  );

  sinks
    .command('delete')
    .description('delete a sink with its consumers, stats and attempt log')
    .argument('<id>', 'sink id')
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .action(
      runAction(async (id: string, flags: { yes?: boolean }, cmd: Command) => {
        const client = clientFor(cmd);
        await confirmDeletion(`sink "${id}"`, flags.yes);
        await client.request('DELETE', path(id), { hints: HINTS });
        process.stdout.write(`Sink "${id}" deleted.\n`);
      }),
    );

  controlVerb(
    sinks,
    'pause',
    'stop delivering after the in-flight attempt; the position is kept',
    '/pause',
    (s) => `Sink "${s.id}" paused.`,
  );
  controlVerb(
    sinks,
    'resume',
    'deliver again from where the sink stopped',
    '/resume',
    (s) => `Sink "${s.id}" resumed (${statusText(s)}; ${formatCount(s.lag.pending)} pending).`,
  );

  addOutputOptions(
    sinks
      .command('seek')
      .description('move a sink to a position; what was in flight may be delivered again')
      .argument('<id>', 'sink id')
      .requiredOption('--to <position>', 'beginning, end, a seq or a time', parseStartPosition)
      .option('--stream <name>', 'with a seq, on a sink of several streams: which one')
      .addHelpText(
        'after',
        '\nExamples:\n  rivulet sinks seek orders-hook --to 2024-05-01T00:00:00Z\n  rivulet sinks seek orders-hook --to 1200 --stream orders',
      ),
    false,
  ).action(
    runAction(async (id: string, flags: OutputFlags & { to: StartPosition; stream?: string }, cmd: Command) => {
      const sink = (
        await clientFor(cmd).request<SinkView>('POST', path(id, '/seek'), {
          json: { ...flags.to, ...(flags.stream !== undefined && { stream: flags.stream }) },
          hints: HINTS,
        })
      ).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', sink);
      process.stdout.write(`Sink "${sink.id}" moved to ${describeStart(flags.to)}.\n`);
    }),
  );

  addOutputOptions(
    sinks
      .command('replay')
      .description('deliver a range of a source stream again, beside the normal progress')
      .argument('<id>', 'sink id')
      .requiredOption('--stream <name>', 'the source stream')
      .requiredOption('--from-seq <seq>', 'first seq', parsePositiveInt)
      .option('--to-seq <seq>', "last seq (default: the stream's last now)", parsePositiveInt)
      .addHelpText(
        'after',
        '\nExample:\n  rivulet sinks replay orders-hook --stream orders --from-seq 100 --to-seq 200',
      ),
    false,
  ).action(
    runAction(
      async (id: string, flags: OutputFlags & { stream: string; fromSeq: number; toSeq?: number }, cmd: Command) => {
        if (flags.toSeq !== undefined && flags.toSeq < flags.fromSeq) throw usageError('--to-seq is before --from-seq');
        const body = {
          stream: flags.stream,
          fromSeq: flags.fromSeq,
          ...(flags.toSeq !== undefined && { toSeq: flags.toSeq }),
        };
        const answer = (
          await clientFor(cmd).request<{ job: Record<string, unknown> }>('POST', path(id, '/replay'), {
            json: body,
            hints: HINTS,
          })
        ).body;
        if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', answer);
        process.stdout.write(
          `Replay of ${flags.stream} from seq ${flags.fromSeq}${flags.toSeq !== undefined ? ` to ${flags.toSeq}` : ''} started (job ${String(answer.job['id'] ?? '?')}).\n`,
        );
      },
    ),
  );

  addOutputOptions(
    sinks
      .command('retry-dead-letters')
      .description('deliver once more the events this sink dead-lettered')
      .argument('<id>', 'sink id'),
    false,
  ).action(
    runAction(async (id: string, flags: OutputFlags, cmd: Command) => {
      const answer = (
        await clientFor(cmd).request<{ jobs: Record<string, unknown>[] }>('POST', path(id, '/dead-letters/retry'), {
          hints: HINTS,
        })
      ).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', answer);
      process.stdout.write(
        answer.jobs.length === 0
          ? `Sink "${id}" has no dead letters.\n`
          : `Retrying the dead letters of sink "${id}" (${answer.jobs.length} job${answer.jobs.length === 1 ? '' : 's'}).\n`,
      );
    }),
  );

  addOutputOptions(
    sinks
      .command('attempts')
      .description('the attempt log, newest first: outcome, status, latency, error')
      .argument('<id>', 'sink id')
      .option('--stream <name>', 'only attempts on this source stream')
      .option('--seq <seq>', 'only attempts for this seq', parsePositiveInt)
      .addOption(new Option('-n, --limit <n>', 'at most this many (1–1000)').argParser(parsePositiveInt).default(100)),
  ).action(
    runAction(
      async (id: string, flags: OutputFlags & { stream?: string; seq?: number; limit: number }, cmd: Command) => {
        if (flags.limit > 1000) throw usageError('--limit is at most 1000');
        const query = { stream: flags.stream, seq: flags.seq, limit: flags.limit };
        const attempts = (
          await clientFor(cmd).request<{ attempts: AttemptView[] }>('GET', path(id, '/attempts'), {
            query,
            hints: HINTS,
          })
        ).body.attempts;
        printList(process.stdout, outputMode(flags), attempts, ATTEMPT_COLUMNS, 'No attempts yet.');
      },
    ),
  );
}
