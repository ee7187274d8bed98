/**
 * The Flow-Spec of the datahub planner (seed 003: "a valid spec in JSON form"), as spec
 * sections the core keeps as uploaded:
 *
 *   inputs:     [{kind: "datapackage", url, parameters}]   where the data comes from
 *   processing: [{…}, …]                                    the planner's processing steps
 *   outputs:    [{kind: "csv"}, {kind: "zip", parameters}]  what is made of it
 *
 * Rivulet runs none of it: each output is one external pipeline, titled as the seed's revision
 * shows ("Creating CSV", "Creating JSON", "Creating ZIP"), whose runner reports on it through
 * `POST /source/update`. Inputs and processing steps are checked for shape and kept. The Flow-
 * Spec's `meta` fields (`ownerid`, `version`, `findability`, …) sit beside the core's `owner`
 * and `dataset` and are kept too.
 */
import type { JsonObject, JsonValue } from '../../kernel/envelope.js';
import { REDACTED } from '../../kernel/secret-names.js';
import { isPlainObject, onlyFields, specInvalid } from '../../core/specs/spec-invalid.js';
import type { SectionPipeline, SpecSection } from '../../core/specs/spec-section.js';

/** a kind of input or output: `datapackage`, `csv`, `zip`, … */
const KIND = /^[A-Za-z][A-Za-z0-9_-]{0,49}$/;
const MAX_ENTRIES = 100;

function list(value: unknown, section: string, noun: string): unknown[] {
  if (!Array.isArray(value)) throw specInvalid(`"${section}" is a list of ${noun}s`, `/${section}`);
  if (value.length > MAX_ENTRIES)
    throw specInvalid(`"${section}" holds at most ${MAX_ENTRIES} ${noun}s`, `/${section}`);
  return value;
}

function entryWithKind(entry: unknown, pointer: string, noun: string, fields: readonly string[]): { kind: string } {
  if (!isPlainObject(entry)) throw specInvalid(`an ${noun} is an object with "kind"`, pointer);
  onlyFields(entry, fields, pointer);
  if (typeof entry.kind !== 'string' || !KIND.test(entry.kind))
    throw specInvalid(
      '"kind" is 1–50 letters, digits, "_" or "-", starting with a letter (e.g. "csv")',
      `${pointer}/kind`,
    );
  if (entry.parameters !== undefined && entry.parameters !== null && !isPlainObject(entry.parameters))
    throw specInvalid('"parameters" is an object', `${pointer}/parameters`);
  return { kind: entry.kind };
}

const inputs: SpecSection = {
  section: 'inputs',
  pipelines(value) {
    list(value, 'inputs', 'input').forEach((entry, i) => {
      const pointer = `/inputs/${i}`;
      entryWithKind(entry, pointer, 'input', ['kind', 'url', 'parameters']);
      const url = (entry as Record<string, unknown>).url;
      if (url !== undefined && (typeof url !== 'string' || url.length === 0 || url.length > 2000))
        throw specInvalid('"url" is a string of 1–2000 characters', `${pointer}/url`);
    });
    return [];
  },
  // an input's URL may carry a password (https://user:pass@host/…): answered redacted
  shown(value) {
    if (!Array.isArray(value)) return value;
    return value.map((entry) =>
      isPlainObject(entry) && typeof entry.url === 'string'
        ? { ...(entry as JsonObject), url: withoutPassword(entry.url) }
        : entry,
    );
  },
};

const processing: SpecSection = {
  section: 'processing',
  pipelines(value) {
    list(value, 'processing', 'step').forEach((entry, i) => {
      if (!isPlainObject(entry)) throw specInvalid('a processing step is an object', `/processing/${i}`);
    });
    return [];
  },
};

const outputs: SpecSection = {
  section: 'outputs',
  pipelines(value) {
    const out: SectionPipeline[] = [];
    const used = new Set<string>();
    list(value, 'outputs', 'output').forEach((entry, i) => {
      const { kind } = entryWithKind(entry, `/outputs/${i}`, 'output', ['kind', 'parameters']);
      const lower = kind.toLowerCase();
      // a second output of one kind (two zips with other parameters) gets a numbered key
      let key = lower;
      for (let n = 2; used.has(key); n++) key = `${lower}-${n}`;
      used.add(key);
      out.push({ key, title: `Creating ${kind.toUpperCase()}` });
    });
    return out;
  },
};

/** The Flow-Spec's sections, for the spec service (`CoreOptions.specSections`). */
export const FLOW_SPEC_SECTIONS: readonly SpecSection[] = [inputs, processing, outputs];

function withoutPassword(url: string): JsonValue {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    return `${parsed.protocol}//${parsed.username}:${REDACTED}@${parsed.host}${parsed.pathname}${parsed.search}${parsed.hash}`;
  } catch {
    return url;
  }
}
