/** Parsers for command-line quantities: durations (7d, with parse-duration), sizes (1GB, 512MiB, with bytes-iec), counts. */
import { InvalidArgumentError } from 'commander';
import parseDurationText from 'parse-duration';
import bytesIec from 'bytes-iec';

const parseBytes = (text: string): number | null => bytesIec.parse(text);

/** `90s`, `30m`, `12h`, `7d`, `2w`, `500ms`; several parts add up (`1d12h`, `1h 30m`). A unit is required. */
export function parseDuration(text: string): number {
  // parse-duration skips words it does not know ("7d junk" is 7d): only number-unit parts pass
  const ms = /^(?:\s*\d+(?:\.\d+)?\s*[a-zµ]+)+\s*$/i.test(text) ? parseDurationText(text.trim()) : null;
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(`"${text}" is not a duration; use e.g. 90s, 30m, 12h, 7d, 2w`);
  }
  if (ms < 1) throw new InvalidArgumentError('a duration must be at least 1ms');
  return Math.round(ms);
}

/** `k`, `m`, `g`, `t` alone are the binary units (as in `ulimit` and `dd`) */
const SHORT_BINARY: Record<string, string> = { k: 'KiB', m: 'MiB', g: 'GiB', t: 'TiB' };

/** `1048576`, `500KB` (decimal), `512MiB` (binary), `1GB`, `64k` (binary). */
export function parseSize(text: string): number {
  const short = /^(\d+(?:\.\d+)?)\s*([kmgt])$/i.exec(text.trim());
  const bytes = parseBytes(short ? `${short[1]}${SHORT_BINARY[short[2]!.toLowerCase()]}` : text.trim());
  if (bytes === null || !Number.isFinite(bytes) || !/^\d/.test(text.trim())) {
    throw new InvalidArgumentError(`"${text}" is not a size; use e.g. 1048576, 500KB, 512MiB, 1GB`);
  }
  if (bytes < 1) throw new InvalidArgumentError('a size must be at least 1 byte');
  return Math.round(bytes);
}

export function parsePositiveInt(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`"${text}" is not a whole number ≥ 1`);
  }
  return Number(text);
}

export function parseNonNegativeInt(text: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text)))
    throw new InvalidArgumentError(`"${text}" is not a whole number ≥ 0`);
  return Number(text);
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
