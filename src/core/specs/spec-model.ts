/**
 * The spec document: `meta` (owner, dataset, optional schedule), one section per resource
 * kind, `external` pipelines (work done outside Rivulet that a runner reports on), and the
 * sections dialects add (`spec-section.ts`), kept as uploaded, whose pipelines are external too.
 *
 *   meta: { owner: acme, dataset: shop, schedule: every 1d }
 *   streams: [ { name: orders, retention: { maxAgeMs: 604800000 } } ]
 *   schemas: [ { stream: orders, type: order.created, schema: { type: object } } ]
 *   external: [ { id: export-csv, title: Creating CSV, dependencies: [streams/orders] } ]
 *
 * Parsing checks everything that can be checked without looking at the store, so a spec that
 * is stored as a revision holds together; what the store says is the planner's business.
 */
import type { JsonObject } from '../../kernel/envelope.js';
import type { ResourceRef, SpecResourceKind } from './resource-kind.js';
import type { SpecSection } from './spec-section.js';
import { isPlainObject, onlyFields, specInvalid } from './spec-invalid.js';
import { specHash } from './canonical-json.js';

/** owners and datasets are path segments of every API */
export const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.~-]{0,99}$/;
export const EXTERNAL_SECTION = 'external';

export interface SpecMeta {
  owner: string;
  dataset: string;
  /** `every <n><s|m|h|d|w>` as written, and its period */
  schedule: string | null;
  scheduleSeconds: number | null;
}

export interface DesiredResource {
  kind: SpecResourceKind;
  key: string;
  desired: JsonObject;
  pointer: string;
}

export interface ExternalPipeline {
  /** the section that declares it: `external`, or a kept section's (`outputs`) */
  section: string;
  id: string;
  title: string;
  /** refs: `streams/orders`, `schemas/orders/order.created`, `external/<id>` */
  dependencies: ResourceRef[];
}

export interface ParsedSpec {
  meta: SpecMeta;
  resources: DesiredResource[];
  external: ExternalPipeline[];
  /** the document as uploaded */
  contents: JsonObject;
  hash: string;
}

export function parseSpec(
  contents: unknown,
  kinds: readonly SpecResourceKind[],
  kept: readonly SpecSection[] = [],
): ParsedSpec {
  if (!isPlainObject(contents)) throw specInvalid('a spec is an object with "meta" and resource sections', '');
  const sections = kinds.map((k) => k.section);
  onlyFields(contents, ['meta', ...sections, EXTERNAL_SECTION, ...kept.map((k) => k.section)], '');
  const meta = parseMeta(contents.meta);
  const resources: DesiredResource[] = [];
  for (const kind of kinds) {
    const entries = contents[kind.section];
    if (entries === undefined || entries === null) continue;
    if (!Array.isArray(entries)) throw specInvalid(`"${kind.section}" is a list`, `/${kind.section}`);
    const seen = new Map<string, number>();
    entries.forEach((entry, i) => {
      const pointer = `/${kind.section}/${i}`;
      const desired = kind.parse(entry, pointer);
      const key = kind.key(desired);
      const earlier = seen.get(key);
      if (earlier !== undefined)
        throw specInvalid(`${kind.noun} "${key}" is declared twice (also at /${kind.section}/${earlier})`, pointer);
      seen.set(key, i);
      resources.push({ kind, key, desired, pointer });
    });
  }
  const external = parseExternal(contents[EXTERNAL_SECTION], resources);
  for (const k of kept) {
    const value = contents[k.section];
    if (value === undefined || value === null) continue;
    for (const p of k.pipelines(value))
      external.push({ section: k.section, id: p.key, title: p.title, dependencies: [] });
  }
  return { meta, resources, external, contents: contents as JsonObject, hash: specHash(contents) };
}

function parseMeta(meta: unknown): SpecMeta {
  if (meta === undefined || meta === null)
    throw specInvalid('"meta" with "owner" and "dataset" is required', '/meta/owner', { missing: 'owner' });
  if (!isPlainObject(meta)) throw specInvalid('"meta" is an object', '/meta');
  if (meta.owner === undefined || meta.owner === null || meta.owner === '')
    throw specInvalid('"meta.owner" is required', '/meta/owner', { missing: 'owner' });
  if (typeof meta.owner !== 'string' || !NAME.test(meta.owner))
    throw specInvalid('"meta.owner" is 1–100 letters, digits, "_", "-", "." or "~"', '/meta/owner');
  if (typeof meta.dataset !== 'string' || !NAME.test(meta.dataset))
    throw specInvalid('"meta.dataset" is required: 1–100 letters, digits, "_", "-", "." or "~"', '/meta/dataset');
  const { schedule, seconds } = parseSchedule(meta.schedule);
  return { owner: meta.owner, dataset: meta.dataset, schedule, scheduleSeconds: seconds };
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 7 * 86_400 };

/** `every 15m`; the messages are the ones specstore users know */
function parseSchedule(value: unknown): { schedule: string | null; seconds: number | null } {
  if (value === undefined || value === null) return { schedule: null, seconds: null };
  const pointer = '/meta/schedule';
  if (typeof value !== 'string') throw specInvalid('Schedule should be a string', pointer);
  const text = value.trim();
  if (!text.startsWith('every ')) throw specInvalid("Schedule should start with 'every'", pointer);
  const amount = text.slice('every '.length);
  const multiplier = UNIT_SECONDS[amount.slice(-1)];
  if (multiplier === undefined) throw specInvalid('Bad time unit for schedule, only s/m/h/d/w are allowed', pointer);
  if (!/^\d{1,9}$/.test(amount.slice(0, -1))) throw specInvalid('Failed to parse time number', pointer);
  const seconds = Number(amount.slice(0, -1)) * multiplier;
  if (seconds < 60) throw specInvalid("Can't schedule tasks for less than one minute", pointer);
  return { schedule: text, seconds };
}

export function parseRef(text: unknown, pointer: string): ResourceRef {
  if (typeof text !== 'string')
    throw specInvalid('a dependency is written "<section>/<key>", e.g. "streams/orders"', pointer);
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1)
    throw specInvalid(`"${text}" is not a dependency: write "<section>/<key>", e.g. "streams/orders"`, pointer);
  return { kind: text.slice(0, slash), key: text.slice(slash + 1) };
}

function parseExternal(value: unknown, resources: DesiredResource[]): ExternalPipeline[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw specInvalid(`"${EXTERNAL_SECTION}" is a list`, `/${EXTERNAL_SECTION}`);
  const declared = new Set(resources.map((r) => `${r.kind.section}/${r.key}`));
  const out: ExternalPipeline[] = [];
  value.forEach((entry, i) => {
    const pointer = `/${EXTERNAL_SECTION}/${i}`;
    if (!isPlainObject(entry)) throw specInvalid('an external pipeline is an object with "id" and "title"', pointer);
    onlyFields(entry, ['id', 'title', 'dependencies'], pointer);
    if (typeof entry.id !== 'string' || !NAME.test(entry.id))
      throw specInvalid('"id" is 1–100 letters, digits, "_", "-", "." or "~"', `${pointer}/id`);
    if (out.some((p) => p.id === entry.id))
      throw specInvalid(`external pipeline "${entry.id}" is declared twice`, `${pointer}/id`);
    if (entry.title !== undefined && (typeof entry.title !== 'string' || entry.title.length > 200))
      throw specInvalid('"title" is a string of at most 200 characters', `${pointer}/title`);
    const deps = entry.dependencies ?? [];
    if (!Array.isArray(deps)) throw specInvalid('"dependencies" is a list', `${pointer}/dependencies`);
    const dependencies = deps.map((d, j) => {
      const at = `${pointer}/dependencies/${j}`;
      const ref = parseRef(d, at);
      // only earlier external pipelines: dependencies can never form a cycle
      const known =
        ref.kind === EXTERNAL_SECTION ? out.some((p) => p.id === ref.key) : declared.has(`${ref.kind}/${ref.key}`);
      if (!known)
        throw specInvalid(
          `"${String(d)}" is not declared ${ref.kind === EXTERNAL_SECTION ? 'earlier in this list' : 'in this spec'}`,
          at,
        );
      return ref;
    });
    out.push({
      section: EXTERNAL_SECTION,
      id: entry.id,
      title: (entry.title as string | undefined) ?? entry.id,
      dependencies,
    });
  });
  return out;
}
