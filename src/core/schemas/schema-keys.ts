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
