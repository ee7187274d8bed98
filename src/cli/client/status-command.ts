/** `rivulet status`: which server, which version and store, who you are, how many streams. */
import type { Command } from 'commander';
import { clientFor, runAction } from './command-context.js';
import type { ApiClient } from './http-client.js';
import type { KeyView } from '../../http/api-views.js';
import { addOutputOptions, outputMode, printJson, renderFields, type OutputFlags } from './output.js';
import { listAllStreams } from './streams-commands.js';

export function addStatusCommand(program: Command): void {
  const status = program
    .command('status')
    .description('show the server, its version and store, your key, and the stream count');
  addOutputOptions(status, false).action(
    runAction(async (flags: OutputFlags, cmd: Command) => {
      const client = clientFor(cmd);
      const report = await statusOf(client);
      if (outputMode(flags) === 'json') return printJson(process.stdout, 'json', report);
      process.stdout.write(
        renderFields([
          ['Server', report.url],
          ['Profile', report.profile],
          ['Version', report.version ?? 'unknown'],
          ['Store', `${report.store ?? 'unknown'} (${report.ready ? 'ready' : 'not ready'})`],
          [
            'Key',
            `${report.key.name || report.key.id} (owner ${report.key.owner}; scopes ${report.key.scopes.join(', ')})`,
          ],
          ['Streams', String(report.streams)],
        ]),
      );
    }),
  );
}

async function statusOf(client: ApiClient) {
  const [ready, openapi, key, streams] = await Promise.all([
    client.request<{ status?: string; store?: string }>('GET', '/readyz', { allowFailure: true }),
    client.request<{ info?: { version?: string } }>('GET', '/openapi.json'),
    client.request<KeyView>('GET', '/v1/whoami'),
    listAllStreams(client),
  ]);
  return {
    url: client.url,
    profile: client.connection.profile,
    version: openapi.body.info?.version ?? null,
    store: ready.body.store ?? null,
    ready: ready.status === 200,
    key: key.body,
    streams: streams.length,
  };
}
