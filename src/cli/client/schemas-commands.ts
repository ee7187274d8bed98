/**
 * `rivulet schemas ls|describe|register|delete|compatibility`: the JSON Schemas of a stream's
 * event types (docs/schemas.md). Types holding `/` or `:` are percent-encoded in the path here.
 */
import { Argument, type Command } from 'commander';
import { usageError } from './cli-error.js';
import { clientFor, runAction } from './command-context.js';
import { readDocumentFile } from './document-file.js';
import {
  addOutputOptions,
  outputMode,
  printJson,
  printList,
  renderFields,
  renderTable,
  type Column,
  type OutputFlags,
} from './output.js';
import { confirmDeletion } from './prompt.js';
import { parsePositiveInt } from './quantities.js';
import type { SchemaTypeView, SchemaVersionList, SchemaView } from '../../http/api-views.js';

const MODES = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];

const HINTS = { 404: 'check the stream, type and version (`rivulet schemas ls <stream>`)' };
const typePath = (stream: string, type: string) =>
  `/v1/streams/${encodeURIComponent(stream)}/schemas/${encodeURIComponent(type)}`;

const COLUMNS: Column<SchemaTypeView>[] = [
  { header: 'TYPE', value: (t) => t.type },
  { header: 'LATEST', value: (t) => String(t.latest), align: 'right' },
  { header: 'VERSIONS', value: (t) => t.versions.join(',') },
  { header: 'COMPATIBILITY', value: (t) => `${t.compatibility}${t.compatibilityOverride ? '' : ' (stream default)'}` },
];

export function addSchemasCommands(program: Command): void {
  const schemas = program
    .command('schemas')
    .description('list, register, describe and delete the schemas of a stream’s event types');

  addOutputOptions(
    schemas
      .command('ls')
      .alias('list')
      .description('the event types of a stream that have schemas')
      .argument('<stream>', 'stream name'),
  ).action(
    runAction(async (stream: string, flags: OutputFlags, cmd: Command) => {
      const types = (
        await clientFor(cmd).request<{ types: SchemaTypeView[] }>(
          'GET',
          `/v1/streams/${encodeURIComponent(stream)}/schemas`,
        )
      ).body.types;
      printList(process.stdout, outputMode(flags), types, COLUMNS, `No schemas on "${stream}".`);
    }),
  );

  addOutputOptions(
    schemas
      .command('describe')
      .description('a type’s versions and one version’s schema (the latest unless given)')
      .argument('<stream>', 'stream name')
      .argument('<type>', 'event type')
      .argument('[version]', 'a version number (default: the latest)', parsePositiveInt),
    false,
  ).action(
    runAction(async (stream: string, type: string, wanted: number | undefined, flags: OutputFlags, cmd: Command) => {
      const client = clientFor(cmd);
      const list = (await client.request<SchemaVersionList>('GET', typePath(stream, type), { hints: HINTS })).body;
      const version = (
        await client.request<SchemaView>('GET', `${typePath(stream, type)}/versions/${wanted ?? 'latest'}`, {
          hints: HINTS,
        })
      ).body;
      if (outputMode(flags) === 'json')
        return printJson(process.stdout, 'json', {
          ...version,
          compatibility: list.compatibility,
          versions: list.versions,
        });
      process.stdout.write(
        renderFields([
          ['Stream', stream],
          ['Type', list.type],
          ['Compatibility', list.compatibility],
          ['Version', `${version.version} (${version.draft}, ${version.createdAt})`],
          ['URN', version.urn],
        ]),
      );
      process.stdout.write(
        `\n${renderTable(list.versions, [
          { header: 'VERSION', value: (v) => String(v.version), align: 'right' },
          { header: 'DRAFT', value: (v) => v.draft },
          { header: 'CREATED', value: (v) => v.createdAt },
        ])}\n${JSON.stringify(version.schema, null, 2)}\n`,
      );
    }),
  );

  addOutputOptions(
    schemas
      .command('register')
      .description('register a new version of a type’s schema (checked for compatibility)')
      .argument('<stream>', 'stream name')
      .argument('<type>', 'event type')
      .requiredOption('-f, --file <path>', 'the JSON Schema, as JSON or YAML ("-" for stdin)')
      .option('--compatibility <mode>', `check under this mode and keep it as the type's own (${MODES.join(', ')})`)
      .addHelpText(
        'after',
        '\nExamples:\n  rivulet schemas register orders order.placed -f order-placed.schema.json\n  rivulet schemas register orders order.placed -f v2.json --compatibility FULL',
      ),
    false,
  ).action(
    runAction(
      async (
        stream: string,
        type: string,
        flags: OutputFlags & { file: string; compatibility?: string },
        cmd: Command,
      ) => {
        const compatibility = flags.compatibility?.toUpperCase();
        if (compatibility !== undefined && !MODES.includes(compatibility))
          throw usageError(`unknown compatibility mode "${flags.compatibility}"`, `use one of ${MODES.join(', ')}`);
        const schema = readDocumentFile(flags.file, 'a JSON Schema');
        const body = compatibility === undefined ? { schema } : { schema, compatibility };
        const answer = (
          await clientFor(cmd).request<SchemaView & { created: boolean; compatibility: string }>(
            'POST',
            typePath(stream, type),
            {
              json: body,
              hints: {
                404: 'check the stream name (`rivulet streams ls`)',
                409: 'the new version breaks the compatibility mode (the report is above); change the schema, or pass another --compatibility',
              },
            },
          )
        ).body;
        if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', answer);
        process.stdout.write(
          answer.created
            ? `Registered ${type} version ${answer.version} on "${stream}" (${answer.compatibility}).\n`
            : `Unchanged: ${type} version ${answer.version} on "${stream}" is already this schema.\n`,
        );
      },
    ),
  );

  addOutputOptions(
    schemas
      .command('compatibility')
      .description('set a type’s own compatibility mode (`default`: back to the stream’s)')
      .argument('<stream>', 'stream name')
      .argument('<type>', 'event type')
      .addArgument(new Argument('<mode>', 'the mode').choices([...MODES, 'default'])),
    false,
  ).action(
    runAction(async (stream: string, type: string, mode: string, flags: OutputFlags, cmd: Command) => {
      const answer = (
        await clientFor(cmd).request<{ type: string; compatibility: string }>(
          'PUT',
          `${typePath(stream, type)}/compatibility`,
          {
            json: { compatibility: mode === 'default' ? null : mode },
            hints: HINTS,
          },
        )
      ).body;
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', answer);
      process.stdout.write(`${type} on "${stream}" now uses ${answer.compatibility}.\n`);
    }),
  );

  schemas
    .command('delete')
    .description('delete one version; its number is never given out again')
    .argument('<stream>', 'stream name')
    .argument('<type>', 'event type')
    .argument('<version>', 'version number', parsePositiveInt)
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .action(
      runAction(async (stream: string, type: string, version: number, flags: { yes?: boolean }, cmd: Command) => {
        const client = clientFor(cmd);
        await confirmDeletion(`version ${version} of the ${type} schema on "${stream}"`, flags.yes);
        await client.request('DELETE', `${typePath(stream, type)}/versions/${version}`, { hints: HINTS });
        process.stdout.write(`Deleted ${type} version ${version} on "${stream}".\n`);
      }),
    );
}
