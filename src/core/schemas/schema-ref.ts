/**
 * Schema references an event may carry to pin the version its data is validated against,
 * in CloudEvents `dataschema` or in a `$schema` member of the data:
 *   urn:rivulet:schema:<stream>:<type>:<version>          (type percent-encoded or verbatim)
 *   any URI ending in /versions/<version>                  (e.g. the native API's URL of the version)
 * `<version>` is a number or `latest`. Any other URI is not a pin: the latest version applies.
 */

export interface SchemaRef {
  /** null means latest */
  version: number | null;
  /** the stream and type the reference names, when it names them */
  stream?: string;
  type?: string;
}

const URN_PREFIX = 'urn:rivulet:schema:';
const TRAILING_VERSION = /\/versions\/(\d{1,9}|latest)$/;
const NATIVE_PATH = /\/streams\/([^/]+)\/schemas\/(.+)\/versions\/(?:\d{1,9}|latest)$/;

export function schemaUrn(stream: string, type: string, version: number): string {
  return `${URN_PREFIX}${stream}:${type}:${version}`;
}

/** Answers the reference, or undefined when `uri` is not one of Rivulet's forms. */
export function parseSchemaRef(uri: string): SchemaRef | undefined {
  if (uri.startsWith(URN_PREFIX)) {
    const rest = uri.slice(URN_PREFIX.length);
    const first = rest.indexOf(':');
    const last = rest.lastIndexOf(':');
    if (first <= 0 || last <= first) return undefined;
    const version = versionOf(rest.slice(last + 1));
    if (version === undefined) return undefined;
    return { version, stream: rest.slice(0, first), type: decode(rest.slice(first + 1, last)) };
  }
  const m = TRAILING_VERSION.exec(uri);
  const version = m ? versionOf(m[1]!) : undefined;
  if (version === undefined) return undefined;
  const ref: SchemaRef = { version };
  const path = NATIVE_PATH.exec(uri.split(/[?#]/)[0]!);
  if (path) {
    ref.stream = decode(path[1]!);
    ref.type = decode(path[2]!);
  }
  return ref;
}

function versionOf(text: string): number | null | undefined {
  if (text === 'latest') return null;
  if (!/^\d{1,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 ? n : undefined;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
