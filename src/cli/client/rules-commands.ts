/**
 * `rivulet rules ls|describe|create|delete|enable|disable|validate`: iFLUX event-condition-
 * action rules (docs/rules.md). A rule is written in a file (JSON or YAML); its event sources,
 * event types and action targets are referenced by id.
 */
import type { Command } from 'commander';
import { usageError } from './cli-error.js';
import { clientFor, runAction } from './command-context.js';
import { parseJsonArgument, readDocumentFile } from './document-file.js';
import type { RuleView } from '../../http/api-views.js';
import type { ApiClient } from './http-client.js';
import {
  addOutputOptions,
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
import { parseStartPosition, type StartPosition } from './start-position.js';

interface ValidateAnswer {
  matchedConditions: Record<string, unknown>[];
  matchedActions: { target?: string; type?: string; properties?: unknown; url?: string; method?: string }[];
}

const HINTS = { 404: 'check the rule id (`rivulet rules ls`)' };
const path = (id: string, verb = '') => `/v1/rules/${encodeURIComponent(id)}${verb}`;

const COLUMNS: Column<RuleView>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'NAME', value: (r) => truncate(r.name || '-', 40) },
  { header: 'STATUS', value: (r) => r.status },
  { header: 'STREAMS', value: (r) => r.streams.join(',') },
  { header: 'CONDITIONS', value: (r) => String(r.conditions.length), align: 'right' },
  { header: 'ACTIONS', value: (r) => String(r.actions.length), align: 'right' },
  { header: 'SENT', value: (r) => formatCount(r.stats.actions?.delivered ?? 0), align: 'right' },
  { header: 'FAILED', value: (r) => formatCount(r.stats.actions?.failed ?? 0), align: 'right' },
];

async function listAll(client: ApiClient): Promise<RuleView[]> {
  const all: RuleView[] = [];
  let after: string | undefined;
  do {
    const page = await client.request<{ rules: RuleView[]; next: string | null }>('GET', '/v1/rules', {
      query: { limit: 1000, after },
    });
    all.push(...page.body.rules);
    after = page.body.next ?? undefined;
  } while (after !== undefined);
  return all;
}

function describeText(r: RuleView): string {
  const actions = r.stats.actions ?? {};
  return renderFields([
    ['ID', r.id],
    ['Name', r.name || '-'],
    ['Description', r.description || '-'],
    ['Status', r.status],
    ['Owner', r.owner],
    ['Streams', r.streams.join(', ')],
    ...r.conditions.map((c, i): [string, string] => [`Condition ${i}`, JSON.stringify(c)]),
    ...r.actions.map((a, i): [string, string] => [`Action ${i}`, JSON.stringify(a)]),
    ['Events evaluated', formatCount(r.stats.events?.delivered ?? 0)],
    [
      'Actions sent',
      `${formatCount(actions.delivered ?? 0)} (failed attempts ${formatCount(actions.failed ?? 0)}, dead-lettered ${formatCount(actions.deadLettered ?? 0)})`,
    ],
    ['Last error', actions.lastError ?? '-'],
    ['Pending events', formatCount(r.lag.events)],
    ['Pending actions', formatCount(r.lag.actions)],
    ['Actions stream', r.actionsStream],
    ['Version', String(r.version)],
  ]);
}

/** enable / disable: a sentence, or the rule with --json. */
function toggleVerb(
  rules: Command,
  name: 'enable' | 'disable',
  description: string,
  extra?: (c: Command) => Command,
): void {
  const cmd = rules.command(name).description(description).argument('<id>', 'rule id');
  addOutputOptions(extra ? extra(cmd) : cmd, false).action(
    runAction(async (id: string, flags: OutputFlags & { from?: StartPosition }, c: Command) => {
      if (flags.from && (flags.from.from === 'seq' || flags.from.from === 'end'))
        throw usageError('a rule replays from the beginning or from a time', 'leave out --from to start from the tail');
      const body = flags.from ? { start: flags.from } : undefined;
      const rule = (
        await clientFor(c).request<RuleView>('POST', path(id, `/${name}`), {
          ...(body && { json: body }),
          hints: HINTS,
        })
      ).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', rule);
      process.stdout.write(
        `Rule "${rule.id}" ${name}d${flags.from ? ` (replaying from ${flags.from.from === 'time' ? flags.from.time : 'the beginning'})` : ''}: ${rule.status}.\n`,
      );
    }),
  );
}

export function addRulesCommands(program: Command): void {
  const rules = program
    .command('rules')
    .description('manage iFLUX rules: conditions on events, actions sent to targets');

  addOutputOptions(rules.command('ls').alias('list').description('list rules with status and action counts')).action(
    runAction(async (flags: OutputFlags, cmd: Command) => {
      printList(process.stdout, outputMode(flags), await listAll(clientFor(cmd)), COLUMNS, 'No rules.');
    }),
  );

  addOutputOptions(
    rules.command('describe').description('show a rule: definition, status, stats').argument('<id>', 'rule id'),
    false,
  ).action(
    runAction(async (id: string, flags: OutputFlags, cmd: Command) => {
      const rule = (await clientFor(cmd).request<RuleView>('GET', path(id), { hints: HINTS })).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', rule);
      process.stdout.write(describeText(rule));
    }),
  );

  addOutputOptions(
    rules
      .command('create')
      .description('create a rule from a file (JSON or YAML: docs/rules.md)')
      .requiredOption('-f, --file <path>', 'the rule ("-" for stdin)')
      .addHelpText('after', '\nExample:\n  rivulet rules create -f hot-rooms.yaml'),
    false,
  ).action(
    runAction(async (flags: OutputFlags & { file: string }, cmd: Command) => {
      const body = readDocumentFile(flags.file, 'a rule');
      const created = (await clientFor(cmd).request<RuleView>('POST', '/v1/rules', { json: body })).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', created);
      process.stdout.write(`Rule "${created.id}" created (${created.status}).\n`);
    }),
  );

  rules
    .command('delete')
    .description('delete a rule, its sinks and its actions stream')
    .argument('<id>', 'rule id')
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .action(
      runAction(async (id: string, flags: { yes?: boolean }, cmd: Command) => {
        const client = clientFor(cmd);
        await confirmDeletion(`rule "${id}"`, flags.yes);
        await client.request('DELETE', path(id), { hints: HINTS });
        process.stdout.write(`Rule "${id}" deleted.\n`);
      }),
    );

  toggleVerb(rules, 'enable', 'evaluate events again, from the tail (or replay with --from)', (c) =>
    c.option('--from <position>', 'replay: beginning, or a time', parseStartPosition),
  );
  toggleVerb(rules, 'disable', 'stop evaluating events and sending actions');

  addOutputOptions(
    rules
      .command('validate')
      .description('dry run: which conditions a sample event matches and the actions that would be sent')
      .argument('<id>', 'rule id')
      .option('-f, --file <path>', 'the sample event, JSON or YAML ("-" for stdin)')
      .option('--event <json>', 'the sample event inline')
      .addHelpText(
        'after',
        [
          '',
          "The event is iFLUX's {timestamp, source, type, properties} or native {type, source, time, data}.",
          'No match exits 1 (RULE_NOT_MATCHED).',
          '',
          'Example:',
          '  rivulet rules validate hot-rooms --event \'{"type":"/eventTypes/temperature","source":"/event-sources/abc","properties":{"temperature":30}}\'',
        ].join('\n'),
      ),
    false,
  ).action(
    runAction(async (id: string, flags: OutputFlags & { file?: string; event?: string }, cmd: Command) => {
      if ((flags.file === undefined) === (flags.event === undefined))
        throw usageError('give the sample event with -f <file> or --event <json>');
      const event =
        flags.file !== undefined
          ? readDocumentFile(flags.file, 'an event')
          : parseJsonArgument(flags.event!, '--event');
      const answer = (
        await clientFor(cmd).request<ValidateAnswer>('POST', path(id, '/validate'), {
          json: event,
          hints: {
            ...HINTS,
            422: 'the event matches none of the rule’s conditions (failed expressions, if any, are named above)',
          },
        })
      ).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', answer);
      process.stdout.write(
        `Matched ${answer.matchedConditions.length} condition${answer.matchedConditions.length === 1 ? '' : 's'}; would send:\n`,
      );
      for (const a of answer.matchedActions)
        process.stdout.write(
          `  ${a.method ?? 'POST'} ${a.url ?? a.target ?? '?'}  ${a.type ?? ''}  ${truncate(JSON.stringify(a.properties) ?? '', 80)}\n`,
        );
    }),
  );
}
