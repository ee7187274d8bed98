/**
 * Schema compatibility, judged by accepted data.
 *
 * A new schema version is compared with earlier ones by the set of instances each accepts,
 * never by its text. BACKWARD holds when every instance valid under the previous version is
 * valid under the new one; FORWARD when every instance valid under the new one is valid under
 * the previous one (Confluent Schema Registry's meanings); FULL is both, and the *_TRANSITIVE
 * forms check every earlier version rather than only the latest.
 *
 * Everything rests on one question: is every instance of `sub` valid under `sup`? It is
 * answered by walking both schemas keyword by keyword. The walk is sound: it only answers
 * "yes" with a proof, and every step it cannot prove (two different regular expressions,
 * exclusive `oneOf`, unknown keywords, remote `$ref`s) becomes a reported problem saying why.
 * `docs/schemas-compatibility.md` lists the rules.
 */

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export type JsonSchema = boolean | Record<string, unknown>;

export type CompatibilityMode =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = Object.freeze([
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const);

export interface Incompatibility {
  direction: 'backward' | 'forward';
  againstVersion: number;
  /** JSON Pointer into the candidate schema where the problem is, e.g. "/properties/price/maximum". */
  pointer: string;
  /** Short stable id, e.g. 'required-added', 'enum-narrowed', 'unprovable'. */
  rule: string;
  /** One human sentence. */
  message: string;
}

export interface CompatibilityReport {
  compatible: boolean;
  mode: CompatibilityMode;
  incompatibilities: Incompatibility[];
}

export interface SchemaProblem {
  /** JSON Pointer into `sup`. */
  pointer: string;
  rule: string;
  message: string;
}

export interface SchemaVersion {
  version: number;
  schema: JsonSchema;
}

export function isCompatibilityMode(value: unknown): value is CompatibilityMode {
  return typeof value === 'string' && (COMPATIBILITY_MODES as readonly string[]).includes(value);
}

/**
 * Checks `candidate` against earlier versions (`previous`, oldest first) under `mode`.
 * Backward problems point into the candidate where it refuses older data; forward problems
 * point into the candidate where it accepts data older readers refuse.
 */
export function checkCompatibility(
  candidate: JsonSchema,
  previous: readonly SchemaVersion[],
  mode: CompatibilityMode,
): CompatibilityReport {
  const { backward, forward, transitive } = modeParts(mode);
  const against = transitive ? previous : previous.slice(-1);
  const incompatibilities: Incompatibility[] = [];
  for (const prior of against) {
    if (backward) {
      for (const finding of analyse(prior.schema, candidate)) {
        incompatibilities.push(asIncompatibility(finding, 'backward', prior.version));
      }
    }
    if (forward) {
      for (const finding of analyse(candidate, prior.schema)) {
        incompatibilities.push(asIncompatibility(finding, 'forward', prior.version));
      }
    }
  }
  return { compatible: incompatibilities.length === 0, mode, incompatibilities };
}

/**
 * Does every instance valid under `sub` also validate under `sup`? Returns the reasons it
 * could not be proven; an empty list is a proof. Messages read `sub` as the earlier schema
 * and `sup` as the later one.
 */
export function subschemaProblems(sub: JsonSchema, sup: JsonSchema): SchemaProblem[] {
  return analyse(sub, sup).map((finding) => ({
    pointer: finding.supPtr,
    rule: finding.rule,
    message: render(finding, 'narrow', 'valid before, is now refused'),
  }));
}

/** One line for logs and error details: "backward vs v2 at /properties/price: ...". */
export function describeIncompatibility(incompatibility: Incompatibility): string {
  const where = incompatibility.pointer === '' ? '(root)' : incompatibility.pointer;
  return `${incompatibility.direction} vs v${incompatibility.againstVersion} at ${where}: ${incompatibility.message}`;
}

/** A short multi-line summary of a report, for CLI output and error details. */
export function describeReport(report: CompatibilityReport): string {
  if (report.compatible) return `compatible under ${report.mode}`;
  const count = report.incompatibilities.length;
  const lines = report.incompatibilities.map((i) => `- ${describeIncompatibility(i)}`);
  return [`incompatible under ${report.mode} (${count} problem${count === 1 ? '' : 's'}):`, ...lines].join('\n');
}

function modeParts(mode: CompatibilityMode): { backward: boolean; forward: boolean; transitive: boolean } {
  switch (mode) {
    case 'NONE':
      return { backward: false, forward: false, transitive: false };
    case 'BACKWARD':
      return { backward: true, forward: false, transitive: false };
    case 'BACKWARD_TRANSITIVE':
      return { backward: true, forward: false, transitive: true };
    case 'FORWARD':
      return { backward: false, forward: true, transitive: false };
    case 'FORWARD_TRANSITIVE':
      return { backward: false, forward: true, transitive: true };
    case 'FULL':
      return { backward: true, forward: true, transitive: false };
    case 'FULL_TRANSITIVE':
      return { backward: true, forward: true, transitive: true };
    default:
      throw new RangeError(`unknown compatibility mode: ${String(mode)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Findings and their sentences
// ---------------------------------------------------------------------------------------------

/** Text for both readings of a finding: `narrow` when sup is the later schema, `widen` when sub is. */
interface Phrase {
  readonly narrow: string;
  readonly widen: string;
}

interface Finding {
  /** Pointer into sub and into sup. */
  readonly subPtr: string;
  readonly supPtr: string;
  /** Named as the change from sub to sup (narrowing) ... */
  readonly rule: string;
  /** ... and as the change from sup to sub (widening). */
  readonly inverse: string;
  readonly subject: string;
  readonly change?: Phrase;
  /** The data that crosses the line, e.g. "data without it". */
  readonly witness?: string;
  /** Why no proof was found, when the checker is not sure data is lost. */
  readonly unproven?: Phrase;
}

interface Pointers {
  readonly sub: string;
  readonly sup: string;
}

function render(finding: Finding, voice: keyof Phrase, outcome: string): string {
  const rule = voice === 'narrow' ? finding.rule : finding.inverse;
  if (!finding.change) return `${finding.subject}: ${finding.unproven?.[voice] ?? 'cannot prove compatibility'} (${rule})`;
  const head = `${finding.subject} ${finding.change[voice]} (${rule})`;
  if (finding.unproven) return `${head} — ${finding.unproven[voice]}`;
  return `${head} — ${finding.witness ?? 'some data'}, ${outcome}`;
}

function asIncompatibility(finding: Finding, direction: 'backward' | 'forward', version: number): Incompatibility {
  if (direction === 'backward') {
    return {
      direction,
      againstVersion: version,
      pointer: finding.supPtr,
      rule: finding.rule,
      message: render(finding, 'narrow', `valid under version ${version}, is now refused`),
    };
  }
  return {
    direction,
    againstVersion: version,
    pointer: finding.subPtr,
    rule: finding.inverse,
    message: render(finding, 'widen', `now accepted, is refused by readers of version ${version}`),
  };
}

function samePhrase(text: string): Phrase {
  return { narrow: text, widen: text };
}

/** A reason naming both schemas: `sub` is the earlier one when narrowing, the new one when widening. */
function unprovenPhrase(describe: (sub: string, sup: string) => string): Phrase {
  return { narrow: describe('earlier', 'new'), widen: describe('new', 'earlier') };
}

type DataSeg =
  | { readonly kind: 'property'; readonly name: string }
  | { readonly kind: 'item'; readonly index: number | undefined }
  | { readonly kind: 'other' }
  | { readonly kind: 'name' };

function displayData(data: readonly DataSeg[]): string {
  let out = '';
  for (const seg of data) {
    if (seg.kind === 'property') out += out === '' ? seg.name : `/${seg.name}`;
    else if (seg.kind === 'item') out += `[${seg.index ?? ''}]`;
    else if (seg.kind === 'other') out += out === '' ? '*' : '/*';
    else out += '{name}';
  }
  return out;
}

function subjectOf(data: readonly DataSeg[]): string {
  const last = data.at(-1);
  if (!last) return 'the data';
  return last.kind === 'property' ? `property "${displayData(data)}"` : `"${displayData(data)}"`;
}

/** "data where "price" is null", or "data that is null" at the root. */
function where(data: readonly DataSeg[], predicate: string): string {
  return data.length === 0 ? `data that ${predicate}` : `data where "${displayData(data)}" ${predicate}`;
}

function withProperty(data: readonly DataSeg[], name: string): readonly DataSeg[] {
  return [...data, { kind: 'property', name }];
}

function report(ctx: Ctx, at: Pointers, finding: Omit<Finding, 'subPtr' | 'supPtr' | 'subject'> & { subject?: string }): void {
  ctx.findings.push({ ...finding, subject: finding.subject ?? subjectOf(ctx.data), subPtr: at.sub, supPtr: at.sup });
}

function reportUnproven(ctx: Ctx, at: Pointers, reason: Phrase): void {
  report(ctx, at, { rule: 'unprovable', inverse: 'unprovable', unproven: reason });
}

function plural(count: number, word: string, words = `${word}s`): string {
  return `${count} ${count === 1 ? word : words}`;
}

function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = [f.subPtr, f.supPtr, f.rule, render(f, 'narrow', ''), render(f, 'widen', '')].join('\u0000');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// JSON values, types and numbers
// ---------------------------------------------------------------------------------------------

// Type atoms as bits; "number" is integer | fraction, so integer ⊂ number falls out of set logic.
const NULL = 1;
const BOOLEAN = 2;
const OBJECT = 4;
const ARRAY = 8;
const STRING = 16;
const INTEGER = 32;
const FRACTION = 64;
const NUMBER = INTEGER | FRACTION;
const ALL_TYPES = NULL | BOOLEAN | OBJECT | ARRAY | STRING | NUMBER;
const TYPE_GROUPS = [NULL, BOOLEAN, OBJECT, ARRAY, STRING, NUMBER] as const;

const TYPE_BITS: Readonly<Record<string, number>> = {
  null: NULL,
  boolean: BOOLEAN,
  object: OBJECT,
  array: ARRAY,
  string: STRING,
  integer: INTEGER,
  number: NUMBER,
};

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function typeOfValue(value: unknown): number {
  if (value === null) return NULL;
  switch (typeof value) {
    case 'boolean':
      return BOOLEAN;
    case 'string':
      return STRING;
    case 'number':
      return Number.isInteger(value) ? INTEGER : Number.isFinite(value) ? FRACTION : 0;
    case 'object':
      return Array.isArray(value) ? ARRAY : OBJECT;
    default:
      return 0;
  }
}

function parseTypes(declared: unknown): number | undefined {
  const names = typeof declared === 'string' ? [declared] : Array.isArray(declared) ? declared : undefined;
  if (!names) return undefined;
  let mask = 0;
  for (const name of names) {
    const bit = typeof name === 'string' && Object.hasOwn(TYPE_BITS, name) ? TYPE_BITS[name] : undefined;
    if (bit === undefined) return undefined;
    mask |= bit;
  }
  return mask;
}

/** Names and nouns for a set of types, e.g. ["null"] / ["null"], ["integer"] / ["an integer"]. */
function typeWords(mask: number): { names: string[]; nouns: string[] } {
  const names: string[] = [];
  const nouns: string[] = [];
  const add = (name: string, noun: string): void => {
    names.push(name);
    nouns.push(noun);
  };
  if (mask & NULL) add('null', 'null');
  if (mask & BOOLEAN) add('boolean', 'a boolean');
  if (mask & OBJECT) add('object', 'an object');
  if (mask & ARRAY) add('array', 'an array');
  if (mask & STRING) add('string', 'a string');
  if ((mask & NUMBER) === NUMBER) add('number', 'a number');
  else if (mask & INTEGER) add('integer', 'an integer');
  else if (mask & FRACTION) add('non-integer number', 'a non-integer number');
  return { names, nouns };
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ra = asRecord(a);
  const rb = asRecord(b);
  if (!ra || !rb) return false;
  const keys = Object.keys(ra);
  return keys.length === Object.keys(rb).length && keys.every((k) => Object.hasOwn(rb, k) && jsonEqual(ra[k], rb[k]));
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/**
 * `multipleOf` as Ajv checks it: in floating point, `x / m` must print as an integer. This is
 * not the arithmetic of exact decimals: it refuses 0.35 under 0.001 though it accepts it under
 * 0.01, lets tiny subnormal numbers pass any divisor above 1, and refuses every value whose
 * quotient reaches 1e21 (which prints in exponent form).
 */
function passesMultipleOf(value: number, divisor: number): boolean {
  const quotient = value / divisor;
  return quotient === Number.parseInt(String(quotient), 10);
}

/**
 * Work allowed for one analysis. Every costly step (a comparison, an evaluation, an expansion,
 * a disjointness test) spends from it; once it is spent each of them gives its conservative
 * answer at once, so a hostile schema cannot hold the server. Analyses are synchronous, so
 * one budget at a time is enough.
 */
const WORK_LIMIT = 25_000;
let work = { remaining: Number.POSITIVE_INFINITY };

function spend(): boolean {
  return --work.remaining >= 0;
}

function withWorkBudget<T>(run: () => T): T {
  const outer = work;
  work = { remaining: WORK_LIMIT };
  try {
    return run();
  } finally {
    work = outer;
  }
}

const PATTERN_CACHE_LIMIT = 500;
const patternCache = new Map<string, RegExp | null>();

/** Compiles a JSON Schema pattern the way Ajv does (ECMA-262 with the `u` flag). */
function compilePattern(source: string): RegExp | undefined {
  let compiled = patternCache.get(source);
  if (compiled === undefined) {
    try {
      compiled = new RegExp(source, 'u');
    } catch {
      compiled = null;
    }
    if (patternCache.size >= PATTERN_CACHE_LIMIT) patternCache.clear();
    patternCache.set(source, compiled);
  }
  return compiled ?? undefined;
}

/** Patterns that every string matches (an unanchored search always finds them). */
const UNIVERSAL_PATTERNS = new Set(['', '.*', '^.*', '[\\s\\S]*', '^[\\s\\S]*$']);

// ---------------------------------------------------------------------------------------------
// Documents, references and keywords
// ---------------------------------------------------------------------------------------------

/**
 * The draft a document is read in: `modern` is 2020-12 (also when `$schema` is absent, as
 * Rivulet's validator assumes), `legacy` is draft-07 and older, `unknown` anything else.
 */
type Draft = 'legacy' | 'modern' | 'unknown';

interface Doc {
  readonly id: number;
  readonly root: unknown;
  readonly draft: Draft;
  /** False when the document embeds resources with their own `$id`: local refs may then mean something else. */
  readonly refsResolvable: boolean;
}

/** A schema in its document, at a JSON Pointer; `omit` hides keywords already taken apart. */
interface SchemaRef {
  readonly schema: unknown;
  readonly doc: Doc;
  readonly path: string;
  readonly omit?: ReadonlySet<string>;
}

const SYNTHETIC_DOC: Doc = { id: 0, root: true, draft: 'unknown', refsResolvable: false };
let lastDocId = 0;

const ANNOTATIONS = new Set([
  '$schema', '$id', 'id', '$anchor', '$dynamicAnchor', '$defs', 'definitions', '$comment', '$vocabulary',
  'title', 'description', 'default', 'examples', 'readOnly', 'writeOnly', 'deprecated',
]);

const KNOWN_KEYWORDS = new Set([
  'type', 'enum', 'const', 'nullable',
  'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'format',
  'items', 'prefixItems', 'additionalItems', 'unevaluatedItems', 'maxItems', 'minItems', 'uniqueItems',
  'contains', 'minContains', 'maxContains',
  'properties', 'patternProperties', 'additionalProperties', 'unevaluatedProperties', 'required',
  'minProperties', 'maxProperties', 'propertyNames', 'dependentRequired', 'dependentSchemas', 'dependencies',
  'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', '$ref',
]);

/** Keywords whose meaning depends on where the document is loaded from: never equal by text. */
const REFERENCE_KEYWORDS = new Set(['$ref', '$dynamicRef', '$recursiveRef']);

/** Keywords that make `unevaluated*` depend on subschemas next to them. */
const IN_PLACE_APPLICATORS = ['allOf', 'anyOf', 'oneOf', 'not', 'if', '$ref', '$dynamicRef', '$recursiveRef', 'dependentSchemas'];

function isAnnotation(key: string): boolean {
  return ANNOTATIONS.has(key) || key.startsWith('x-');
}

function makeDoc(root: unknown): Doc {
  const id = ++lastDocId;
  const dialect = asRecord(root)?.['$schema'];
  const text = typeof dialect === 'string' ? dialect : '';
  const draft: Draft = text === '' || /\/draft\/2020-12\//.test(text) ? 'modern' : /draft-0[3-7]/.test(text) ? 'legacy' : 'unknown';
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
    if (record && (typeof record['$id'] === 'string' || (oldIdKeyword && typeof record['id'] === 'string'))) return true;
    pushChildren(node);
  }
  return false;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointerTo(ref: SchemaRef, keyword: string): string {
  return keyword === '' ? ref.path : `${ref.path}/${escapePointer(keyword)}`;
}

function keyword(ref: SchemaRef, name: string): unknown {
  if (ref.omit?.has(name)) return undefined;
  const record = asRecord(ref.schema);
  return record && Object.hasOwn(record, name) ? record[name] : undefined;
}

function hasKeyword(ref: SchemaRef, name: string): boolean {
  const record = asRecord(ref.schema);
  return !!record && !ref.omit?.has(name) && Object.hasOwn(record, name);
}

function ownKeys(ref: SchemaRef): string[] {
  const record = asRecord(ref.schema);
  return record ? Object.keys(record).filter((k) => !ref.omit?.has(k)) : [];
}

function member(container: unknown, segment: string | number): unknown {
  if (Array.isArray(container)) return typeof segment === 'number' ? container[segment] : undefined;
  const record = asRecord(container);
  const key = String(segment);
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

function childRef(ref: SchemaRef, ...segments: (string | number)[]): SchemaRef {
  let schema: unknown = ref.schema;
  let path = ref.path;
  for (const segment of segments) {
    schema = member(schema, segment);
    path += `/${escapePointer(String(segment))}`;
  }
  return { schema, doc: ref.doc, path };
}

function omitting(ref: SchemaRef, ...names: string[]): SchemaRef {
  return { ...ref, omit: new Set([...(ref.omit ?? []), ...names]) };
}

function trueRef(doc: Doc, path: string): SchemaRef {
  return { schema: true, doc, path };
}

function refKey(ref: SchemaRef): string {
  const omitted = ref.omit ? `!${[...ref.omit].sort().join(',')}` : '';
  return `${ref.doc.id}:${ref.path}${omitted}`;
}

const resolvedRefs = new WeakMap<Doc, Map<string, SchemaRef | undefined>>();

/** Resolves a local `$ref` ("#", "#/$defs/x", "#/definitions/x", or the root `$id` plus a pointer). */
function resolveRef(from: SchemaRef, target: string): SchemaRef | undefined {
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

function mentionsReference(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(mentionsReference);
  const record = asRecord(value);
  if (!record) return false;
  return Object.entries(record).some(([k, v]) => REFERENCE_KEYWORDS.has(k) || mentionsReference(v));
}

function hasInPlaceApplicators(ref: SchemaRef): boolean {
  const record = asRecord(ref.schema);
  return !!record && IN_PLACE_APPLICATORS.some((k) => Object.hasOwn(record, k));
}

/** Only annotations (or `true`): accepts every instance. */
function isTriviallyTrue(ref: SchemaRef): boolean {
  if (ref.schema === true) return true;
  return !!asRecord(ref.schema) && ownKeys(ref).every(isAnnotation);
}

// ---------------------------------------------------------------------------------------------
// Keyword views shared by the evaluator and the comparison
// ---------------------------------------------------------------------------------------------

/** A keyword this module cannot pin down here; the sup side reports it, the sub side ignores it. */
interface Doubt {
  readonly keyword: string;
  readonly reason: string;
}

function malformed(name: string): Doubt {
  return { keyword: name, reason: `"${name}" has a value this checker does not understand` };
}

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
  readonly keyword: string;
  readonly ref: SchemaRef;
}

type BoundSide = 'upper' | 'lower';

/** `maximum`/`exclusiveMaximum` (or the minimums) in both draft-04 (boolean) and later (numeric) styles. */
function declaredBounds(ref: SchemaRef, side: BoundSide): { bounds: Bound[]; doubts: Doubt[] } {
  const [inclusiveName, exclusiveName] = side === 'upper' ? ['maximum', 'exclusiveMaximum'] : ['minimum', 'exclusiveMinimum'];
  const inclusive = keyword(ref, inclusiveName);
  const exclusive = keyword(ref, exclusiveName);
  const bounds: Bound[] = [];
  const doubts: Doubt[] = [];
  if (inclusive !== undefined) {
    if (typeof inclusive === 'number') bounds.push({ value: inclusive, exclusive: exclusive === true, keyword: inclusiveName, ref });
    else doubts.push(malformed(inclusiveName));
  }
  if (exclusive !== undefined && typeof exclusive !== 'boolean') {
    if (typeof exclusive === 'number') bounds.push({ value: exclusive, exclusive: true, keyword: exclusiveName, ref });
    else doubts.push(malformed(exclusiveName));
  }
  return { bounds, doubts };
}

function tighter(a: Bound, b: Bound, side: BoundSide): Bound {
  if (a.value === b.value) return a.exclusive ? a : b;
  return (side === 'upper') === a.value < b.value ? a : b;
}

/** Every number inside the `sub` bound is also inside the `sup` bound. */
function boundWithin(sub: Bound | undefined, sup: Bound, side: BoundSide): boolean {
  if (!sub) return false;
  if (sub.value === sup.value) return !sup.exclusive || sub.exclusive;
  return side === 'upper' ? sub.value < sup.value : sub.value > sup.value;
}

/**
 * Keywords whose meaning depends on the draft. Ajv, like the drafts, ignores a keyword outside
 * the draft's vocabulary; Ajv's 2020-12 mode also keeps draft-07's `dependencies`.
 */
const LEGACY_IGNORES = new Set(['prefixItems', 'dependentRequired', 'dependentSchemas', 'minContains', 'maxContains', 'unevaluatedProperties', 'unevaluatedItems']);
const MODERN_IGNORES = new Set(['additionalItems']);
const DRAFT_DEPENDENT = new Set([...LEGACY_IGNORES, ...MODERN_IGNORES, 'dependencies', 'items']);

type KeywordStatus = 'on' | 'off' | 'uncertain';

function keywordStatus(draft: Draft, name: string): KeywordStatus {
  if (draft === 'legacy') return LEGACY_IGNORES.has(name) ? 'off' : 'on';
  if (draft === 'modern') return MODERN_IGNORES.has(name) ? 'off' : name === 'dependencies' ? 'uncertain' : 'on';
  return DRAFT_DEPENDENT.has(name) ? 'uncertain' : 'on';
}

/** Does `name` constrain here? An uncertain keyword binds only the sup side (the safe reading). */
function counts(ref: SchemaRef, name: string, side: Side): boolean {
  const status = keywordStatus(ref.doc.draft, name);
  return status === 'on' || (status === 'uncertain' && side === 'sup');
}

/** Whether some keyword of `ref` means different things in different readings. */
function hasUncertainKeyword(ref: SchemaRef): boolean {
  return ownKeys(ref).some((name) => keywordStatus(ref.doc.draft, name) === 'uncertain');
}

type Reading = 'modern' | 'legacy';

function readingsOf(draft: Draft): Reading[] {
  return draft === 'unknown' ? ['modern', 'legacy'] : [draft];
}

/** Positional item schemas: each position (and the rest) is a conjunction of schemas. */
interface ItemLayout {
  readonly prefix: readonly (readonly SchemaRef[])[];
  readonly rest: readonly SchemaRef[];
  readonly doubts: readonly Doubt[];
}

/** 2020-12 `prefixItems` + `items`, or draft-07 tuple `items` + `additionalItems`, in one reading. */
function layoutIn(ref: SchemaRef, reading: Reading): ItemLayout {
  const items = keyword(ref, 'items');
  const doubts: Doubt[] = [];
  let prefix: SchemaRef[][] = [];
  let rest: SchemaRef[] = [];
  if (reading === 'modern') {
    const prefixItems = keyword(ref, 'prefixItems');
    if (Array.isArray(prefixItems)) prefix = prefixItems.map((_, i) => [childRef(ref, 'prefixItems', i)]);
    else if (prefixItems !== undefined) doubts.push(malformed('prefixItems'));
    if (Array.isArray(items)) doubts.push({ keyword: 'items', reason: '"items" as an array is not 2020-12' });
    else if (items !== undefined) rest = [childRef(ref, 'items')];
    const unevaluated = keyword(ref, 'unevaluatedItems');
    if (unevaluated !== undefined && unevaluated !== true) {
      if (hasInPlaceApplicators(ref)) doubts.push({ keyword: 'unevaluatedItems', reason: '"unevaluatedItems" next to in-place applicators is not analysed' });
      else if (rest.length === 0) rest = [childRef(ref, 'unevaluatedItems')];
    }
  } else if (Array.isArray(items)) {
    prefix = items.map((_, i) => [childRef(ref, 'items', i)]);
    if (hasKeyword(ref, 'additionalItems')) rest = [childRef(ref, 'additionalItems')];
  } else if (items !== undefined) {
    rest = [childRef(ref, 'items')];
  }
  return { prefix, rest, doubts };
}

function itemLayout(ref: SchemaRef, side: Side): ItemLayout {
  const layouts = readingsOf(ref.doc.draft).map((reading) => layoutIn(ref, reading));
  const [first] = layouts;
  if (!first || layouts.length === 1) return first ?? { prefix: [], rest: [], doubts: [] };
  const positions = Math.max(...layouts.map((l) => l.prefix.length));
  // sup: every reading's constraints at once; sub: only what all readings agree on.
  const combine = (lists: (readonly SchemaRef[])[]): SchemaRef[] => side === 'sup'
    ? lists.flat()
    : lists.every((l) => l.map(refKey).join('&') === (lists[0] ?? []).map(refKey).join('&')) ? [...(lists[0] ?? [])] : [];
  return {
    prefix: Array.from({ length: positions }, (_, i) => combine(layouts.map((l) => itemAt(l, i)))),
    rest: combine(layouts.map((l) => l.rest)),
    doubts: side === 'sup' ? layouts.flatMap((l) => l.doubts) : [],
  };
}

function itemAt(layout: ItemLayout, index: number): readonly SchemaRef[] {
  return index < layout.prefix.length ? layout.prefix[index] ?? [] : layout.rest;
}

interface ArrayView extends ItemLayout {
  readonly ref: SchemaRef;
  readonly minItems: number;
  readonly maxItems: number | undefined;
  readonly uniqueItems: boolean;
  readonly contains: SchemaRef | undefined;
  readonly minContains: number;
  readonly maxContains: number | undefined;
}

/**
 * Ajv 8 skips `contains` on an empty array when tuple-form items (`prefixItems`, or `items` as
 * an array) come with it, so such a schema accepts `[]` although the specification refuses it.
 * Proofs must hold for what the validator really accepts.
 */
function containsMayPassEmpty(view: ArrayView): boolean {
  return view.prefix.length > 0;
}

function arrayView(ref: SchemaRef, side: Side): ArrayView {
  const layout = itemLayout(ref, side);
  const doubts = [...layout.doubts];
  const count = (name: string): number | undefined => {
    const value = keyword(ref, name);
    if (value === undefined) return undefined;
    if (isNonNegativeInteger(value)) return value;
    doubts.push(malformed(name));
    return undefined;
  };
  const contains = hasKeyword(ref, 'contains') ? childRef(ref, 'contains') : undefined;
  const uniqueItems = keyword(ref, 'uniqueItems');
  if (uniqueItems !== undefined && typeof uniqueItems !== 'boolean') doubts.push(malformed('uniqueItems'));
  // minContains defaults to 1 and is 1 where the draft ignores it; when unsure, sub takes the
  // weaker demand and sup the stronger one.
  const declaredMin = count('minContains') ?? 1;
  const minStatus = keywordStatus(ref.doc.draft, 'minContains');
  const minContains = minStatus === 'on' ? declaredMin : minStatus === 'off' ? 1
    : side === 'sup' ? Math.max(declaredMin, 1) : Math.min(declaredMin, 1);
  return {
    ...layout,
    ref,
    doubts,
    minItems: count('minItems') ?? 0,
    maxItems: count('maxItems'),
    uniqueItems: uniqueItems === true,
    contains,
    minContains,
    maxContains: counts(ref, 'maxContains', side) ? count('maxContains') : undefined,
  };
}

interface PatternEntry {
  readonly source: string;
  readonly regex: RegExp | undefined;
  readonly ref: SchemaRef;
}

interface ObjectView {
  readonly ref: SchemaRef;
  readonly properties: ReadonlyMap<string, SchemaRef>;
  readonly patterns: readonly PatternEntry[];
  readonly additional: SchemaRef | undefined;
  readonly required: ReadonlySet<string>;
  readonly minProperties: number;
  readonly maxProperties: number | undefined;
  readonly propertyNames: SchemaRef | undefined;
  readonly dependentRequired: ReadonlyMap<string, readonly string[]>;
  readonly dependentSchemas: ReadonlyMap<string, readonly SchemaRef[]>;
  readonly doubts: readonly Doubt[];
}

function objectView(ref: SchemaRef, side: Side): ObjectView {
  const doubts: Doubt[] = [];
  const recordOf = (name: string): Record<string, unknown> | undefined => {
    if (!counts(ref, name, side)) return undefined;
    const value = keyword(ref, name);
    if (value === undefined) return undefined;
    const record = asRecord(value);
    if (!record) doubts.push(malformed(name));
    return record;
  };
  const properties = new Map<string, SchemaRef>();
  for (const name of Object.keys(recordOf('properties') ?? {})) properties.set(name, childRef(ref, 'properties', name));
  const patterns = Object.keys(recordOf('patternProperties') ?? {}).map((source) => ({
    source,
    regex: compilePattern(source),
    ref: childRef(ref, 'patternProperties', source),
  }));
  let additional = hasKeyword(ref, 'additionalProperties') ? childRef(ref, 'additionalProperties') : undefined;
  const unevaluated = counts(ref, 'unevaluatedProperties', side) ? keyword(ref, 'unevaluatedProperties') : undefined;
  if (unevaluated !== undefined && unevaluated !== true) {
    if (hasInPlaceApplicators(ref)) {
      doubts.push({ keyword: 'unevaluatedProperties', reason: '"unevaluatedProperties" next to in-place applicators is not analysed' });
    } else {
      // Without applicators nearby, it sees exactly what additionalProperties would see.
      additional ??= childRef(ref, 'unevaluatedProperties');
    }
  }
  const requiredValue = keyword(ref, 'required');
  const required = new Set<string>();
  if (Array.isArray(requiredValue) && requiredValue.every((r) => typeof r === 'string')) for (const r of requiredValue) required.add(r);
  else if (requiredValue !== undefined) doubts.push(malformed('required'));
  const count = (name: string): number | undefined => {
    const value = keyword(ref, name);
    if (value === undefined) return undefined;
    if (isNonNegativeInteger(value)) return value;
    doubts.push(malformed(name));
    return undefined;
  };
  const dependentRequired = new Map<string, string[]>();
  const dependentSchemas = new Map<string, SchemaRef[]>();
  const addRequired = (name: string, list: unknown, source: string): void => {
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      doubts.push(malformed(source));
      return;
    }
    dependentRequired.set(name, [...(dependentRequired.get(name) ?? []), ...list]);
  };
  const addSchema = (name: string, source: string): void => {
    dependentSchemas.set(name, [...(dependentSchemas.get(name) ?? []), childRef(ref, source, name)]);
  };
  for (const [name, list] of Object.entries(recordOf('dependentRequired') ?? {})) addRequired(name, list, 'dependentRequired');
  for (const name of Object.keys(recordOf('dependentSchemas') ?? {})) addSchema(name, 'dependentSchemas');
  // draft-07 `dependencies`: an array is dependentRequired, a schema is dependentSchemas.
  for (const [name, value] of Object.entries(recordOf('dependencies') ?? {})) {
    if (Array.isArray(value)) addRequired(name, value, 'dependencies');
    else addSchema(name, 'dependencies');
  }
  return {
    ref,
    properties,
    patterns,
    additional,
    required,
    minProperties: count('minProperties') ?? 0,
    maxProperties: count('maxProperties'),
    propertyNames: hasKeyword(ref, 'propertyNames') ? childRef(ref, 'propertyNames') : undefined,
    dependentRequired,
    dependentSchemas,
    doubts,
  };
}

/** The schemas a property called `name` must satisfy; undefined when a pattern cannot be compiled. */
function valueRefs(view: ObjectView, name: string): SchemaRef[] | undefined {
  const out: SchemaRef[] = [];
  const declared = view.properties.get(name);
  if (declared) out.push(declared);
  for (const pattern of view.patterns) {
    if (!pattern.regex) return undefined;
    if (pattern.regex.test(name)) out.push(pattern.ref);
  }
  if (out.length === 0 && view.additional) out.push(view.additional);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Evaluating one value against a schema, three-valued
// ---------------------------------------------------------------------------------------------

type Verdict =
  | { readonly kind: 'yes' }
  | { readonly kind: 'no' | 'unknown'; readonly keyword: string; readonly at: string };

const YES: Verdict = { kind: 'yes' };
const MAX_EVALUATION_DEPTH = 64;
const EVALUATION_BUDGET = 5_000;

/** Nesting depth, and a call budget shared by one evaluation: recursive schemas can branch. */
interface Walk {
  readonly depth: number;
  readonly budget: { remaining: number };
}

function deeper(walk: Walk): Walk {
  return { depth: walk.depth + 1, budget: walk.budget };
}

function refuse(ref: SchemaRef, name: string): Verdict {
  return { kind: 'no', keyword: name, at: pointerTo(ref, name) };
}

function unsure(ref: SchemaRef, name: string): Verdict {
  return { kind: 'unknown', keyword: name, at: pointerTo(ref, name) };
}

/** Conjunction: one refusal decides; otherwise any doubt remains. Stops at the first refusal. */
function firstDecisive(verdicts: Iterable<Verdict>): Verdict {
  let doubt: Verdict | undefined;
  for (const verdict of verdicts) {
    if (verdict.kind === 'no') return verdict;
    if (verdict.kind === 'unknown') doubt ??= verdict;
  }
  return doubt ?? YES;
}

/** Is `value` valid under `ref`? "unknown" whenever a keyword is not understood. */
function evaluate(ref: SchemaRef, value: unknown, walk: Walk = { depth: 0, budget: { remaining: EVALUATION_BUDGET } }): Verdict {
  if (ref.schema === true) return YES;
  if (ref.schema === false) return refuse(ref, '');
  if (!asRecord(ref.schema) || walk.depth > MAX_EVALUATION_DEPTH || --walk.budget.remaining < 0 || !spend()) return unsure(ref, '');
  if (hasKeyword(ref, '$ref')) return evaluateReference(ref, value, walk);
  return firstDecisive(keywordVerdicts(ref, value, walk));
}

function evaluateReference(ref: SchemaRef, value: unknown, walk: Walk): Verdict {
  const target = keyword(ref, '$ref');
  const resolved = typeof target === 'string' ? resolveRef(ref, target) : undefined;
  if (!resolved) return unsure(ref, '$ref');
  const viaTarget = evaluate(resolved, value, deeper(walk));
  const withSiblings = firstDecisive([viaTarget, evaluate(omitting(ref, '$ref'), value, deeper(walk))]);
  if (ref.doc.draft === 'modern') return withSiblings;
  // Before 2020-12 only an answer both readings of the siblings agree on counts.
  return viaTarget.kind === withSiblings.kind ? withSiblings : unsure(ref, '$ref');
}

function* keywordVerdicts(ref: SchemaRef, value: unknown, walk: Walk): Generator<Verdict> {
  yield typeVerdict(ref, value);
  yield enumVerdict(ref, value);
  // Formats are checked by the validator's own format library (for strings and numbers).
  if ((typeof value === 'string' || typeof value === 'number') && hasKeyword(ref, 'format')) yield unsure(ref, 'format');
  if (typeof value === 'number') yield* numberVerdicts(ref, value);
  else if (typeof value === 'string') yield* stringVerdicts(ref, value);
  else if (Array.isArray(value)) yield inBothReadings(ref, (side) => arrayVerdicts(ref, value, walk, side));
  else {
    const record = asRecord(value);
    if (record) yield inBothReadings(ref, (side) => objectVerdicts(ref, record, walk, side));
  }
  yield* compositionVerdicts(ref, value, walk);
  for (const name of ownKeys(ref)) {
    if (!KNOWN_KEYWORDS.has(name) && !isAnnotation(name)) yield unsure(ref, name);
  }
}

function typeVerdict(ref: SchemaRef, value: unknown): Verdict {
  const declared = keyword(ref, 'type');
  if (declared === undefined) return YES;
  const mask = parseTypes(declared);
  if (mask === undefined) return unsure(ref, 'type');
  if (typeOfValue(value) & mask) return YES;
  // OpenAPI's `nullable` widens the type only for validators that know it.
  if (value === null && keyword(ref, 'nullable') === true) return unsure(ref, 'nullable');
  return refuse(ref, 'type');
}

function enumVerdict(ref: SchemaRef, value: unknown): Verdict {
  const options = keyword(ref, 'enum');
  if (options !== undefined) {
    if (!Array.isArray(options)) return unsure(ref, 'enum');
    if (!options.some((option) => jsonEqual(option, value))) return refuse(ref, 'enum');
  }
  if (hasKeyword(ref, 'const') && !jsonEqual(keyword(ref, 'const'), value)) return refuse(ref, 'const');
  return YES;
}

function* numberVerdicts(ref: SchemaRef, n: number): Generator<Verdict> {
  for (const side of ['upper', 'lower'] as const) {
    const { bounds, doubts } = declaredBounds(ref, side);
    for (const doubt of doubts) yield unsure(ref, doubt.keyword);
    for (const bound of bounds) {
      const outside = side === 'upper' ? n > bound.value : n < bound.value;
      if (outside || (bound.exclusive && n === bound.value)) yield refuse(ref, bound.keyword);
    }
  }
  const divisor = keyword(ref, 'multipleOf');
  if (divisor !== undefined) {
    if (typeof divisor !== 'number' || divisor <= 0) yield unsure(ref, 'multipleOf');
    else if (!passesMultipleOf(n, divisor)) yield refuse(ref, 'multipleOf');
  }
}

function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

function* stringVerdicts(ref: SchemaRef, text: string): Generator<Verdict> {
  const length = codePointLength(text);
  const minLength = keyword(ref, 'minLength');
  if (minLength !== undefined) {
    if (!isNonNegativeInteger(minLength)) yield unsure(ref, 'minLength');
    else if (length < minLength) yield refuse(ref, 'minLength');
  }
  const maxLength = keyword(ref, 'maxLength');
  if (maxLength !== undefined) {
    if (!isNonNegativeInteger(maxLength)) yield unsure(ref, 'maxLength');
    else if (length > maxLength) yield refuse(ref, 'maxLength');
  }
  const pattern = keyword(ref, 'pattern');
  if (pattern !== undefined) {
    const regex = typeof pattern === 'string' ? compilePattern(pattern) : undefined;
    if (!regex) yield unsure(ref, 'pattern');
    else if (!regex.test(text)) yield refuse(ref, 'pattern');
  }
}

/**
 * Keywords whose meaning depends on the draft are read strictly (as on the sup side) and
 * leniently (as on the sub side): "yes" needs the strict reading, "no" the lenient one.
 */
function inBothReadings(ref: SchemaRef, group: (side: Side) => Iterable<Verdict>): Verdict {
  const strict = firstDecisive(group('sup'));
  if (strict.kind === 'yes' || !hasUncertainKeyword(ref)) return strict;
  const lenient = firstDecisive(group('sub'));
  if (lenient.kind === 'no') return lenient;
  return strict.kind === 'unknown' ? strict : unsure(ref, strict.keyword);
}

function* arrayVerdicts(ref: SchemaRef, items: readonly unknown[], walk: Walk, side: Side): Generator<Verdict> {
  const view = arrayView(ref, side);
  for (const doubt of view.doubts) yield unsure(ref, doubt.keyword);
  for (const [index, item] of items.entries()) {
    for (const schema of itemAt(view, index)) yield evaluate(schema, item, deeper(walk));
  }
  if (items.length < view.minItems) yield refuse(ref, 'minItems');
  if (view.maxItems !== undefined && items.length > view.maxItems) yield refuse(ref, 'maxItems');
  if (view.uniqueItems && items.some((a, i) => items.some((b, j) => j > i && jsonEqual(a, b)))) yield refuse(ref, 'uniqueItems');
  if (view.contains && items.length === 0 && view.prefix.length > 0) {
    yield unsure(ref, 'contains'); // see containsMayPassEmpty
  } else if (view.contains) {
    let matched = 0;
    let undecided = 0;
    for (const item of items) {
      const verdict = evaluate(view.contains, item, deeper(walk));
      if (verdict.kind === 'yes') matched++;
      else if (verdict.kind === 'unknown') undecided++;
    }
    const max = view.maxContains ?? Number.POSITIVE_INFINITY;
    if (matched > max || matched + undecided < view.minContains) yield refuse(ref, 'contains');
    else if (matched < view.minContains || matched + undecided > max) yield unsure(ref, 'contains');
  }
}

function* objectVerdicts(ref: SchemaRef, object: Record<string, unknown>, walk: Walk, side: Side): Generator<Verdict> {
  const view = objectView(ref, side);
  for (const doubt of view.doubts) yield unsure(ref, doubt.keyword);
  const names = Object.keys(object);
  for (const name of names) {
    const schemas = valueRefs(view, name);
    if (!schemas) {
      yield unsure(ref, 'patternProperties');
      continue;
    }
    for (const schema of schemas) yield evaluate(schema, object[name], deeper(walk));
    if (view.propertyNames) yield evaluate(view.propertyNames, name, deeper(walk));
  }
  for (const name of view.required) if (!Object.hasOwn(object, name)) yield refuse(ref, 'required');
  if (names.length < view.minProperties) yield refuse(ref, 'minProperties');
  if (view.maxProperties !== undefined && names.length > view.maxProperties) yield refuse(ref, 'maxProperties');
  for (const [name, dependents] of view.dependentRequired) {
    if (Object.hasOwn(object, name) && dependents.some((d) => !Object.hasOwn(object, d))) yield refuse(ref, 'dependentRequired');
  }
  for (const [name, schemas] of view.dependentSchemas) {
    if (Object.hasOwn(object, name)) for (const schema of schemas) yield evaluate(schema, object, deeper(walk));
  }
}

function* compositionVerdicts(ref: SchemaRef, value: unknown, walk: Walk): Generator<Verdict> {
  for (const name of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = keyword(ref, name);
    if (branches === undefined) continue;
    if (!Array.isArray(branches)) {
      yield unsure(ref, name);
      continue;
    }
    const verdicts = branches.map((_, i) => evaluate(childRef(ref, name, i), value, deeper(walk)));
    yield combineBranches(ref, name, verdicts);
  }
  if (hasKeyword(ref, 'not')) {
    const inner = evaluate(childRef(ref, 'not'), value, deeper(walk));
    yield inner.kind === 'yes' ? refuse(ref, 'not') : inner.kind === 'no' ? YES : unsure(ref, 'not');
  }
  if (hasKeyword(ref, 'if')) yield conditionalVerdict(ref, value, walk);
}

function combineBranches(ref: SchemaRef, name: 'allOf' | 'anyOf' | 'oneOf', verdicts: readonly Verdict[]): Verdict {
  const yes = verdicts.filter((v) => v.kind === 'yes').length;
  const undecided = verdicts.filter((v) => v.kind === 'unknown').length;
  if (name === 'allOf') return firstDecisive(verdicts);
  if (name === 'anyOf') return yes > 0 ? YES : undecided > 0 ? unsure(ref, name) : refuse(ref, name);
  if (yes > 1 || (yes === 0 && undecided === 0)) return refuse(ref, name);
  return yes === 1 && undecided === 0 ? YES : unsure(ref, name);
}

function conditionalVerdict(ref: SchemaRef, value: unknown, walk: Walk): Verdict {
  const branch = (name: string): Verdict => (hasKeyword(ref, name) ? evaluate(childRef(ref, name), value, deeper(walk)) : YES);
  const condition = evaluate(childRef(ref, 'if'), value, deeper(walk));
  if (condition.kind === 'yes') return branch('then');
  if (condition.kind === 'no') return branch('else');
  const whenTrue = branch('then');
  const whenFalse = branch('else');
  return whenTrue.kind === whenFalse.kind && whenTrue.kind !== 'unknown' ? whenTrue : unsure(ref, 'if');
}

// ---------------------------------------------------------------------------------------------
// Taking schemas apart: conjunctions, negations, disjunctions
// ---------------------------------------------------------------------------------------------

type Side = 'sub' | 'sup';

interface Flattened {
  conj: SchemaRef[];
  nots: SchemaRef[];
  empty: boolean;
  unresolved: { ref: SchemaRef; keyword: string; reason: string }[];
}

function newFlattened(): Flattened {
  return { conj: [], nots: [], empty: false, unresolved: [] };
}

/**
 * Keywords next to `$ref` count from draft 2019-09 on; older drafts ignore them, although Ajv
 * applies them there too. Outside 2020-12 each side takes the reading that keeps the proof
 * sound: the sub side ignores them (a larger set), the sup side applies them (a smaller set).
 */
function siblingsOfRefApply(draft: Draft, side: Side): boolean {
  return draft === 'modern' || side === 'sup';
}

/** Splits a schema into the conjunction it stands for, following `$ref` and `allOf`. */
function flattenInto(ref: SchemaRef, side: Side, out: Flattened, active: Set<string>): void {
  if (ref.schema === true) return;
  if (ref.schema === false) {
    out.empty = true;
    if (side === 'sup') out.conj.push(ref);
    return;
  }
  if (!asRecord(ref.schema)) {
    if (side === 'sup') out.unresolved.push({ ref, keyword: '', reason: 'is not a schema' });
    return;
  }
  const key = refKey(ref);
  if (active.has(key)) {
    // A reference back to itself without descending into the data defines nothing.
    if (side === 'sup') out.unresolved.push({ ref, keyword: '$ref', reason: 'refers to itself without nesting' });
    return;
  }
  active.add(key);
  try {
    if (hasKeyword(ref, '$ref')) {
      const target = keyword(ref, '$ref');
      const resolved = typeof target === 'string' ? resolveRef(ref, target) : undefined;
      if (resolved) flattenInto(resolved, side, out, active);
      else if (side === 'sup') out.unresolved.push({ ref, keyword: '$ref', reason: `reference ${showValue(target)} cannot be resolved within the document` });
      if (!siblingsOfRefApply(ref.doc.draft, side)) return;
    }
    if (carriesConstraints(ref) && !out.conj.some((c) => refKey(c) === key)) out.conj.push(ref);
    const allOf = keyword(ref, 'allOf');
    if (Array.isArray(allOf)) allOf.forEach((_, i) => flattenInto(childRef(ref, 'allOf', i), side, out, active));
    else if (allOf !== undefined && side === 'sup') out.unresolved.push({ ref, keyword: 'allOf', reason: malformed('allOf').reason });
    if (side === 'sub' && hasKeyword(ref, 'not')) out.nots.push(childRef(ref, 'not'));
  } finally {
    active.delete(key);
  }
}

/** Anything besides annotations and the `$ref`/`allOf` already taken apart. */
function carriesConstraints(ref: SchemaRef): boolean {
  return ownKeys(ref).some((k) => !isAnnotation(k) && k !== '$ref' && k !== 'allOf');
}

function flattenSup(ref: SchemaRef): Flattened {
  const out = newFlattened();
  flattenInto(ref, 'sup', out, new Set());
  return out;
}

/** One disjunct of the sub side: the data valid under every `conj`, under no `nots`, of a type in `typeMask`. */
interface SubSet {
  readonly conj: readonly SchemaRef[];
  readonly nots: readonly SchemaRef[];
  readonly typeMask: number;
  readonly path: string;
  readonly doc: Doc;
}

interface Origin {
  readonly path: string;
  readonly doc: Doc;
  readonly typeMask?: number;
}

const DISJUNCT_LIMIT = 64;
const EXPANSION_DEPTH = 12;

const subSetCache = new WeakMap<Doc, Map<string, SubSet[]>>();

/**
 * The sub side as a union of conjunctions. `anyOf`/`oneOf` branches and `if`/`then`/`else`
 * become separate disjuncts (oneOf ⊆ anyOf, so treating it as anyOf only loses precision).
 * Memoised per document: one analysis asks for the same expansions again and again.
 */
function subSets(refs: readonly SchemaRef[], origin: Origin): SubSet[] {
  const doc = refs[0]?.doc ?? origin.doc;
  const key = `${refs.map(refKey).join('&')}~${origin.typeMask ?? ALL_TYPES}~${origin.doc.id}:${origin.path}`;
  let cache = subSetCache.get(doc);
  if (!cache) {
    cache = new Map();
    subSetCache.set(doc, cache);
  }
  let sets = cache.get(key);
  if (!sets) {
    sets = expandSubSets(refs, origin);
    cache.set(key, sets);
  }
  return sets;
}

function expandSubSets(refs: readonly SchemaRef[], origin: Origin): SubSet[] {
  const flat = newFlattened();
  for (const ref of refs) flattenInto(ref, 'sub', flat, new Set());
  if (flat.empty) return [];
  const first = flat.conj[0] ?? refs[0];
  const base: SubSet = {
    conj: flat.conj,
    nots: flat.nots,
    typeMask: origin.typeMask ?? ALL_TYPES,
    path: first?.path ?? origin.path,
    doc: first?.doc ?? origin.doc,
  };
  const out: SubSet[] = [];
  expandDisjunctions(base, out);
  return out;
}

function disjunctiveKeyword(ref: SchemaRef): 'anyOf' | 'oneOf' | 'if' | undefined {
  if (Array.isArray(keyword(ref, 'anyOf'))) return 'anyOf';
  if (Array.isArray(keyword(ref, 'oneOf'))) return 'oneOf';
  if (hasKeyword(ref, 'if') && (hasKeyword(ref, 'then') || hasKeyword(ref, 'else'))) return 'if';
  return undefined;
}

function expandDisjunctions(set: SubSet, out: SubSet[], depth = 0): void {
  // Past the limits a disjunction is left unexpanded: ignoring a sub-side constraint is sound.
  const exhausted = out.length >= DISJUNCT_LIMIT || depth >= EXPANSION_DEPTH || !spend();
  const index = exhausted ? -1 : set.conj.findIndex((c) => disjunctiveKeyword(c) !== undefined);
  const holder = index < 0 ? undefined : set.conj[index];
  const name = holder && disjunctiveKeyword(holder);
  if (!holder || !name) {
    out.push(set);
    return;
  }
  const others = set.conj.filter((_, i) => i !== index);
  const extend = (extra: readonly SchemaRef[], negated: readonly SchemaRef[], consumed: string[]): void => {
    const flat = newFlattened();
    for (const ref of extra) flattenInto(ref, 'sub', flat, new Set());
    if (flat.empty) return;
    const rest = omitting(holder, ...consumed);
    expandDisjunctions({ ...set, conj: [rest, ...others, ...flat.conj], nots: [...set.nots, ...flat.nots, ...negated] }, out, depth + 1);
  };
  if (name === 'if') {
    const consumed = ['if', 'then', 'else'];
    const branch = (kw: string): SchemaRef[] => (hasKeyword(holder, kw) ? [childRef(holder, kw)] : []);
    extend([childRef(holder, 'if'), ...branch('then')], [], consumed);
    extend(branch('else'), [childRef(holder, 'if')], consumed);
    return;
  }
  const branches = keyword(holder, name) as unknown[];
  branches.forEach((_, i) => extend([childRef(holder, name, i)], [], [name]));
}

const setKeys = new WeakMap<SubSet, string>();

function setKey(set: SubSet): string {
  let key = setKeys.get(set);
  if (key === undefined) {
    const conj = set.conj.map(refKey).sort().join('&');
    const nots = set.nots.map(refKey).sort().join('&');
    key = `${conj}~${nots}~${set.typeMask}`;
    setKeys.set(set, key);
  }
  return key;
}

// ---------------------------------------------------------------------------------------------
// Facts about a sub set
// ---------------------------------------------------------------------------------------------

const typeCache = new WeakMap<SubSet, number>();

function declaredTypes(ref: SchemaRef, side: Side): number | undefined {
  const declared = keyword(ref, 'type');
  if (declared === undefined) return ALL_TYPES;
  const mask = parseTypes(declared);
  if (mask === undefined) return undefined;
  // `nullable: true` may widen the type; only the sub side may assume it does.
  return side === 'sub' && keyword(ref, 'nullable') === true ? mask | NULL : mask;
}

function enumerated(ref: SchemaRef): unknown[] | undefined {
  if (hasKeyword(ref, 'const')) return [keyword(ref, 'const')];
  const options = keyword(ref, 'enum');
  return Array.isArray(options) ? options : undefined;
}

/** `multipleOf: 1` rules out fractions; larger divisors do not (see passesMultipleOf). */
function demandsInteger(ref: SchemaRef): boolean {
  return keyword(ref, 'multipleOf') === 1;
}

function subTypes(set: SubSet): number {
  const cached = typeCache.get(set);
  if (cached !== undefined) return cached;
  let mask = set.typeMask;
  for (const ref of set.conj) mask &= declaredTypes(ref, 'sub') ?? ALL_TYPES;
  if (mask & FRACTION && set.conj.some(demandsInteger)) mask &= ~FRACTION;
  for (const ref of set.conj) {
    const values = enumerated(ref);
    if (values) {
      const valueTypes = values.reduce<number>((acc, v) => acc | typeOfValue(v), 0);
      mask &= keyword(ref, 'nullable') === true ? valueTypes | NULL : valueTypes;
    }
  }
  typeCache.set(set, mask);
  return mask;
}

/** Every value of the set, when the set is finite and known (enum, const, null/boolean types). */
function finiteValues(set: SubSet): unknown[] | undefined {
  const types = subTypes(set);
  const source = set.conj.map(enumerated).find((values) => values !== undefined);
  let candidates: unknown[];
  if (source) {
    candidates = [...source];
    if (set.conj.some((ref) => keyword(ref, 'nullable') === true)) candidates.push(null);
  } else if ((types & ~(NULL | BOOLEAN)) === 0) {
    candidates = [null, true, false];
  } else {
    return undefined;
  }
  const kept: unknown[] = [];
  for (const value of candidates) {
    if (!(typeOfValue(value) & types)) continue;
    if (set.conj.some((ref) => evaluate(ref, value).kind === 'no')) continue;
    if (set.nots.some((ref) => evaluate(ref, value).kind === 'yes')) continue;
    if (!kept.some((k) => jsonEqual(k, value))) kept.push(value);
  }
  return kept;
}

function enumSourcePath(set: SubSet): string {
  const holder = set.conj.find((ref) => enumerated(ref) !== undefined);
  if (!holder) return `${set.path}/type`;
  return pointerTo(holder, hasKeyword(holder, 'const') ? 'const' : 'enum');
}

function isEmptySet(set: SubSet): boolean {
  if (subTypes(set) === 0) return true;
  const values = finiteValues(set);
  return values !== undefined && values.length === 0;
}

/** Sound emptiness: true only when no instance can satisfy all of `refs`. */
function isProvablyEmpty(refs: readonly SchemaRef[]): boolean {
  return subSets(refs, { path: '', doc: SYNTHETIC_DOC }).every(isEmptySet);
}

function subBound(set: SubSet, side: BoundSide, integersOnly: boolean): Bound | undefined {
  let best: Bound | undefined;
  for (const ref of set.conj) {
    for (const bound of declaredBounds(ref, side).bounds) best = best ? tighter(best, bound, side) : bound;
  }
  if (!best || !integersOnly) return best;
  // For integers an exclusive 10 is an inclusive 9, and 9.5 is 9.
  const value = side === 'upper'
    ? (best.exclusive ? Math.ceil(best.value) - 1 : Math.floor(best.value))
    : (best.exclusive ? Math.floor(best.value) + 1 : Math.ceil(best.value));
  return { ...best, value, exclusive: false };
}

function subLengthRange(set: SubSet): { min: number; max: number | undefined } {
  let min = 0;
  let max: number | undefined;
  for (const ref of set.conj) {
    const low = keyword(ref, 'minLength');
    const high = keyword(ref, 'maxLength');
    if (isNonNegativeInteger(low)) min = Math.max(min, low);
    if (isNonNegativeInteger(high)) max = max === undefined ? high : Math.min(max, high);
  }
  return { min, max };
}

function objectViews(set: SubSet): ObjectView[] {
  const views = set.conj.map((ref) => objectView(ref, 'sub'));
  return views.length > 0 ? views : [objectView({ schema: {}, doc: set.doc, path: set.path }, 'sub')];
}

/** Names every instance has: `required`, closed under the sub side's `dependentRequired`. */
function requiredNames(views: readonly ObjectView[]): Set<string> {
  const names = new Set(views.flatMap((v) => [...v.required]));
  let grew = true;
  while (grew) {
    grew = false;
    for (const view of views) {
      for (const [trigger, dependents] of view.dependentRequired) {
        if (!names.has(trigger)) continue;
        for (const d of dependents) {
          if (!names.has(d)) {
            names.add(d);
            grew = true;
          }
        }
      }
    }
  }
  return names;
}

/** Over the sub side, a pattern that cannot be compiled just contributes nothing (a larger set). */
function subValueRefs(views: readonly ObjectView[], name: string): SchemaRef[] {
  return views.flatMap((view) => valueRefs(view, name) ?? []);
}

function subPropertyPath(views: readonly ObjectView[], set: SubSet, name: string): string {
  const declared = views.map((v) => v.properties.get(name)).find((r) => r !== undefined);
  return declared?.path ?? `${set.path}/properties/${escapePointer(name)}`;
}

// ---------------------------------------------------------------------------------------------
// The subset walk
// ---------------------------------------------------------------------------------------------

interface Shared {
  /** Comparisons currently open on the stack. */
  nesting: number;
  /** Pairs being compared on the current path, with the data depth they started at. */
  readonly active: Map<string, number>;
}

interface Ctx {
  readonly shared: Shared;
  readonly findings: Finding[];
  readonly data: readonly DataSeg[];
  /** How deep into the instance the walk is: recursion is assumed to hold only below its start. */
  readonly depth: number;
}

const NESTING_LIMIT = 150;

function analyse(sub: JsonSchema, sup: JsonSchema): Finding[] {
  if (jsonEqual(sub, sup)) return [];
  return withWorkBudget(() => analyseWithin(sub, sup));
}

function analyseWithin(sub: JsonSchema, sup: JsonSchema): Finding[] {
  const subDoc = makeDoc(sub);
  const supDoc = makeDoc(sup);
  const ctx: Ctx = { shared: { nesting: 0, active: new Map() }, findings: [], data: [], depth: 0 };
  subset([{ schema: sub, doc: subDoc, path: '' }], { schema: sup, doc: supDoc, path: '' }, ctx, { path: '', doc: subDoc });
  return dedupe(ctx.findings);
}

function intoData(ctx: Ctx, seg: DataSeg): Ctx {
  return { ...ctx, data: [...ctx.data, seg], depth: ctx.depth + 1 };
}

function scratch(ctx: Ctx): Ctx {
  return { ...ctx, findings: [] };
}

/** Reports why the data of all `subRefs` together is not proven to be valid under `sup`. */
function subset(subRefs: readonly SchemaRef[], sup: SchemaRef, ctx: Ctx, origin: Origin): void {
  if (isTriviallyTrue(sup)) return;
  if (isSameSchema(subRefs, sup, origin)) return;
  for (const set of subSets(subRefs, origin)) subsetOfSet(set, sup, ctx);
}

/** Identical text with no references inside means identical meaning. */
function isSameSchema(subRefs: readonly SchemaRef[], sup: SchemaRef, origin: Origin): boolean {
  const [only] = subRefs;
  return subRefs.length === 1 && !!only && !only.omit && !sup.omit && origin.typeMask === undefined
    && only.doc.draft === sup.doc.draft && jsonEqual(only.schema, sup.schema) && !mentionsReference(sup.schema);
}

function trial(set: SubSet, sup: SchemaRef, ctx: Ctx): Finding[] {
  const probe = scratch(ctx);
  subsetOfSet(set, sup, probe);
  return probe.findings;
}

function trialRefs(subRefs: readonly SchemaRef[], sup: SchemaRef, ctx: Ctx, origin: Origin): Finding[] {
  const probe = scratch(ctx);
  subset(subRefs, sup, probe, origin);
  return probe.findings;
}

const TOO_COMPLEX: Finding = {
  subPtr: '',
  supPtr: '',
  rule: 'unprovable',
  inverse: 'unprovable',
  subject: 'the schema',
  unproven: samePhrase('cannot prove compatibility: the schemas are too complex to compare within the work budget'),
};

function subsetOfSet(set: SubSet, sup: SchemaRef, ctx: Ctx): void {
  if (isTriviallyTrue(sup) || isEmptySet(set)) return;
  const at = { sub: set.path, sup: sup.path };
  if (!spend() || ctx.shared.nesting >= NESTING_LIMIT) {
    // One shared finding: once the budget is spent, every remaining step fails fast.
    ctx.findings.push(TOO_COMPLEX);
    return;
  }
  const values = finiteValues(set);
  if (values && compareFiniteValues(set, values, sup, ctx)) return;
  const flat = flattenSup(sup);
  // Keyed by what the references resolve to, so a recursive schema is recognised at its first return.
  const key = `${setKey(set)}|${flat.conj.map(refKey).join('&')}|${flat.unresolved.length}`;
  const startedAt = ctx.shared.active.get(key);
  if (startedAt !== undefined) {
    // Met again deeper in the data: assume it (induction on the data's depth). Met again at
    // the same depth: the schema loops without consuming data, and nothing can be proven.
    if (ctx.depth > startedAt) return;
    reportUnproven(ctx, at, samePhrase('cannot prove compatibility of a schema that refers to itself without nesting'));
    return;
  }
  ctx.shared.active.set(key, ctx.depth);
  ctx.shared.nesting++;
  try {
    compareSet(set, flat, ctx);
  } finally {
    ctx.shared.nesting--;
    ctx.shared.active.delete(key);
  }
}

function compareSet(set: SubSet, flat: Flattened, ctx: Ctx): void {
  for (const problem of flat.unresolved) {
    reportUnproven(ctx, { sub: set.path, sup: pointerTo(problem.ref, problem.keyword) }, samePhrase(`cannot prove compatibility: ${problem.reason}`));
  }
  for (const conjunct of flat.conj) {
    if (conjunct.schema === false) {
      report(ctx, { sub: set.path, sup: conjunct.path }, {
        rule: 'schema-closed',
        inverse: 'schema-opened',
        change: { narrow: 'now refuses all data', widen: 'now accepts data the earlier schema refused entirely' },
        witness: where(ctx.data, 'exists at all'),
      });
      continue;
    }
    compareConjunct(set, conjunct, ctx);
  }
}

/**
 * A finite sub side is decided value by value. Returns false when some value cannot be
 * decided, so the keyword-by-keyword comparison gets its chance.
 */
function compareFiniteValues(set: SubSet, values: readonly unknown[], sup: SchemaRef, ctx: Ctx): boolean {
  const refused = new Map<string, { keyword: string; values: unknown[] }>();
  let undecided = false;
  for (const value of values) {
    const verdict = evaluate(sup, value);
    if (verdict.kind === 'unknown') undecided = true;
    if (verdict.kind !== 'no') continue;
    const entry = refused.get(verdict.at) ?? { keyword: verdict.keyword, values: [] };
    entry.values.push(value);
    refused.set(verdict.at, entry);
  }
  for (const [at, { keyword: name, values: lost }] of refused) reportRefusedValues(set, name, at, lost, ctx);
  return refused.size > 0 || !undecided;
}

function reportRefusedValues(set: SubSet, name: string, supPtr: string, lost: readonly unknown[], ctx: Ctx): void {
  const list = lost.map(showValue).join(', ');
  const [rule, inverse] = name === 'enum' || name === 'const'
    ? ['enum-narrowed', 'enum-widened']
    : name === 'type' ? ['type-narrowed', 'type-widened'] : ['value-refused', 'value-accepted'];
  report(ctx, { sub: enumSourcePath(set), sup: supPtr }, {
    rule,
    inverse,
    change: { narrow: `no longer accepts ${list}`, widen: `now also accepts ${list}` },
    witness: where(ctx.data, `is ${lost.map(showValue).join(' or ')}`),
  });
}

function compareConjunct(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const subMask = subTypes(set);
  const supMask = declaredTypes(c, 'sup');
  if (supMask === undefined) reportUnproven(ctx, { sub: set.path, sup: pointerTo(c, 'type') }, samePhrase(`cannot prove compatibility: ${malformed('type').reason}`));
  else compareTypes(set, c, subMask, supMask, ctx);
  const shared = subMask & (supMask ?? ALL_TYPES);
  compareEnum(set, c, ctx);
  if (shared & NUMBER) compareNumbers(set, c, (shared & FRACTION) === 0, ctx);
  if (shared & STRING) compareStrings(set, c, ctx);
  // Formats bind strings and, through ajv-formats' int32/int64/float/double, numbers.
  if (shared & (STRING | NUMBER)) compareFormat(set, c, ctx);
  if (shared & ARRAY) compareArrays(set, c, ctx);
  if (shared & OBJECT) compareObjects(set, c, ctx);
  compareComposition(set, c, ctx);
  compareUnknownKeywords(set, c, ctx);
}

function keywordPointers(set: SubSet, c: SchemaRef, name: string): Pointers {
  return { sub: `${set.path}/${escapePointer(name)}`, sup: pointerTo(c, name) };
}

function reportDoubts(set: SubSet, c: SchemaRef, doubts: readonly Doubt[], ctx: Ctx): void {
  for (const doubt of doubts) {
    reportUnproven(ctx, keywordPointers(set, c, doubt.keyword), samePhrase(`cannot prove compatibility: ${doubt.reason}`));
  }
}

// --- type, enum, const -------------------------------------------------------------------------

function compareTypes(set: SubSet, c: SchemaRef, subMask: number, supMask: number, ctx: Ctx): void {
  const extra = subMask & ~supMask;
  if (extra === 0) return;
  reportTypeLoss(ctx, keywordPointers(set, c, 'type'), extra);
}

function reportTypeLoss(ctx: Ctx, at: Pointers, extra: number): void {
  const { names, nouns } = typeWords(extra);
  report(ctx, at, {
    rule: 'type-narrowed',
    inverse: 'type-widened',
    change: { narrow: `no longer accepts ${names.join(', ')}`, widen: `now also accepts ${names.join(', ')}` },
    witness: where(ctx.data, `is ${nouns.join(' or ')}`),
  });
}

function compareEnum(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const allowed = enumerated(c);
  if (!allowed) {
    if (hasKeyword(c, 'enum')) reportDoubts(set, c, [malformed('enum')], ctx);
    return;
  }
  const name = hasKeyword(c, 'const') ? 'const' : 'enum';
  const values = finiteValues(set);
  if (values) {
    const lost = values.filter((v) => !allowed.some((a) => jsonEqual(a, v)));
    if (lost.length > 0) reportRefusedValues(set, name, pointerTo(c, name), lost, ctx);
    return;
  }
  const list = allowed.map(showValue).join(', ');
  report(ctx, keywordPointers(set, c, name), {
    rule: 'enum-added',
    inverse: 'enum-removed',
    change: { narrow: `is now restricted to ${list}`, widen: `is no longer restricted to ${list}` },
    witness: where(ctx.data, 'has any other value'),
  });
}

// --- numbers ----------------------------------------------------------------------------------

function showBound(bound: Bound): string {
  return bound.exclusive ? `${bound.value} (exclusive)` : String(bound.value);
}

function compareNumbers(set: SubSet, c: SchemaRef, integersOnly: boolean, ctx: Ctx): void {
  for (const side of ['upper', 'lower'] as const) {
    const { bounds, doubts } = declaredBounds(c, side);
    reportDoubts(set, c, doubts, ctx);
    const own = subBound(set, side, integersOnly);
    for (const bound of bounds) if (!boundWithin(own, bound, side)) reportBound(set, c, own, bound, side, ctx);
  }
  compareMultipleOf(set, c, integersOnly, ctx);
}

function reportBound(set: SubSet, c: SchemaRef, own: Bound | undefined, bound: Bound, side: BoundSide, ctx: Ctx): void {
  const word = side === 'upper' ? 'maximum' : 'minimum';
  const at = { sub: own ? pointerTo(own.ref, own.keyword) : `${set.path}/${bound.keyword}`, sup: pointerTo(c, bound.keyword) };
  const outside = side === 'upper'
    ? (bound.exclusive ? `is ${bound.value} or more` : `is above ${bound.value}`)
    : (bound.exclusive ? `is ${bound.value} or less` : `is below ${bound.value}`);
  const witness = where(ctx.data, outside);
  if (!own) {
    report(ctx, at, {
      rule: `${word}-added`,
      inverse: `${word}-removed`,
      change: { narrow: `now has a ${word} of ${showBound(bound)}`, widen: `no longer has a ${word} of ${showBound(bound)}` },
      witness,
    });
    return;
  }
  const [tightened, loosened] = side === 'upper' ? ['lowered', 'raised'] : ['raised', 'lowered'];
  report(ctx, at, {
    rule: `${word}-${tightened}`,
    inverse: `${word}-${loosened}`,
    change: {
      narrow: `had its ${word} ${tightened} from ${showBound(own)} to ${showBound(bound)}`,
      widen: `had its ${word} ${loosened} from ${showBound(bound)} to ${showBound(own)}`,
    },
    witness,
  });
}

function compareMultipleOf(set: SubSet, c: SchemaRef, integersOnly: boolean, ctx: Ctx): void {
  const divisor = keyword(c, 'multipleOf');
  if (divisor === undefined) return;
  if (typeof divisor !== 'number' || divisor <= 0) {
    reportDoubts(set, c, [malformed('multipleOf')], ctx);
    return;
  }
  const own = set.conj.map((r) => keyword(r, 'multipleOf')).filter((m): m is number => typeof m === 'number' && m > 0);
  if (own.includes(divisor)) return; // the very same computation on the very same values
  const safe = integersOnly && withinSafeIntegers(set);
  if (safe && (divisor === 1 || (Number.isInteger(divisor) && own.some((m) => Number.isInteger(m) && m % divisor === 0)))) return;
  const at = keywordPointers(set, c, 'multipleOf');
  const witness = where(ctx.data, `is not a multiple of ${divisor}`);
  const [previous] = own;
  const mathematicallyFine = previous !== undefined && isExactMultiple(previous, divisor);
  if (previous === undefined) {
    report(ctx, at, {
      rule: 'multiple-of-added',
      inverse: 'multiple-of-removed',
      change: { narrow: `must now be a multiple of ${divisor}`, widen: `no longer needs to be a multiple of ${divisor}` },
      witness,
      ...(integersOnly && divisor === 1 ? { unproven: samePhrase(FLOATING_MULTIPLE) } : {}),
    });
    return;
  }
  report(ctx, at, {
    rule: 'multiple-of-changed',
    inverse: 'multiple-of-changed',
    change: { narrow: `had its multipleOf changed from ${previous} to ${divisor}`, widen: `had its multipleOf changed from ${divisor} to ${previous}` },
    witness,
    ...(mathematicallyFine ? { unproven: samePhrase(FLOATING_MULTIPLE) } : {}),
  });
}

const FLOATING_MULTIPLE = 'cannot prove it: the validator computes multipleOf in floating point, so a new divisor is only proven for integers within ±2^53, with whole divisors where the new one divides the old one';

/** Integers within ±2^53 are exact in floating point, and their quotients print as integers. */
function withinSafeIntegers(set: SubSet): boolean {
  const upper = subBound(set, 'upper', true);
  const lower = subBound(set, 'lower', true);
  return !!upper && !!lower && upper.value <= Number.MAX_SAFE_INTEGER && lower.value >= -Number.MAX_SAFE_INTEGER;
}

/** Whether `value / divisor` is a whole number in exact decimal arithmetic (for messages only). */
function isExactMultiple(value: number, divisor: number): boolean {
  const scale = 10 ** Math.max(decimalPlaces(value), decimalPlaces(divisor));
  const a = Math.round(value * scale);
  const b = Math.round(divisor * scale);
  return Number.isSafeInteger(a) && Number.isSafeInteger(b) && b !== 0 && a % b === 0;
}

function decimalPlaces(n: number): number {
  const [mantissa = '', exponent = '0'] = n.toExponential().split('e');
  const fraction = mantissa.split('.')[1] ?? '';
  return Math.max(0, fraction.length - Number(exponent));
}

// --- strings ----------------------------------------------------------------------------------

function compareStrings(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const own = subLengthRange(set);
  const minLength = keyword(c, 'minLength');
  if (minLength !== undefined && !isNonNegativeInteger(minLength)) reportDoubts(set, c, [malformed('minLength')], ctx);
  else if (minLength !== undefined && own.min < minLength) {
    report(ctx, keywordPointers(set, c, 'minLength'), {
      rule: 'min-length-raised',
      inverse: 'min-length-lowered',
      change: { narrow: `had its minLength raised from ${own.min} to ${minLength}`, widen: `had its minLength lowered from ${minLength} to ${own.min}` },
      witness: where(ctx.data, `is shorter than ${plural(minLength, 'character')}`),
    });
  }
  const maxLength = keyword(c, 'maxLength');
  if (maxLength !== undefined && !isNonNegativeInteger(maxLength)) reportDoubts(set, c, [malformed('maxLength')], ctx);
  else if (maxLength !== undefined && (own.max === undefined || own.max > maxLength)) {
    const witness = where(ctx.data, `is longer than ${plural(maxLength, 'character')}`);
    const at = keywordPointers(set, c, 'maxLength');
    if (own.max === undefined) {
      report(ctx, at, {
        rule: 'max-length-added',
        inverse: 'max-length-removed',
        change: { narrow: `now has a maxLength of ${maxLength}`, widen: `no longer has a maxLength of ${maxLength}` },
        witness,
      });
    } else {
      report(ctx, at, {
        rule: 'max-length-lowered',
        inverse: 'max-length-raised',
        change: { narrow: `had its maxLength lowered from ${own.max} to ${maxLength}`, widen: `had its maxLength raised from ${maxLength} to ${own.max}` },
        witness,
      });
    }
  }
  comparePattern(set, c, ctx);
}

function comparePattern(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const pattern = keyword(c, 'pattern');
  if (pattern === undefined) return;
  if (typeof pattern !== 'string') {
    reportDoubts(set, c, [malformed('pattern')], ctx);
    return;
  }
  const own = set.conj.map((r) => keyword(r, 'pattern')).filter((p): p is string => typeof p === 'string');
  if (UNIVERSAL_PATTERNS.has(pattern) || own.includes(pattern)) return;
  const at = keywordPointers(set, c, 'pattern');
  const [previous] = own;
  if (previous === undefined) {
    report(ctx, at, {
      rule: 'pattern-added',
      inverse: 'pattern-removed',
      change: { narrow: `must now match the pattern "${pattern}"`, widen: `no longer needs to match the pattern "${pattern}"` },
      witness: where(ctx.data, `does not match "${pattern}"`),
    });
    return;
  }
  // Inclusion between regular expressions is not decided here: any difference is unproven.
  report(ctx, at, {
    rule: 'pattern-changed',
    inverse: 'pattern-changed',
    change: { narrow: `had its pattern changed from "${previous}" to "${pattern}"`, widen: `had its pattern changed from "${pattern}" to "${previous}"` },
    unproven: unprovenPhrase((sub, sup) => `cannot prove that every string matching the ${sub} pattern also matches the ${sup} one`),
  });
}

function compareFormat(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const format = keyword(c, 'format');
  if (format === undefined) return;
  if (typeof format !== 'string') {
    reportDoubts(set, c, [malformed('format')], ctx);
    return;
  }
  const own = set.conj.map((r) => keyword(r, 'format')).filter((f): f is string => typeof f === 'string');
  if (own.includes(format)) return;
  const at = keywordPointers(set, c, 'format');
  const [previous] = own;
  if (previous === undefined) {
    report(ctx, at, {
      rule: 'format-added',
      inverse: 'format-removed',
      change: { narrow: `must now be a valid "${format}"`, widen: `no longer needs to be a valid "${format}"` },
      witness: where(ctx.data, `is not a valid "${format}"`),
    });
    return;
  }
  report(ctx, at, {
    rule: 'format-changed',
    inverse: 'format-changed',
    change: { narrow: `had its format changed from "${previous}" to "${format}"`, widen: `had its format changed from "${format}" to "${previous}"` },
    unproven: unprovenPhrase((sub, sup) => `cannot prove that every string in the ${sub} format is valid in the ${sup} one`),
  });
}

// --- arrays -----------------------------------------------------------------------------------

function compareArrays(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const views = set.conj.map((ref) => arrayView(ref, 'sub'));
  const sup = arrayView(c, 'sup');
  reportDoubts(set, c, sup.doubts, ctx);
  const minLength = Math.max(0, ...views.map((v) => v.minItems));
  const maxLength = compareItems(set, views, sup, c, ctx);
  if (minLength < sup.minItems) {
    report(ctx, keywordPointers(set, c, 'minItems'), {
      rule: 'min-items-raised',
      inverse: 'min-items-lowered',
      change: { narrow: `had its minItems raised from ${minLength} to ${sup.minItems}`, widen: `had its minItems lowered from ${sup.minItems} to ${minLength}` },
      witness: where(ctx.data, `has fewer than ${plural(sup.minItems, 'item')}`),
    });
  }
  if (sup.maxItems !== undefined && maxLength > sup.maxItems) {
    const finite = Number.isFinite(maxLength);
    report(ctx, keywordPointers(set, c, 'maxItems'), {
      rule: finite ? 'max-items-lowered' : 'max-items-added',
      inverse: finite ? 'max-items-raised' : 'max-items-removed',
      change: finite
        ? { narrow: `had its maxItems lowered from ${maxLength} to ${sup.maxItems}`, widen: `had its maxItems raised from ${sup.maxItems} to ${maxLength}` }
        : { narrow: `now has a maxItems of ${sup.maxItems}`, widen: `no longer has a maxItems of ${sup.maxItems}` },
      witness: where(ctx.data, `has more than ${plural(sup.maxItems, 'item')}`),
    });
  }
  if (sup.uniqueItems && maxLength > 1 && !views.some((v) => v.uniqueItems)) {
    report(ctx, keywordPointers(set, c, 'uniqueItems'), {
      rule: 'unique-items-added',
      inverse: 'unique-items-removed',
      change: { narrow: 'now requires unique items', widen: 'no longer requires unique items' },
      witness: where(ctx.data, 'has duplicate items'),
    });
  }
  compareContains(set, views, sup, c, minLength, ctx);
}

/** Compares items position by position, then the rest; returns the longest array the sub side allows. */
function compareItems(set: SubSet, views: readonly ArrayView[], sup: ArrayView, c: SchemaRef, ctx: Ctx): number {
  const positions = Math.max(sup.prefix.length, ...views.map((v) => v.prefix.length));
  const maxLength = Math.min(Number.POSITIVE_INFINITY, ...views.flatMap((v) => (v.maxItems === undefined ? [] : [v.maxItems])));
  for (let index = 0; index <= positions && index < maxLength; index++) {
    const isRest = index === positions;
    const own = views.flatMap((v) => itemAt(v, index));
    if (isProvablyEmpty(own)) return index;
    const targets = itemAt(sup, index).filter((t) => !isTriviallyTrue(t));
    const itemCtx = intoData(ctx, { kind: 'item', index: isRest ? undefined : index });
    const closed = targets.find((t) => t.schema === false);
    if (closed) {
      reportItemsClosed(set, c, closed, index, ctx);
      return index;
    }
    const origin = { path: own[0]?.path ?? `${set.path}/items`, doc: set.doc };
    for (const target of targets) subset(own, target, itemCtx, origin);
  }
  return maxLength;
}

function reportItemsClosed(set: SubSet, c: SchemaRef, target: SchemaRef, index: number, ctx: Ctx): void {
  report(ctx, { sub: `${set.path}${target.path.slice(c.path.length)}`, sup: target.path }, {
    rule: 'items-closed',
    inverse: 'items-opened',
    change: { narrow: `no longer accepts more than ${plural(index, 'item')}`, widen: `now accepts more than ${plural(index, 'item')}` },
    witness: where(ctx.data, `has more than ${plural(index, 'item')}`),
  });
}

function compareContains(set: SubSet, views: readonly ArrayView[], sup: ArrayView, c: SchemaRef, minLength: number, ctx: Ctx): void {
  if (!sup.contains || (isTriviallyTrue(sup.contains) && sup.maxContains === undefined && minLength >= sup.minContains)) return;
  const at = keywordPointers(set, c, 'contains');
  if (sup.maxContains !== undefined) {
    reportUnproven(ctx, at, samePhrase('cannot prove compatibility: "maxContains" is not analysed'));
    return;
  }
  if (sup.minContains === 0) return;
  const target = sup.contains;
  const origin = { path: set.path, doc: set.doc };
  const viaContains = views.some((v) => v.contains !== undefined && v.minContains >= sup.minContains
    && (minLength > 0 || !containsMayPassEmpty(v))
    && trialRefs([v.contains], target, ctx, origin).length === 0);
  if (viaContains) return;
  // Or every item matches and there are enough of them.
  const positions = Math.max(0, ...views.map((v) => v.prefix.length));
  const everyItemMatches = minLength >= sup.minContains && Array.from({ length: positions + 1 }, (_, i) => i).every((i) => {
    return trialRefs(views.flatMap((v) => itemAt(v, i)), target, ctx, origin).length === 0;
  });
  if (everyItemMatches) return;
  if (views.some((v) => v.contains !== undefined)) {
    reportUnproven(ctx, at, unprovenPhrase((sub, sup2) => `cannot prove that arrays valid under the ${sub} "contains" also satisfy the ${sup2} one`));
    return;
  }
  report(ctx, at, {
    rule: 'contains-added',
    inverse: 'contains-removed',
    change: { narrow: 'now requires a matching item ("contains")', widen: 'no longer requires a matching item ("contains")' },
    witness: where(ctx.data, 'has no matching item'),
  });
}

// --- objects ----------------------------------------------------------------------------------

function compareObjects(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const views = objectViews(set);
  const sup = objectView(c, 'sup');
  reportDoubts(set, c, sup.doubts, ctx);
  const required = requiredNames(views);
  compareNamedProperties(set, views, required, sup, c, ctx);
  compareOtherProperties(set, views, sup, c, ctx);
  compareRequired(set, required, sup, c, ctx);
  comparePropertyCounts(set, views, required, sup, c, ctx);
  comparePropertyNames(set, views, sup, c, ctx);
  compareDependencies(set, views, required, sup, c, ctx);
}

function compareNamedProperties(set: SubSet, views: readonly ObjectView[], required: ReadonlySet<string>, sup: ObjectView, c: SchemaRef, ctx: Ctx): void {
  const names = new Set<string>([
    ...sup.properties.keys(),
    ...views.flatMap((v) => [...v.properties.keys()]),
    ...sup.required,
    ...required,
    ...[...sup.dependentRequired].flatMap(([k, v]) => [k, ...v]),
    ...sup.dependentSchemas.keys(),
  ]);
  for (const name of names) {
    const targets = valueRefs(sup, name);
    const propertyCtx = intoData(ctx, { kind: 'property', name });
    const at = { sub: subPropertyPath(views, set, name), sup: `${c.path}/properties/${escapePointer(name)}` };
    if (!targets) {
      reportUnproven(propertyCtx, at, samePhrase('cannot prove compatibility: a "patternProperties" pattern cannot be compiled'));
      continue;
    }
    const relevant = targets.filter((t) => !isTriviallyTrue(t));
    if (relevant.length === 0) continue;
    const own = subValueRefs(views, name);
    if (isProvablyEmpty(own)) continue; // the property can never be present
    // Undeclared on an open object, the property could hold any value: declaring it restricts that.
    const undeclared = !views.some((v) => v.properties.has(name)) && own.every(isTriviallyTrue);
    const origin = { path: at.sub, doc: set.doc };
    for (const target of relevant) {
      if (target.schema === false) reportPropertyRefused(at, propertyCtx);
      else if (!undeclared) subset(own, target, propertyCtx, origin);
      else if (trialRefs(own, target, propertyCtx, origin).length > 0) reportDeclaredOnOpenObject(at, propertyCtx);
    }
  }
}

function reportDeclaredOnOpenObject(at: Pointers, ctx: Ctx): void {
  report(ctx, at, {
    rule: 'property-added-to-open-object',
    inverse: 'property-removed-from-open-object',
    change: {
      narrow: 'was declared with a schema, but the earlier version accepted any value for it as an additional property',
      widen: 'is no longer declared, so any value is now accepted for it as an additional property',
    },
    witness: where(ctx.data, 'has a value its declared schema refuses'),
  });
}

function reportPropertyRefused(at: Pointers, ctx: Ctx): void {
  report(ctx, at, {
    rule: 'property-removed',
    inverse: 'property-added',
    change: { narrow: 'is no longer accepted', widen: 'is now accepted' },
    witness: 'data with it',
  });
}

/** Properties no `properties` entry names, governed by `patternProperties` and `additionalProperties`. */
function compareOtherProperties(set: SubSet, views: readonly ObjectView[], sup: ObjectView, c: SchemaRef, ctx: Ctx): void {
  const otherCtx = intoData(ctx, { kind: 'other' });
  const origin = { path: set.path, doc: set.doc };
  for (const pattern of sup.patterns) {
    if (isTriviallyTrue(pattern.ref)) continue;
    const at = { sub: `${set.path}/patternProperties/${escapePointer(pattern.source)}`, sup: pattern.ref.path };
    if (!pattern.regex) {
      reportUnproven(otherCtx, at, samePhrase(`cannot prove compatibility: the pattern "${pattern.source}" cannot be compiled`));
      continue;
    }
    const same = views.map((v) => v.patterns.find((p) => p.source === pattern.source)).find((p) => p !== undefined);
    // A name matching the pattern is governed by the same pattern on the sub side, or else by anything there.
    const attempts = same ? [[same.ref]] : views.map((v) => candidateValueRefs(v, []));
    if (attempts.some((refs) => refs.every((r) => trialRefs([r], pattern.ref, ctx, origin).length === 0))) continue;
    reportUnproven(otherCtx, at, unprovenPhrase((sub, supName) => `cannot prove that every property matching "${pattern.source}" valid under the ${sub} schema is valid under the ${supName} one`));
  }
  const additional = sup.additional;
  if (!additional || isTriviallyTrue(additional)) return;
  const supSources = sup.patterns.map((p) => p.source);
  const attempts = views.map((v) => candidateValueRefs(v, supSources));
  const results = attempts.map((refs) => refs.flatMap((r) => trialRefs([r], additional, otherCtx, origin)));
  if (results.some((found) => found.length === 0)) return;
  if (additional.schema === false) {
    reportAdditionalClosed(set, sup, c, ctx);
    return;
  }
  ctx.findings.push(...(results[0] ?? []));
}

/** Every schema that may govern a property no `properties` entry names, skipping patterns shared with sup. */
function candidateValueRefs(view: ObjectView, sharedSources: readonly string[]): SchemaRef[] {
  const patterns = view.patterns.filter((p) => !sharedSources.includes(p.source)).map((p) => p.ref);
  return [...patterns, view.additional ?? trueRef(view.ref.doc, `${view.ref.path}/additionalProperties`)];
}

function reportAdditionalClosed(set: SubSet, sup: ObjectView, c: SchemaRef, ctx: Ctx): void {
  const listed = [...sup.properties.keys()];
  const place = ctx.data.length === 0 ? '' : ` in "${displayData(ctx.data)}"`;
  report(ctx, keywordPointers(set, c, 'additionalProperties'), {
    rule: 'additional-properties-closed',
    inverse: 'additional-properties-opened',
    change: {
      narrow: listed.length > 0 ? `no longer accepts properties other than ${listed.map((n) => `"${n}"`).join(', ')}` : 'no longer accepts any property',
      widen: 'now accepts additional properties',
    },
    witness: `data with other properties${place}`,
  });
}

function compareRequired(set: SubSet, required: ReadonlySet<string>, sup: ObjectView, c: SchemaRef, ctx: Ctx): void {
  for (const name of sup.required) {
    if (required.has(name)) continue;
    report(ctx, keywordPointers(set, c, 'required'), {
      subject: subjectOf(withProperty(ctx.data, name)),
      rule: 'required-added',
      inverse: 'required-removed',
      change: { narrow: 'became required', widen: 'is no longer required' },
      witness: 'data without it',
    });
  }
}

function comparePropertyCounts(set: SubSet, views: readonly ObjectView[], required: ReadonlySet<string>, sup: ObjectView, c: SchemaRef, ctx: Ctx): void {
  const least = Math.max(required.size, ...views.map((v) => v.minProperties));
  if (least < sup.minProperties) {
    report(ctx, keywordPointers(set, c, 'minProperties'), {
      rule: 'min-properties-raised',
      inverse: 'min-properties-lowered',
      change: { narrow: `had its minProperties raised from ${least} to ${sup.minProperties}`, widen: `had its minProperties lowered from ${sup.minProperties} to ${least}` },
      witness: where(ctx.data, `has fewer than ${plural(sup.minProperties, 'property', 'properties')}`),
    });
  }
  if (sup.maxProperties === undefined) return;
  const most = Math.min(Number.POSITIVE_INFINITY, ...views.flatMap((v) => [v.maxProperties ?? Number.POSITIVE_INFINITY, closedCount(v)]));
  if (most <= sup.maxProperties) return;
  const finite = Number.isFinite(most);
  report(ctx, keywordPointers(set, c, 'maxProperties'), {
    rule: finite ? 'max-properties-lowered' : 'max-properties-added',
    inverse: finite ? 'max-properties-raised' : 'max-properties-removed',
    change: finite
      ? { narrow: `had its maxProperties lowered from ${most} to ${sup.maxProperties}`, widen: `had its maxProperties raised from ${sup.maxProperties} to ${most}` }
      : { narrow: `now has a maxProperties of ${sup.maxProperties}`, widen: `no longer has a maxProperties of ${sup.maxProperties}` },
    witness: where(ctx.data, `has more than ${plural(sup.maxProperties, 'property', 'properties')}`),
  });
}

/** How many properties a closed object can have at most (infinite when it is open). */
function closedCount(view: ObjectView): number {
  if (view.additional?.schema !== false || view.patterns.length > 0) return Number.POSITIVE_INFINITY;
  return [...view.properties.values()].filter((r) => r.schema !== false).length;
}

function comparePropertyNames(set: SubSet, views: readonly ObjectView[], sup: ObjectView, c: SchemaRef, ctx: Ctx): void {
  const target = sup.propertyNames;
  if (!target || isTriviallyTrue(target)) return;
  const nameCtx = intoData(ctx, { kind: 'name' });
  const origin = { path: set.path, doc: set.doc, typeMask: STRING };
  const viaNames = views.some((v) => v.propertyNames !== undefined && trialRefs([v.propertyNames], target, nameCtx, origin).length === 0);
  const viaClosedList = views.some((v) => Number.isFinite(closedCount(v))
    && [...v.properties].every(([name, ref]) => ref.schema === false || evaluate(target, name).kind === 'yes'));
  if (viaNames || viaClosedList) return;
  const at = keywordPointers(set, c, 'propertyNames');
  if (views.some((v) => v.propertyNames !== undefined)) {
    reportUnproven(ctx, at, unprovenPhrase((sub, supName) => `cannot prove that every property name the ${sub} schema accepts is accepted by the ${supName} one`));
    return;
  }
  report(ctx, at, {
    rule: 'property-names-added',
    inverse: 'property-names-removed',
    change: { narrow: 'now restricts property names', widen: 'no longer restricts property names' },
    witness: where(ctx.data, 'has a property name outside the restriction'),
  });
}

function compareDependencies(set: SubSet, views: readonly ObjectView[], required: ReadonlySet<string>, sup: ObjectView, c: SchemaRef, ctx: Ctx): void {
  const absent = (name: string): boolean => isProvablyEmpty(subValueRefs(views, name));
  for (const [trigger, dependents] of sup.dependentRequired) {
    if (absent(trigger)) continue;
    for (const dependent of dependents) {
      if (required.has(dependent) || views.some((v) => v.dependentRequired.get(trigger)?.includes(dependent))) continue;
      const name = hasKeyword(c, 'dependentRequired') ? 'dependentRequired' : 'dependencies';
      report(ctx, keywordPointers(set, c, name), {
        subject: subjectOf(withProperty(ctx.data, dependent)),
        rule: 'dependent-required-added',
        inverse: 'dependent-required-removed',
        change: { narrow: `became required when "${trigger}" is present`, widen: `is no longer required when "${trigger}" is present` },
        witness: `data with "${trigger}" but without it`,
      });
    }
  }
  for (const [trigger, targets] of sup.dependentSchemas) {
    if (absent(trigger)) continue;
    for (const target of targets) {
      if (isTriviallyTrue(target) || dependentSchemaHolds(set, views, trigger, target, ctx)) continue;
      reportUnproven(ctx, { sub: set.path, sup: target.path }, unprovenPhrase((sub, supName) =>
        `cannot prove that data with "${trigger}" valid under the ${sub} schema satisfies the ${supName} dependent schema`));
    }
  }
}

function dependentSchemaHolds(set: SubSet, views: readonly ObjectView[], trigger: string, target: SchemaRef, ctx: Ctx): boolean {
  const origin = { path: set.path, doc: set.doc, typeMask: set.typeMask & OBJECT };
  if (trial({ ...set, typeMask: set.typeMask & OBJECT }, target, ctx).length === 0) return true;
  return views.some((v) => (v.dependentSchemas.get(trigger) ?? []).some((own) =>
    trialRefs([...set.conj, own], target, ctx, origin).length === 0));
}

// --- composition ------------------------------------------------------------------------------

function compareComposition(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  for (const name of ['anyOf', 'oneOf'] as const) {
    const branches = keyword(c, name);
    if (branches === undefined) continue;
    if (!Array.isArray(branches) || branches.length === 0) {
      reportDoubts(set, c, [malformed(name)], ctx);
      continue;
    }
    const refs = branches.map((_, i) => childRef(c, name, i));
    for (const piece of splitByType(set)) compareAlternatives(piece, c, name, refs, ctx);
  }
  if (hasKeyword(c, 'not')) compareNot(set, c, ctx);
  if (hasKeyword(c, 'if')) compareConditional(set, c, ctx);
}

/** One part per basic type, so that `["string","null"]` can match `anyOf: [{string}, {null}]`. */
function splitByType(set: SubSet): SubSet[] {
  const mask = subTypes(set);
  const groups = TYPE_GROUPS.filter((g) => (g & mask) !== 0);
  return groups.length <= 1 ? [set] : groups.map((g) => ({ ...set, typeMask: set.typeMask & g }));
}

function compareAlternatives(piece: SubSet, c: SchemaRef, name: 'anyOf' | 'oneOf', refs: readonly SchemaRef[], ctx: Ctx): void {
  const results = refs.map((ref) => trial(piece, ref, ctx));
  const chosen = results.findIndex((found) => found.length === 0);
  if (chosen < 0) {
    reportNoBranch(piece, c, name, refs, results, ctx);
    return;
  }
  if (name === 'anyOf') return;
  const chosenRef = refs[chosen];
  const overlapping = refs.findIndex((ref, i) => i !== chosen && chosenRef !== undefined
    && !disjointFromRef(piece, ref, ctx) && !refsDisjoint(chosenRef, ref, ctx));
  if (overlapping < 0) return;
  reportUnproven(ctx, { sub: piece.path, sup: pointerTo(c, name) }, samePhrase(
    `cannot prove that data matches only one branch of "oneOf" (branches ${chosen} and ${overlapping} may overlap)`));
}

function reportNoBranch(piece: SubSet, c: SchemaRef, name: string, refs: readonly SchemaRef[], results: readonly Finding[][], ctx: Ctx): void {
  const pieceTypes = subTypes(piece);
  const candidates = refs.map((ref, i) => ({ ref, found: results[i] ?? [], types: overApproximateTypes(ref) }))
    .filter((entry) => (entry.types & pieceTypes) !== 0);
  if (candidates.length === 0) {
    reportTypeLoss(ctx, { sub: `${piece.path}/type`, sup: pointerTo(c, name) }, pieceTypes);
    return;
  }
  // Prefer branches the data can reach (a discriminator rules the others out).
  const reachable = candidates.filter((entry) => !disjointFromRef(piece, entry.ref, ctx));
  const pool = reachable.length > 0 ? reachable : candidates;
  const best = pool.reduce((a, b) => (b.found.length < a.found.length ? b : a));
  ctx.findings.push(...best.found);
}

function overApproximateTypes(ref: SchemaRef): number {
  return subSets([ref], { path: ref.path, doc: ref.doc }).reduce((mask, set) => mask | subTypes(set), 0);
}

function compareNot(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const excluded = childRef(c, 'not');
  if (disjointFromRef(set, excluded, ctx)) return;
  // Complements reverse inclusion: if sup's excluded set lies inside sub's, sub avoids it too.
  const origin = { path: excluded.path, doc: excluded.doc };
  if (set.nots.some((own) => trialRefs([excluded], own, ctx, origin).length === 0)) return;
  reportUnproven(ctx, { sub: set.path, sup: excluded.path }, unprovenPhrase((sub, sup) =>
    `cannot prove that no data valid under the ${sub} schema matches the ${sup} "not" schema`));
}

function compareConditional(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const condition = childRef(c, 'if');
  const branch = (name: string): SchemaRef | undefined => (hasKeyword(c, name) ? childRef(c, name) : undefined);
  const whenTrue = branch('then');
  const whenFalse = branch('else');
  const holds = (target: SchemaRef | undefined): boolean => !target || trial(set, target, ctx).length === 0;
  if (holds(whenTrue) && holds(whenFalse)) return;
  if (trial(set, condition, ctx).length === 0) {
    if (whenTrue) subsetOfSet(set, whenTrue, ctx);
    return;
  }
  if (disjointFromRef(set, condition, ctx)) {
    if (whenFalse) subsetOfSet(set, whenFalse, ctx);
    return;
  }
  reportUnproven(ctx, { sub: set.path, sup: condition.path }, samePhrase('cannot prove which branch of "if"/"then"/"else" applies'));
}

function compareUnknownKeywords(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  for (const name of ownKeys(c)) {
    if (KNOWN_KEYWORDS.has(name) || isAnnotation(name)) continue;
    const value = keyword(c, name);
    const matched = !REFERENCE_KEYWORDS.has(name) && !mentionsReference(value)
      && set.conj.some((own) => hasKeyword(own, name) && jsonEqual(keyword(own, name), value));
    if (matched) continue;
    reportUnproven(ctx, keywordPointers(set, c, name), samePhrase(`cannot prove compatibility: keyword "${name}" is not understood by the checker`));
  }
}

// ---------------------------------------------------------------------------------------------
// Disjointness (for oneOf, not, if/then/else)
// ---------------------------------------------------------------------------------------------

const DISJOINT_DEPTH = 6;

function disjointFromRef(set: SubSet, ref: SchemaRef, ctx: Ctx): boolean {
  return subSets([ref], { path: ref.path, doc: ref.doc }).every((other) => disjoint(set, other, ctx, 0));
}

function refsDisjoint(a: SchemaRef, b: SchemaRef, ctx: Ctx): boolean {
  const left = subSets([a], { path: a.path, doc: a.doc });
  return left.every((set) => disjointFromRef(set, b, ctx));
}

/** Sound: true only when no instance can be in both sets. */
function disjoint(a: SubSet, b: SubSet, ctx: Ctx, depth: number): boolean {
  if (depth > DISJOINT_DEPTH || !spend()) return false;
  const common = subTypes(a) & subTypes(b);
  if (common === 0) return true;
  if (valuesRefused(a, b) || valuesRefused(b, a)) return true;
  if (negationExcludes(a, b, ctx) || negationExcludes(b, a, ctx)) return true;
  if ((common & ~OBJECT) === 0 && objectsDisjoint(a, b, ctx, depth)) return true;
  if ((common & ~NUMBER) === 0 && rangesDisjoint(a, b, (common & FRACTION) === 0)) return true;
  if ((common & ~STRING) === 0 && lengthsDisjoint(a, b)) return true;
  return false;
}

function valuesRefused(finite: SubSet, other: SubSet): boolean {
  const values = finiteValues(finite);
  return values !== undefined && values.every((value) => !(typeOfValue(value) & subTypes(other))
    || other.conj.some((ref) => evaluate(ref, value).kind === 'no')
    || other.nots.some((ref) => evaluate(ref, value).kind === 'yes'));
}

function negationExcludes(withNots: SubSet, other: SubSet, ctx: Ctx): boolean {
  return withNots.nots.some((excluded) => trial(other, excluded, ctx).length === 0);
}

/** A shared required property whose values cannot agree, e.g. a `kind` discriminator. */
function objectsDisjoint(a: SubSet, b: SubSet, ctx: Ctx, depth: number): boolean {
  const viewsA = objectViews(a);
  const viewsB = objectViews(b);
  const requiredA = requiredNames(viewsA);
  const requiredB = requiredNames(viewsB);
  for (const name of new Set([...requiredA, ...requiredB])) {
    const valuesA = subValueRefs(viewsA, name);
    const valuesB = subValueRefs(viewsB, name);
    if (requiredA.has(name) && isProvablyEmpty(valuesB)) return true;
    if (requiredB.has(name) && isProvablyEmpty(valuesA)) return true;
    if (!requiredA.has(name) || !requiredB.has(name)) continue;
    const setsA = subSets(valuesA, { path: a.path, doc: a.doc });
    const setsB = subSets(valuesB, { path: b.path, doc: b.doc });
    if (setsA.every((x) => setsB.every((y) => disjoint(x, y, ctx, depth + 1)))) return true;
  }
  return false;
}

function rangesDisjoint(a: SubSet, b: SubSet, integersOnly: boolean): boolean {
  const below = (low: SubSet, high: SubSet): boolean => {
    const upper = subBound(low, 'upper', integersOnly);
    const lower = subBound(high, 'lower', integersOnly);
    if (!upper || !lower) return false;
    return upper.value < lower.value || (upper.value === lower.value && (upper.exclusive || lower.exclusive));
  };
  return below(a, b) || below(b, a);
}

function lengthsDisjoint(a: SubSet, b: SubSet): boolean {
  const ra = subLengthRange(a);
  const rb = subLengthRange(b);
  return (ra.max !== undefined && ra.max < rb.min) || (rb.max !== undefined && rb.max < ra.min);
}
