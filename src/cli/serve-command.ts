/** `rivulet serve`: the server, configured by flags > RIVULET_* > config file > defaults. */
import { Option, type Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { OPTIONS } from '../config/options.js';
import type { RunningServer } from '../runtime/server.js';
import { installSignalHandlers } from './signal-handlers.js';

export function addServeCommand(program: Command): void {
  const serve = program.command('serve').description('start the Rivulet server');
  serve.addOption(new Option('-c, --config <file>', 'YAML or JSON config file').env('RIVULET_CONFIG'));
  for (const spec of OPTIONS) {
    const value = spec.type === 'boolean' ? '' : ` <${spec.type === 'integer' ? 'n' : 'value'}>`;
    const shown =
      'secret' in spec && spec.secret ? '' : spec.default === undefined ? '' : ` (default: ${String(spec.default)})`;
    const choices = 'choices' in spec ? ` [${spec.choices.join('|')}]` : '';
    serve.addOption(
      new Option(`${spec.flag}${value}`, `${spec.help}${choices}${shown}; env ${spec.env}; config key ${spec.key}`),
    );
  }
  serve.action(async (flags: Record<string, unknown>) => {
    // loaded here so client commands do not pay for loading the whole server
    const { startServer } = await import('../runtime/server.js');
    const { StoreOpenError } = await import('../store/sqlite/sqlite-store.js');
    const { ListenError } = await import('../runtime/server.js');
    let server;
    try {
      const config = loadConfig({ flags, env: process.env, file: flags.config as string | undefined });
      server = await startServer(config);
      announce(server.url, server.adminKey, config.dataDir);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof StoreOpenError) {
        process.stderr.write(`rivulet: ${err.message}\n`);
        process.exit(2);
      }
      if (err instanceof ListenError) {
        process.stderr.write(`rivulet: ${err.message}\n`);
        process.exit(1);
      }
      throw err;
    }
    installSignalHandlers(server, server.log);
  });
}

function announce(url: string, adminKey: RunningServer['adminKey'], dataDir: string): void {
  const lines = [``, `Rivulet is listening on ${url}`, `  Console:   ${url}/console/`, `  API docs:  ${url}/docs`];
  if (adminKey.kind === 'generated') {
    lines.push(
      `  Admin key (shown once; also saved to ${adminKey.file}, mode 0600):`,
      `    ${adminKey.secret}`,
      `  Try:  curl -H "Authorization: Bearer $(cat ${dataDir}/admin.key)" ${url}/v1/streams`,
    );
  } else if (adminKey.kind === 'configured') {
    lines.push('  Authenticate with the admin key from RIVULET_ADMIN_KEY: "Authorization: Bearer <key>"');
  } else {
    lines.push(
      `  Authenticate with "Authorization: Bearer <key>" (a generated admin key is in ${dataDir}/admin.key if you kept it)`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
