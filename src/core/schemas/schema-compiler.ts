/**
 * Compiles a registered JSON Schema into a validator. The draft is chosen by `$schema`:
 * draft 2020-12 (the default when `$schema` is absent) or draft-07; anything else is refused.
 * Formats (`date-time`, `email`, `uuid`, …) are checked, via ajv-formats. Patterns run on
 * RE2, in linear time (schema-patterns.ts).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { RivuletError, isRivuletError } from '../../kernel/errors.js';
import type { JsonValue } from '../../kernel/envelope.js';
import { checkSchemaPatterns, linearRegExpEngine } from './schema-patterns.js';

export type SchemaDraft = '2020-12' | 'draft-07';

const DRAFTS: Record<string, SchemaDraft> = {
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
  'http://json-schema.org/draft-07/schema': 'draft-07',
  'https://json-schema.org/draft-07/schema': 'draft-07',
};

export interface CompiledSchema {
  draft: SchemaDraft;
  validate: ValidateFunction;
}

/** The first failure of a validation, in the terms every API reports. */
export interface SchemaFailure {
  /** JSON Pointer of the failing value inside the validated data */
  pointer: string;
  /** the JSON Schema keyword that failed, e.g. `minimum`, `required` */
  rule: string;
  message: string;
}

// Annotations and vendor keywords (`x-…`) are allowed, as JSON Schema says; `allErrors` stays
// off so a refusal costs one failed keyword, not a full scan of a large event.
const OPTIONS: Options = {
  strict: false,
  allErrors: false,
  logger: false,
  validateFormats: true,
  code: { regExp: linearRegExpEngine },
};

export function draftOf(schema: Record<string, unknown>): SchemaDraft {
  const declared = schema.$schema;
  if (declared === undefined) return '2020-12';
  if (typeof declared !== 'string')
    throw invalid('"$schema" must be a string naming draft 2020-12 or draft-07', '/$schema');
  const draft = DRAFTS[declared.replace(/#$/, '')];
  if (!draft) {
    throw invalid(
      `"$schema" ${JSON.stringify(declared)} is not supported: use https://json-schema.org/draft/2020-12/schema or http://json-schema.org/draft-07/schema#`,
      '/$schema',
    );
  }
  return draft;
}

/** Compiles `schema`, or fails with SCHEMA_INVALID naming what is wrong with it. */
export function compileSchema(schema: unknown): CompiledSchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw invalid('a schema must be a JSON object', '');
  }
  const draft = draftOf(schema as Record<string, unknown>);
  checkSchemaPatterns(schema);
  // A fresh Ajv per schema: registered schemas may share an `$id` (versions of one type do),
  // which a shared instance refuses, and nothing is left behind in a long-lived cache.
  const ajv = draft === '2020-12' ? new Ajv2020(OPTIONS) : new Ajv(OPTIONS);
  addFormats.default(ajv);
  try {
    return { draft, validate: ajv.compile(schema as Record<string, unknown>) };
  } catch (err) {
    // a pattern the walk above could not see (none known) still comes back as what it is
    if (isRivuletError(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new RivuletError('SCHEMA_INVALID', `not a valid JSON Schema (${draft}): ${message}`, { details: { draft } });
  }
}

/** Validates `data`; answers null when it matches, else the first failure. */
export function firstFailure(compiled: CompiledSchema, data: JsonValue): SchemaFailure | null {
  if (compiled.validate(data)) return null;
  const error = compiled.validate.errors?.[0];
  if (!error) return { pointer: '', rule: 'schema', message: 'does not match the schema' };
  return failureOf(error);
}

function failureOf(error: ErrorObject): SchemaFailure {
  // point at the field itself, not its parent, when a property is missing or not allowed
  let pointer = error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string')
    pointer += `/${escapePointer(params.missingProperty)}`;
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string')
    pointer += `/${escapePointer(params.additionalProperty)}`;
  if (error.keyword === 'unevaluatedProperties' && typeof params.unevaluatedProperty === 'string')
    pointer += `/${escapePointer(params.unevaluatedProperty)}`;
  return { pointer, rule: error.keyword, message: error.message ?? 'is invalid' };
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function invalid(message: string, pointer: string): RivuletError {
  return new RivuletError('SCHEMA_INVALID', message, { details: { pointer } });
}
