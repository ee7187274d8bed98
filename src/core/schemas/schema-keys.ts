/**
 * Where schemas live in the document store. Versions are kept in `schemas` under
 * `<stream>/<type>/<version>`: stream names never hold `/`, the type is percent-encoded (types
 * may hold `/` and `:`), and the version is zero-padded so a prefix listing comes back in
 * version order. Per-type settings (the compatibility mode) live in `schema-settings` under
 * `<stream>/<type>`.
 */

export const SCHEMAS = 'schemas';
export const SCHEMA_SETTINGS = 'schema-settings';

const VERSION_DIGITS = 10;

export function encodeType(type: string): string {
  return encodeURIComponent(type);
}

export function streamPrefix(stream: string): string {
  return `${stream}/`;
}

export function typeKey(stream: string, type: string): string {
  return `${stream}/${encodeType(type)}`;
}

export function versionKey(stream: string, type: string, version: number): string {
  return `${typeKey(stream, type)}/${String(version).padStart(VERSION_DIGITS, '0')}`;
}

/** the parts of a `versionKey`; null for a key of another shape */
export function parseVersionKey(key: string): { stream: string; type: string; version: number } | null {
  const first = key.indexOf('/');
  const last = key.lastIndexOf('/');
  if (first < 0 || last <= first) return null;
  const version = Number(key.slice(last + 1));
  if (!Number.isSafeInteger(version)) return null;
  try {
    return { stream: key.slice(0, first), type: decodeURIComponent(key.slice(first + 1, last)), version };
  } catch {
    return null;
  }
}
