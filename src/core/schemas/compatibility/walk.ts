/**
 * The subset walk: is every instance of the sub side valid under sup? The sub side is split
 * into disjuncts, sup into conjuncts, and each conjunct is compared keyword family by family.
 */

import {
  ALL_TYPES,
  ARRAY,
  FRACTION,
  jsonEqual,
  type JsonSchema,
  NUMBER,
  OBJECT,
  spend,
  STRING,
  withWorkBudget,
} from './json.js';
import { dedupe, type Finding, report, reportUnproven, samePhrase, where } from './findings.js';
import {
  hasKeyword,
  isAnnotation,
  isTriviallyTrue,
  keyword,
  KNOWN_KEYWORDS,
  makeDoc,
  mentionsReference,
  ownKeys,
  pointerTo,
  REFERENCE_KEYWORDS,
  refKey,
  type SchemaRef,
} from './documents.js';
import { malformed } from './keyword-views.js';
import { evaluate } from './evaluate.js';
import { type Flattened, flattenSup, type Origin, setKey, type SubSet, subSets } from './decompose.js';
import { declaredTypes, finiteValues, isEmptySet, subTypes } from './sub-set-facts.js';
import { type Ctx, keywordPointers, type Walker } from './context.js';
import { compareEnum, compareTypes, reportRefusedValues } from './compare-values.js';
import { compareFormat, compareNumbers, compareStrings } from './compare-scalars.js';
import { compareArrays } from './compare-arrays.js';
import { compareObjects } from './compare-objects.js';
import { compareComposition } from './compare-composition.js';

const NESTING_LIMIT = 150;

export function analyse(sub: JsonSchema, sup: JsonSchema): Finding[] {
  if (jsonEqual(sub, sup)) return [];
  return withWorkBudget(() => analyseWithin(sub, sup));
}

const WALKER: Walker = { subset: walkRefs, subsetOfSet: walkSet };

function analyseWithin(sub: JsonSchema, sup: JsonSchema): Finding[] {
  const subDoc = makeDoc(sub);
  const supDoc = makeDoc(sup);
  const ctx: Ctx = { shared: { nesting: 0, active: new Map(), walker: WALKER }, findings: [], data: [], depth: 0 };
  walkRefs([{ schema: sub, doc: subDoc, path: '' }], { schema: sup, doc: supDoc, path: '' }, ctx, {
    path: '',
    doc: subDoc,
  });
  return dedupe(ctx.findings);
}

/** Reports why the data of all `subRefs` together is not proven to be valid under `sup`. */
function walkRefs(subRefs: readonly SchemaRef[], sup: SchemaRef, ctx: Ctx, origin: Origin): void {
  if (isTriviallyTrue(sup)) return;
  if (isSameSchema(subRefs, sup, origin)) return;
  for (const set of subSets(subRefs, origin)) walkSet(set, sup, ctx);
}

/** Identical text with no references inside means identical meaning. */
function isSameSchema(subRefs: readonly SchemaRef[], sup: SchemaRef, origin: Origin): boolean {
  const [only] = subRefs;
  return (
    subRefs.length === 1 &&
    !!only &&
    !only.omit &&
    !sup.omit &&
    origin.typeMask === undefined &&
    only.doc.draft === sup.doc.draft &&
    jsonEqual(only.schema, sup.schema) &&
    !mentionsReference(sup.schema)
  );
}

const TOO_COMPLEX: Finding = {
  subPtr: '',
  supPtr: '',
  rule: 'unprovable',
  inverse: 'unprovable',
  subject: 'the schema',
  unproven: samePhrase('cannot prove compatibility: the schemas are too complex to compare within the work budget'),
};

function walkSet(set: SubSet, sup: SchemaRef, ctx: Ctx): void {
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
    reportUnproven(
      ctx,
      { sub: set.path, sup: pointerTo(problem.ref, problem.keyword) },
      samePhrase(`cannot prove compatibility: ${problem.reason}`),
    );
  }
  for (const conjunct of flat.conj) {
    if (conjunct.schema === false) {
      report(
        ctx,
        { sub: set.path, sup: conjunct.path },
        {
          rule: 'schema-closed',
          inverse: 'schema-opened',
          change: { narrow: 'now refuses all data', widen: 'now accepts data the earlier schema refused entirely' },
          witness: where(ctx.data, 'exists at all'),
        },
      );
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

function compareConjunct(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const subMask = subTypes(set);
  const supMask = declaredTypes(c, 'sup');
  if (supMask === undefined)
    reportUnproven(
      ctx,
      { sub: set.path, sup: pointerTo(c, 'type') },
      samePhrase(`cannot prove compatibility: ${malformed('type').reason}`),
    );
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

function compareUnknownKeywords(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  for (const name of ownKeys(c)) {
    if (KNOWN_KEYWORDS.has(name) || isAnnotation(name)) continue;
    const value = keyword(c, name);
    const matched =
      !REFERENCE_KEYWORDS.has(name) &&
      !mentionsReference(value) &&
      set.conj.some((own) => hasKeyword(own, name) && jsonEqual(keyword(own, name), value));
    if (matched) continue;
    reportUnproven(
      ctx,
      keywordPointers(set, c, name),
      samePhrase(`cannot prove compatibility: keyword "${name}" is not understood by the checker`),
    );
  }
}
