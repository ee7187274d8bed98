/**
 * Enforcement of schemas at ingest. It runs as an ingest check of ProduceService, so every API
 * and dialect that writes events goes through it; one failing event refuses the whole batch.
 *
 * Per stream, `options.validation`:
 *   strict  every event's type must have a schema (else UNKNOWN_EVENT_TYPE), and data must match
 *   known   (default) events of types with a schema must match; other types pass unchecked
 *   off     nothing is checked
 * An event may pin a version (see schema-ref.ts); otherwise the latest applies. The version an
 * event was validated against is kept in its envelope (`schemaVersion`).
 */
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject, JsonValue, NewEvent } from '../../kernel/envelope.js';
import type { IngestCheck } from '../events/produce.js';
import type { StreamRecord } from '../../store/port.js';
import { firstFailure } from './schema-compiler.js';
import { parseSchemaRef, type SchemaRef } from './schema-ref.js';
import type { SchemaRegistry, StreamValidators } from './schema-registry.js';

export type ValidationMode = 'strict' | 'known' | 'off';
export const VALIDATION_MODES: readonly ValidationMode[] = ['strict', 'known', 'off'];

export type EventOutcome =
  /** schemaVersion is null when the event's type has no schema (or validation is off) */
  { ok: true; schemaVersion: number | null } | { ok: false; error: RivuletError };

export function validationModeOf(stream: StreamRecord): ValidationMode {
  const mode = stream.options.validation;
  if (mode === undefined || mode === null) return 'known';
  if (typeof mode === 'string' && (VALIDATION_MODES as readonly string[]).includes(mode)) return mode as ValidationMode;
  // fail closed: a mistyped mode must not silently switch validation off
  throw new RivuletError(
    'VALIDATION_FAILED',
    `stream "${stream.name}" has options.validation ${JSON.stringify(mode)}; use strict, known or off`,
    {
      details: { stream: stream.name, pointer: '/options/validation' },
    },
  );
}

export class SchemaEnforcer {
  constructor(private readonly registry: SchemaRegistry) {}

  /** The ingest check: validates every event, sets its schemaVersion, refuses the batch on the first failure. */
  readonly ingestCheck: IngestCheck = async (stream, events) => {
    const mode = validationModeOf(stream);
    if (mode === 'off') return;
    const validators = await this.registry.validators(stream.name);
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const outcome = checkEvent(validators, stream, mode, event, i);
      if (!outcome.ok) throw outcome.error;
      if (outcome.schemaVersion !== null) event.schemaVersion = outcome.schemaVersion;
    }
  };

  /** Every event's outcome, nothing written: the dry run. */
  async checkAll(stream: StreamRecord, events: NewEvent[]): Promise<EventOutcome[]> {
    const mode = validationModeOf(stream);
    if (mode === 'off') return events.map(() => ({ ok: true, schemaVersion: null }));
    const validators = await this.registry.validators(stream.name);
    return events.map((event, i) => checkEvent(validators, stream, mode, event, i));
  }
}

/** One event's outcome; synchronous, so a batch costs one await however large it is. */
function checkEvent(
  validators: StreamValidators,
  stream: StreamRecord,
  mode: Exclude<ValidationMode, 'off'>,
  event: NewEvent,
  index: number,
): EventOutcome {
  const pin = pinOf(event);
  if (pin) {
    const wrong =
      (pin.ref.stream !== undefined && pin.ref.stream !== stream.name) ||
      (pin.ref.type !== undefined && pin.ref.type !== event.type);
    if (wrong) {
      return refuse(
        'INVALID_EVENT',
        `event ${index}: ${pin.pointer.slice(1)} names the schema of "${pin.ref.type ?? event.type}" on stream "${pin.ref.stream ?? stream.name}", not of this event's type "${event.type}" on "${stream.name}"`,
        {
          index,
          pointer: pin.pointer,
          eventType: event.type,
        },
      );
    }
  }
  let validator;
  try {
    validator = validators.get(event.type, pin?.ref.version ?? null);
  } catch (err) {
    if (err instanceof RivuletError && err.code === 'SCHEMA_NOT_FOUND') {
      return refuse(
        'INVALID_EVENT',
        `event ${index}: ${pin?.pointer.slice(1) ?? 'dataschema'} pins version ${String(pin?.ref.version)} of the schema of "${event.type}", which does not exist`,
        {
          index,
          pointer: pin?.pointer ?? '/dataschema',
          eventType: event.type,
          schemaVersion: pin?.ref.version ?? null,
        },
      );
    }
    throw err;
  }
  if (!validator) {
    if (mode === 'strict') {
      return refuse(
        'UNKNOWN_EVENT_TYPE',
        `event ${index}: type "${event.type}" has no schema on stream "${stream.name}", which accepts only types with schemas`,
        {
          index,
          pointer: '/type',
          eventType: event.type,
        },
      );
    }
    return { ok: true, schemaVersion: null };
  }
  const data = pin?.inData ? withoutSchemaMember(event.data as JsonObject) : event.data;
  const failure = firstFailure(validator.compiled, data);
  if (!failure) return { ok: true, schemaVersion: validator.version };
  const pointer = `/data${failure.pointer}`;
  return refuse(
    'SCHEMA_VIOLATION',
    `event ${index}: ${pointer} ${failure.message} (rule "${failure.rule}" of "${event.type}" schema version ${validator.version})`,
    {
      index,
      pointer,
      rule: failure.rule,
      schemaVersion: validator.version,
      eventType: event.type,
    },
  );
}

interface Pin {
  ref: SchemaRef;
  /** where the reference is, relative to the event */
  pointer: string;
  inData: boolean;
}

/** CloudEvents `dataschema` first, then a `$schema` member of object data. */
function pinOf(event: NewEvent): Pin | undefined {
  const dataschema = event.meta.dataschema;
  if (typeof dataschema === 'string') {
    const ref = parseSchemaRef(dataschema);
    if (ref) return { ref, pointer: '/dataschema', inData: false };
  }
  const data = event.data;
  if (data !== null && typeof data === 'object' && !Array.isArray(data) && typeof data.$schema === 'string') {
    const ref = parseSchemaRef(data.$schema);
    if (ref) return { ref, pointer: '/data/$schema', inData: true };
  }
  return undefined;
}

/** `$schema` names the schema; it is not part of the data the schema describes */
function withoutSchemaMember(data: JsonObject): JsonValue {
  const { $schema: _ref, ...rest } = data;
  return rest;
}

function refuse(
  code: 'INVALID_EVENT' | 'UNKNOWN_EVENT_TYPE' | 'SCHEMA_VIOLATION',
  message: string,
  details: Record<string, unknown>,
): EventOutcome {
  return { ok: false, error: new RivuletError(code, message, { details }) };
}
