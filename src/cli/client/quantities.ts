/** Parsers for command-line quantities: durations (7d), sizes (1GB, 512MiB), counts. */
import { InvalidArgumentError } from 'commander';

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `12h`, `7d`, `2w`, `500ms`; several parts add up (`1d12h`). */
export function parseDuration(text: string): number {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim()) {
    throw new InvalidArgumentError(`"${text}" is not a duration; use e.g. 90s, 30m, 12h, 7d, 2w`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_MS[p[2]!]!, 0);
  if (ms < 1) throw new InvalidArgumentError('a duration must be at least 1ms');
  return Math.round(ms);
}

const SIZE: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tib: 1024 ** 4,
};

/** `1048576`, `500KB` (decimal), `512MiB` (binary), `1GB`. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const factor = m ? (m[2] === '' ? 1 : SIZE[m[2]!.toLowerCase()]) : undefined;
  if (!m || factor === undefined) throw new InvalidArgumentError(`"${text}" is not a size; use e.g. 1048576, 500KB, 512MiB, 1GB`);
  const bytes = Math.round(Number(m[1]) * factor);
  if (bytes < 1) throw new InvalidArgumentError('a size must be at least 1 byte');
  return bytes;
}

export function parsePositiveInt(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`"${text}" is not a whole number ≥ 1`);
  }
  return Number(text);
}

export function parseNonNegativeInt(text: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw new InvalidArgumentError(`"${text}" is not a whole number ≥ 0`);
  return Number(text);
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
