/**
 * Taking schemas apart: the sup side into a conjunction (following `$ref` and `allOf`), the
 * sub side into a union of conjunctions with negations (`anyOf`, `oneOf`, `if`/`then`/`else`).
 */

import { ALL_TYPES, asRecord, spend } from './json.js';
import { showValue } from './findings.js';
import {
  childRef,
  type Doc,
  type Draft,
  hasKeyword,
  isAnnotation,
  keyword,
  omitting,
  ownKeys,
  refKey,
  resolveRef,
  type SchemaRef,
} from './documents.js';
import { malformed, type Side } from './keyword-views.js';

export interface Flattened {
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
      else if (side === 'sup')
        out.unresolved.push({
          ref,
          keyword: '$ref',
          reason: `reference ${showValue(target)} cannot be resolved within the document`,
        });
      if (!siblingsOfRefApply(ref.doc.draft, side)) return;
    }
    if (carriesConstraints(ref) && !out.conj.some((c) => refKey(c) === key)) out.conj.push(ref);
    const allOf = keyword(ref, 'allOf');
    if (Array.isArray(allOf)) allOf.forEach((_, i) => flattenInto(childRef(ref, 'allOf', i), side, out, active));
    else if (allOf !== undefined && side === 'sup')
      out.unresolved.push({ ref, keyword: 'allOf', reason: malformed('allOf').reason });
    if (side === 'sub' && hasKeyword(ref, 'not')) out.nots.push(childRef(ref, 'not'));
  } finally {
    active.delete(key);
  }
}

/** Anything besides annotations and the `$ref`/`allOf` already taken apart. */
function carriesConstraints(ref: SchemaRef): boolean {
  return ownKeys(ref).some((k) => !isAnnotation(k) && k !== '$ref' && k !== 'allOf');
}

export function flattenSup(ref: SchemaRef): Flattened {
  const out = newFlattened();
  flattenInto(ref, 'sup', out, new Set());
  return out;
}

/** One disjunct of the sub side: the data valid under every `conj`, under no `nots`, of a type in `typeMask`. */
export interface SubSet {
  readonly conj: readonly SchemaRef[];
  readonly nots: readonly SchemaRef[];
  readonly typeMask: number;
  readonly path: string;
  readonly doc: Doc;
}

export interface Origin {
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
export function subSets(refs: readonly SchemaRef[], origin: Origin): SubSet[] {
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
    expandDisjunctions(
      { ...set, conj: [rest, ...others, ...flat.conj], nots: [...set.nots, ...flat.nots, ...negated] },
      out,
      depth + 1,
    );
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

export function setKey(set: SubSet): string {
  let key = setKeys.get(set);
  if (key === undefined) {
    const conj = set.conj.map(refKey).sort().join('&');
    const nots = set.nots.map(refKey).sort().join('&');
    key = `${conj}~${nots}~${set.typeMask}`;
    setKeys.set(set, key);
  }
  return key;
}
