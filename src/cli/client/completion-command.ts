/**
 * `rivulet completion bash|zsh`: a completion script generated from the command tree, so it
 * never falls behind the commands. zsh runs the bash script through bashcompinit.
 */
import { Argument, type Command } from 'commander';
import { usageError } from './cli-error.js';
import { runAction } from './command-context.js';

interface Node {
  path: string;
  words: string[];
}

function walk(cmd: Command, path: string, out: Node[], globals: string[]): void {
  const subcommands = cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => [c.name(), ...c.aliases()]);
  const choices = cmd.registeredArguments.flatMap((a) => a.argChoices ?? []);
  const options = [
    ...cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)),
    ...globals,
    '--help',
  ];
  out.push({ path, words: [...subcommands, ...choices, ...new Set(options)] });
  for (const sub of cmd.commands) {
    if (sub.name() === 'help') continue;
    for (const name of [sub.name(), ...sub.aliases()]) walk(sub, path === '' ? name : `${path} ${name}`, out, globals);
  }
}

export function bashScript(program: Command): string {
  const nodes: Node[] = [];
  const globals = program.options.map((o) => o.long).filter((f): f is string => f !== undefined && f !== '--version');
  walk(program, '', nodes, globals);
  const known = `|${nodes
    .map((n) => n.path)
    .filter(Boolean)
    .join('|')}|`;
  const cases = nodes.map((n) => `    '${n.path}') words='${n.words.join(' ')}' ;;`).join('\n');
  return `# rivulet completion for bash (zsh: see \`rivulet completion zsh\`)
_rivulet_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" candidate words i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) continue ;; esac
    candidate="\${path:+$path }\${COMP_WORDS[i]}"
    if [[ '${known}' == *"|$candidate|"* ]]; then path="$candidate"; fi
  done
  case "$path" in
${cases}
    *) words='' ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  if [[ \${#COMPREPLY[@]} -eq 0 ]]; then COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _rivulet_complete rivulet
`;
}

export function addCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      '\nInstall:\n  bash:  rivulet completion bash > ~/.local/share/bash-completion/completions/rivulet\n  zsh:   rivulet completion zsh > "${fpath[1]}/_rivulet"   (or: source <(rivulet completion zsh))',
    )
    .action(
      runAction(async (shell: string) => {
        if (shell === 'bash') process.stdout.write(bashScript(program));
        else if (shell === 'zsh')
          process.stdout.write(`#compdef rivulet\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(program)}`);
        else throw usageError(`no completion for "${shell}"`, 'use bash or zsh');
      }),
    );
}
