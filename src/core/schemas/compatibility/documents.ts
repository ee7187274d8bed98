/**
 * Schema documents: their draft, JSON Pointers into them, local `$ref` resolution, and the
 * keyword lookups everything else reads schemas through.
 */

import { asRecord } from './json.js';

/**
 * The draft a document is read in: `modern` is 2020-12 (also when `$schema` is absent, as
 * Rivulet's validator assumes), `legacy` is draft-07 and older, `unknown` anything else.
 */
export type Draft = 'legacy' | 'modern' | 'unknown';

export interface Doc {
  readonly id: number;
  readonly root: unknown;
  readonly draft: Draft;
  /** False when the document embeds resources with their own `$id`: local refs may then mean something else. */
  readonly refsResolvable: boolean;
}

/** A schema in its document, at a JSON Pointer; `omit` hides keywords already taken apart. */
export interface SchemaRef {
  readonly schema: unknown;
  readonly doc: Doc;
  readonly path: string;
  readonly omit?: ReadonlySet<string>;
}

export const SYNTHETIC_DOC: Doc = { id: 0, root: true, draft: 'unknown', refsResolvable: false };
let lastDocId = 0;

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  'id',
  '$anchor',
  '$dynamicAnchor',
  '$defs',
  'definitions',
  '$comment',
  '$vocabulary',
  'title',
  'description',
  'default',
  'examples',
  'readOnly',
  'writeOnly',
  'deprecated',
]);

export const KNOWN_KEYWORDS = new Set([
  'type',
  'enum',
  'const',
  'nullable',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'format',
  'items',
  'prefixItems',
  'additionalItems',
  'unevaluatedItems',
  'maxItems',
  'minItems',
  'uniqueItems',
  'contains',
  'minContains',
  'maxContains',
  'properties',
  'patternProperties',
  'additionalProperties',
  'unevaluatedProperties',
  'required',
  'minProperties',
  'maxProperties',
  'propertyNames',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  '$ref',
]);

/** Keywords whose meaning depends on where the document is loaded from: never equal by text. */
export const REFERENCE_KEYWORDS = new Set(['$ref', '$dynamicRef', '$recursiveRef']);

/** Keywords that make `unevaluated*` depend on subschemas next to them. */
const IN_PLACE_APPLICATORS = [
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  '$ref',
  '$dynamicRef',
  '$recursiveRef',
  'dependentSchemas',
];

export function isAnnotation(key: string): boolean {
  return ANNOTATIONS.has(key) || key.startsWith('x-');
}

export function makeDoc(root: unknown): Doc {
  const id = ++lastDocId;
  const dialect = asRecord(root)?.['$schema'];
  const text = typeof dialect === 'string' ? dialect : '';
  const draft: Draft =
    text === '' || /\/draft\/2020-12\//.test(text) ? 'modern' : /draft-0[3-7]/.test(text) ? 'legacy' : 'unknown';
  return { id, root, draft, refsResolvable: !hasEmbeddedResource(root, /draft-0[34]/.test(text)) };
}

function hasEmbeddedResource(root: unknown, oldIdKeyword: boolean): boolean {
  const stack: unknown[] = [];
  const pushChildren = (node: unknown): void => {
    if (Array.isArray(node)) stack.push(...node);
    const record = asRecord(node);
    if (!record) return;
    for (const [key, value] of Object.entries(record)) {
      // Instance data inside annotations and enums is not schema: an "$id" there means nothing.
      if (key !== 'enum' && key !== 'const' && key !== 'default' && key !== 'examples') stack.push(value);
    }
  };
  pushChildren(root);
  while (stack.length > 0) {
    const node = stack.pop();
    const record = asRecord(node);
    if (record && (typeof record['$id'] === 'string' || (oldIdKeyword && typeof record['id'] === 'string')))
      return true;
    pushChildren(node);
  }
  return false;
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function pointerTo(ref: SchemaRef, keyword: string): string {
  return keyword === '' ? ref.path : `${ref.path}/${escapePointer(keyword)}`;
}

export function keyword(ref: SchemaRef, name: string): unknown {
  if (ref.omit?.has(name)) return undefined;
  const record = asRecord(ref.schema);
  return record && Object.hasOwn(record, name) ? record[name] : undefined;
}

export function hasKeyword(ref: SchemaRef, name: string): boolean {
  const record = asRecord(ref.schema);
  return !!record && !ref.omit?.has(name) && Object.hasOwn(record, name);
}

export function ownKeys(ref: SchemaRef): string[] {
  const record = asRecord(ref.schema);
  return record ? Object.keys(record).filter((k) => !ref.omit?.has(k)) : [];
}

function member(container: unknown, segment: string | number): unknown {
  if (Array.isArray(container)) return typeof segment === 'number' ? container[segment] : undefined;
  const record = asRecord(container);
  const key = String(segment);
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

export function childRef(ref: SchemaRef, ...segments: (string | number)[]): SchemaRef {
  let schema: unknown = ref.schema;
  let path = ref.path;
  for (const segment of segments) {
    schema = member(schema, segment);
    path += `/${escapePointer(String(segment))}`;
  }
  return { schema, doc: ref.doc, path };
}

export function omitting(ref: SchemaRef, ...names: string[]): SchemaRef {
  return { ...ref, omit: new Set([...(ref.omit ?? []), ...names]) };
}

export function trueRef(doc: Doc, path: string): SchemaRef {
  return { schema: true, doc, path };
}

export function refKey(ref: SchemaRef): string {
  const omitted = ref.omit ? `!${[...ref.omit].sort().join(',')}` : '';
  return `${ref.doc.id}:${ref.path}${omitted}`;
}

const resolvedRefs = new WeakMap<Doc, Map<string, SchemaRef | undefined>>();

/** Resolves a local `$ref` ("#", "#/$defs/x", "#/definitions/x", or the root `$id` plus a pointer). */
export function resolveRef(from: SchemaRef, target: string): SchemaRef | undefined {
  const { doc } = from;
  if (!doc.refsResolvable) return undefined;
  let cache = resolvedRefs.get(doc);
  if (!cache) {
    cache = new Map();
    resolvedRefs.set(doc, cache);
  }
  if (!cache.has(target)) cache.set(target, resolveInDocument(doc, target));
  return cache.get(target);
}

function resolveInDocument(doc: Doc, target: string): SchemaRef | undefined {
  const hash = target.indexOf('#');
  const base = hash < 0 ? target : target.slice(0, hash);
  if (base !== '') {
    const rootId = asRecord(doc.root)?.['$id'];
    if (typeof rootId !== 'string' || rootId.replace(/#$/, '') !== base) return undefined;
  }
  let fragment: string;
  try {
    fragment = hash < 0 ? '' : decodeURIComponent(target.slice(hash + 1));
  } catch {
    return undefined;
  }
  if (fragment === '') return { schema: doc.root, doc, path: '' };
  if (!fragment.startsWith('/')) return undefined; // named anchors are not followed
  const segments = fragment.slice(1).split('/').map(unescapePointer);
  let node: unknown = doc.root;
  for (const segment of segments) {
    const index = Array.isArray(node) && /^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment;
    node = member(node, index);
    if (node === undefined) return undefined;
  }
  return { schema: node, doc, path: `/${segments.map(escapePointer).join('/')}` };
}

export function mentionsReference(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(mentionsReference);
  const record = asRecord(value);
  if (!record) return false;
  return Object.entries(record).some(([k, v]) => REFERENCE_KEYWORDS.has(k) || mentionsReference(v));
}

export function hasInPlaceApplicators(ref: SchemaRef): boolean {
  const record = asRecord(ref.schema);
  return !!record && IN_PLACE_APPLICATORS.some((k) => Object.hasOwn(record, k));
}

/** Only annotations (or `true`): accepts every instance. */
export function isTriviallyTrue(ref: SchemaRef): boolean {
  if (ref.schema === true) return true;
  return !!asRecord(ref.schema) && ownKeys(ref).every(isAnnotation);
}
