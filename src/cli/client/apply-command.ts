/**
 * `rivulet apply -f spec.yaml [--dry-run] [--prune]`: shows the plan as a diff, then uploads
 * the spec as its dataset's next revision and follows its pipelines until Rivulet's are done.
 * A revision that FAILED exits 1, like any refusal.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { isRivuletError } from '../../kernel/errors.js';
import { parseSpecText } from '../../core/specs/spec-text.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import { clientFor, runAction } from './command-context.js';
import type { ApiClient } from './http-client.js';
import { addOutputOptions, outputMode, printJson, type OutputFlags } from './output.js';
import { renderPlan, type PlanAnswer } from './plan-diff.js';
import type { RevisionView } from '../../http/api-views.js';

interface ApplyFlags extends OutputFlags {
  file: string;
  dryRun?: boolean;
  prune?: boolean;
  wait: boolean;
  timeout: number;
}

function readSpec(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseSpecText(text);
  } catch (err) {
    if (isRivuletError(err)) throw usageError(`${file}: ${err.message}`, 'a spec is YAML or JSON: see docs/specs.md');
    throw err;
  }
}

async function follow(client: ApiClient, doc: RevisionView, timeoutMs: number): Promise<RevisionView> {
  const path = `/v1/specs/${encodeURIComponent(doc.owner)}/${encodeURIComponent(doc.dataset)}/revisions/${doc.revision}`;
  const until = Date.now() + timeoutMs;
  let current = doc;
  // Rivulet's own pipelines are done when none is queued or running; external ones are reported later
  while (
    current.pipelines.some((p) => p.runner === 'rivulet' && (p.status === 'QUEUED' || p.status === 'INPROGRESS')) ||
    (current.state === 'QUEUED' && current.pipelines.length === 0)
  ) {
    if (Date.now() > until)
      throw new CliError(
        EXIT.SERVER,
        `revision ${doc.id} is still ${current.state} after ${Math.round(timeoutMs / 1000)} s`,
        `look at it later: GET ${path}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
    current = (await client.request<RevisionView>('GET', path)).body;
  }
  return current;
}

function renderOutcome(doc: RevisionView): string {
  const lines = [`Revision ${doc.id}: ${doc.state}`];
  for (const p of doc.pipelines) {
    lines.push(`  ${p.status.padEnd(10)} ${p.title}${p.runner === 'external' ? ' (external)' : ''}`);
    for (const e of p.errors) lines.push(`             ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

export function addApplyCommand(program: Command): void {
  addOutputOptions(
    program
      .command('apply')
      .description('apply a spec (YAML or JSON): show the plan, then upload it as the next revision')
      .requiredOption('-f, --file <path>', 'the spec file ("-" for stdin)')
      .option('--dry-run', 'show the plan only; change nothing')
      .option('--prune', 'delete what the dataset manages but the spec no longer declares')
      .option('--no-wait', 'do not wait for the pipelines to finish')
      .addOption(
        new Option('--timeout <seconds>', 'how long to wait for the pipelines').default(120).argParser((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1) throw usageError('--timeout is a whole number of seconds');
          return n;
        }),
      )
      .addHelpText(
        'after',
        '\nExamples:\n  rivulet apply -f shop.yaml --dry-run\n  rivulet apply -f shop.yaml --prune',
      ),
    false,
  ).action(
    runAction(async (flags: ApplyFlags, cmd: Command) => {
      const mode = outputMode(flags);
      const body = readSpec(flags.file);
      const client = clientFor(cmd);
      const query = { prune: flags.prune ? 'true' : undefined };
      const plan = (await client.request<PlanAnswer>('POST', '/v1/specs/plan', { json: body, query })).body;
      if (flags.dryRun) {
        if (mode === 'json') printJson(process.stdout, 'json', plan);
        else process.stdout.write(renderPlan(plan));
        return;
      }
      if (mode !== 'json') process.stdout.write(renderPlan(plan));
      let doc = (await client.request<RevisionView>('POST', '/v1/specs', { json: body, query })).body;
      if (flags.wait) doc = await follow(client, doc, flags.timeout * 1000);
      if (mode === 'json') printJson(process.stdout, 'json', doc);
      else process.stdout.write(renderOutcome(doc));
      if (doc.state === 'FAILED')
        throw new CliError(
          EXIT.REFUSED,
          `revision ${doc.id} FAILED`,
          'the errors are listed above; fix the spec and apply again',
        );
    }),
  );
}
