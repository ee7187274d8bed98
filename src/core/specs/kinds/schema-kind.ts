/**
 * `schemas:` in a spec: the JSON Schema of one event type on one stream. The registry keeps
 * versions: a changed schema registers the next version (checked under the type's
 * compatibility mode, so an incompatible change fails its pipeline with the registry's
 * report); deleting one tombstones every version of the type.
 */
import { RivuletError } from '../../../kernel/errors.js';
import type { JsonObject } from '../../../kernel/envelope.js';
import { FIELD_LIMITS } from '../../events/event-fields.js';
import { COMPATIBILITY_MODES, isCompatibilityMode, type CompatibilityMode } from '../../schemas/compatibility.js';
import { compileSchema } from '../../schemas/schema-compiler.js';
import { assertStreamName } from '../../streams/stream-name.js';
import { canonicalJson } from '../canonical-json.js';
import type { ApplyOutcome, Diff, KindContext, SpecResourceKind } from '../resource-kind.js';
import type { FieldChange } from '../revision-model.js';
import { isPlainObject, onlyFields, specInvalid } from '../spec-invalid.js';

// a line of its own, so the lint exception stays on it however the code around it is laid out
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export interface SchemaSpec extends JsonObject {
  stream: string;
  type: string;
  schema: JsonObject;
  /** when given, the type's own compatibility mode */
  compatibility: CompatibilityMode | null;
}

export interface CurrentSchema {
  version: number;
  schema: JsonObject;
  compatibility: CompatibilityMode;
}

const FIELDS = ['stream', 'type', 'schema', 'compatibility'] as const;

/** keys are `<stream>/<type>`; stream names hold no `/`, so the first one splits them */
function split(key: string): { stream: string; type: string } {
  const slash = key.indexOf('/');
  return { stream: key.slice(0, slash), type: key.slice(slash + 1) };
}

function parse(entry: unknown, pointer: string): SchemaSpec {
  if (!isPlainObject(entry)) throw specInvalid('a schema is an object with "stream", "type" and "schema"', pointer);
  onlyFields(entry, FIELDS, pointer);
  if (typeof entry.stream !== 'string') throw specInvalid('"stream" is required and is a string', `${pointer}/stream`);
  try {
    assertStreamName(entry.stream);
  } catch (err) {
    if (err instanceof RivuletError) throw specInvalid(err.message, `${pointer}/stream`);
    throw err;
  }
  if (
    typeof entry.type !== 'string' ||
    entry.type.length === 0 ||
    entry.type.length > FIELD_LIMITS.type ||
    CONTROL_CHARACTERS.test(entry.type)
  ) {
    throw specInvalid(
      `"type" is an event type of 1–${FIELD_LIMITS.type} characters without control characters`,
      `${pointer}/type`,
    );
  }
  if (!isPlainObject(entry.schema))
    throw specInvalid('"schema" is required and is a JSON Schema object', `${pointer}/schema`);
  try {
    compileSchema(entry.schema);
  } catch (err) {
    // the failing keyword's pointer inside the schema, when the compiler names one
    const inner = err instanceof RivuletError && typeof err.details?.pointer === 'string' ? err.details.pointer : '';
    if (err instanceof RivuletError) throw specInvalid(err.message, `${pointer}/schema${inner}`);
    throw err;
  }
  const compatibility = entry.compatibility ?? null;
  if (compatibility !== null && !isCompatibilityMode(compatibility)) {
    throw specInvalid(`"compatibility" is one of ${COMPATIBILITY_MODES.join(', ')}`, `${pointer}/compatibility`);
  }
  return { stream: entry.stream, type: entry.type, schema: entry.schema as JsonObject, compatibility };
}

async function read(key: string, ctx: KindContext): Promise<CurrentSchema | null> {
  const { stream, type } = split(key);
  try {
    const summary = (await ctx.schemas.listTypes(stream)).find((t) => t.type === type);
    if (!summary) return null;
    const latest = await ctx.schemas.get(stream, type, 'latest');
    return { version: latest.version, schema: latest.schema, compatibility: summary.compatibility };
  } catch (err) {
    if (err instanceof RivuletError && (err.code === 'STREAM_NOT_FOUND' || err.code === 'SCHEMA_NOT_FOUND'))
      return null;
    throw err;
  }
}

function diff(desired: SchemaSpec | null, current: CurrentSchema | null): Diff {
  if (!desired)
    return current
      ? { action: 'delete', changes: [{ path: '', from: `version ${current.version}` }] }
      : { action: 'unchanged', changes: [] };
  if (!current) {
    const changes: FieldChange[] = [{ path: '/schema', to: desired.schema }];
    if (desired.compatibility) changes.push({ path: '/compatibility', to: desired.compatibility });
    return { action: 'create', changes };
  }
  const changes: FieldChange[] = [];
  if (canonicalJson(desired.schema) !== canonicalJson(current.schema))
    changes.push({ path: '/schema', from: current.schema, to: desired.schema });
  if (desired.compatibility && desired.compatibility !== current.compatibility)
    changes.push({ path: '/compatibility', from: current.compatibility, to: desired.compatibility });
  return { action: changes.length > 0 ? 'update' : 'unchanged', changes };
}

async function apply(desired: SchemaSpec, _current: CurrentSchema | null, ctx: KindContext): Promise<ApplyOutcome> {
  const { schema, created, mode } = await ctx.schemas.register(
    desired.stream,
    desired.type,
    desired.schema,
    desired.compatibility ? { compatibility: desired.compatibility } : {},
  );
  const what = created ? `registered version ${schema.version}` : `version ${schema.version} already as declared`;
  return {
    log: [`schema "${desired.type}" on stream "${desired.stream}": ${what} (${mode})`],
    stats: { version: schema.version },
  };
}

async function remove(key: string, current: CurrentSchema | null, ctx: KindContext): Promise<ApplyOutcome> {
  const { stream, type } = split(key);
  if (!current) return { log: [`schema "${type}" on stream "${stream}" already gone`] };
  const { versions } = await ctx.schemas.listVersions(stream, type);
  for (const v of versions) await ctx.schemas.delete(stream, type, v.version);
  await ctx.schemas.setCompatibility(stream, type, null);
  return {
    log: [`deleted schema "${type}" on stream "${stream}" (versions ${versions.map((v) => v.version).join(', ')})`],
  };
}

export const schemaKind: SpecResourceKind<SchemaSpec, CurrentSchema> = {
  section: 'schemas',
  noun: 'schema',
  parse,
  key: (d) => `${d.stream}/${d.type}`,
  read,
  diff,
  apply,
  delete: remove,
  dependencies: (key) => [{ kind: 'streams', key: split(key).stream }],
  streamsOf: (key) => [split(key).stream],
};
