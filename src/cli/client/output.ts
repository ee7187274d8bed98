/**
 * Output for people (aligned tables, plain lines) and for scripts (`--json`: one JSON
 * document; `--ndjson`: one JSON value per line). Scripts get data on stdout and nothing
 * else; messages for people go to stderr when a machine format was asked for.
 */
import { Option, type Command } from 'commander';
import Table from 'cli-table3';
import { usageError } from './cli-error.js';
import { colourFor, type Colours } from './colour.js';

export type OutputMode = 'table' | 'json' | 'ndjson';

export interface OutputFlags {
  json?: boolean;
  ndjson?: boolean;
}

export function addOutputOptions(cmd: Command, ndjson = true): Command {
  cmd.addOption(new Option('--json', 'print one JSON document (for scripts)'));
  if (ndjson) cmd.addOption(new Option('--ndjson', 'print one JSON value per line (for scripts)').conflicts('json'));
  return cmd;
}

export function outputMode(flags: OutputFlags): OutputMode {
  if (flags.json && flags.ndjson) throw usageError('choose one of --json and --ndjson');
  return flags.json ? 'json' : flags.ndjson ? 'ndjson' : 'table';
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
}

/** cli-table3 without borders: columns two spaces apart, headers bold on a terminal */
const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

export function renderTable<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  colours: Colours = colourFor(process.stdout),
): string {
  const table = new Table({
    head: columns.map((c) => colours.bold(c.header)),
    colAligns: columns.map((c) => c.align ?? 'left'),
    chars: BORDERLESS,
    style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [], compact: true },
    wordWrap: false,
  });
  for (const row of rows) table.push(columns.map((c) => oneLine(c.value(row))));
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}

/** Label/value pairs, aligned, for `describe` and `status`. */
export function renderFields(fields: readonly [string, string][]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)}  ${value}`).join('\n') + '\n';
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ');
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Prints a list in the chosen mode: a table, one JSON array, or one line per item. */
export function printList<T>(
  out: NodeJS.WritableStream,
  mode: OutputMode,
  items: readonly T[],
  columns: readonly Column<T>[],
  empty: string,
): void {
  if (mode === 'json') out.write(`${JSON.stringify(items, null, 2)}\n`);
  else if (mode === 'ndjson') for (const item of items) out.write(`${JSON.stringify(item)}\n`);
  else if (items.length === 0) process.stderr.write(`${empty}\n`);
  else out.write(renderTable(items, columns));
}

export function printJson(out: NodeJS.WritableStream, mode: OutputMode, value: unknown): void {
  out.write(mode === 'ndjson' ? `${JSON.stringify(value)}\n` : `${JSON.stringify(value, null, 2)}\n`);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
