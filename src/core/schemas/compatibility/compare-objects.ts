/**
 * Comparing object keywords: named, patterned and additional properties, `required`, property
 * counts, `propertyNames`, and dependencies.
 */

import { OBJECT, STRING } from './json.js';
import {
  displayData,
  plural,
  type Pointers,
  report,
  reportUnproven,
  samePhrase,
  subjectOf,
  unprovenPhrase,
  where,
  withProperty,
} from './findings.js';
import { escapePointer, hasKeyword, isTriviallyTrue, type SchemaRef, trueRef } from './documents.js';
import { type ObjectView, objectView, valueRefs } from './keyword-views.js';
import { evaluate } from './evaluate.js';
import type { SubSet } from './decompose.js';
import { isProvablyEmpty, objectViews, requiredNames, subPropertyPath, subValueRefs } from './sub-set-facts.js';
import { type Ctx, intoData, keywordPointers, reportDoubts, subset, trial, trialRefs } from './context.js';
import { compareCount } from './compare-limits.js';

export function compareObjects(set: SubSet, c: SchemaRef, ctx: Ctx): void {
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

function compareNamedProperties(
  set: SubSet,
  views: readonly ObjectView[],
  required: ReadonlySet<string>,
  sup: ObjectView,
  c: SchemaRef,
  ctx: Ctx,
): void {
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
      reportUnproven(
        propertyCtx,
        at,
        samePhrase('cannot prove compatibility: a "patternProperties" pattern cannot be compiled'),
      );
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
function compareOtherProperties(
  set: SubSet,
  views: readonly ObjectView[],
  sup: ObjectView,
  c: SchemaRef,
  ctx: Ctx,
): void {
  const otherCtx = intoData(ctx, { kind: 'other' });
  const origin = { path: set.path, doc: set.doc };
  for (const pattern of sup.patterns) {
    if (isTriviallyTrue(pattern.ref)) continue;
    const at = { sub: `${set.path}/patternProperties/${escapePointer(pattern.source)}`, sup: pattern.ref.path };
    if (!pattern.regex) {
      reportUnproven(
        otherCtx,
        at,
        samePhrase(`cannot prove compatibility: the pattern "${pattern.source}" cannot be compiled`),
      );
      continue;
    }
    const same = views.map((v) => v.patterns.find((p) => p.source === pattern.source)).find((p) => p !== undefined);
    // A name matching the pattern is governed by the same pattern on the sub side, or else by anything there.
    const attempts = same ? [[same.ref]] : views.map((v) => candidateValueRefs(v, []));
    if (attempts.some((refs) => refs.every((r) => trialRefs([r], pattern.ref, ctx, origin).length === 0))) continue;
    reportUnproven(
      otherCtx,
      at,
      unprovenPhrase(
        (sub, supName) =>
          `cannot prove that every property matching "${pattern.source}" valid under the ${sub} schema is valid under the ${supName} one`,
      ),
    );
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
      narrow:
        listed.length > 0
          ? `no longer accepts properties other than ${listed.map((n) => `"${n}"`).join(', ')}`
          : 'no longer accepts any property',
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

function comparePropertyCounts(
  set: SubSet,
  views: readonly ObjectView[],
  required: ReadonlySet<string>,
  sup: ObjectView,
  c: SchemaRef,
  ctx: Ctx,
): void {
  const least = Math.max(required.size, ...views.map((v) => v.minProperties));
  compareCount(
    ctx,
    keywordPointers(set, c, 'minProperties'),
    { name: 'minProperties', side: 'lower' },
    least,
    sup.minProperties,
    `has fewer than ${plural(sup.minProperties, 'property', 'properties')}`,
  );
  if (sup.maxProperties === undefined) return;
  const most = Math.min(
    Number.POSITIVE_INFINITY,
    ...views.flatMap((v) => [v.maxProperties ?? Number.POSITIVE_INFINITY, closedCount(v)]),
  );
  compareCount(
    ctx,
    keywordPointers(set, c, 'maxProperties'),
    { name: 'maxProperties', side: 'upper' },
    most,
    sup.maxProperties,
    `has more than ${plural(sup.maxProperties, 'property', 'properties')}`,
  );
}

/** How many properties a closed object can have at most (infinite when it is open). */
function closedCount(view: ObjectView): number {
  if (view.additional?.schema !== false || view.patterns.length > 0) return Number.POSITIVE_INFINITY;
  return [...view.properties.values()].filter((r) => r.schema !== false).length;
}

function comparePropertyNames(
  set: SubSet,
  views: readonly ObjectView[],
  sup: ObjectView,
  c: SchemaRef,
  ctx: Ctx,
): void {
  const target = sup.propertyNames;
  if (!target || isTriviallyTrue(target)) return;
  const nameCtx = intoData(ctx, { kind: 'name' });
  const origin = { path: set.path, doc: set.doc, typeMask: STRING };
  const viaNames = views.some(
    (v) => v.propertyNames !== undefined && trialRefs([v.propertyNames], target, nameCtx, origin).length === 0,
  );
  const viaClosedList = views.some(
    (v) =>
      Number.isFinite(closedCount(v)) &&
      [...v.properties].every(([name, ref]) => ref.schema === false || evaluate(target, name).kind === 'yes'),
  );
  if (viaNames || viaClosedList) return;
  const at = keywordPointers(set, c, 'propertyNames');
  if (views.some((v) => v.propertyNames !== undefined)) {
    reportUnproven(
      ctx,
      at,
      unprovenPhrase(
        (sub, supName) =>
          `cannot prove that every property name the ${sub} schema accepts is accepted by the ${supName} one`,
      ),
    );
    return;
  }
  report(ctx, at, {
    rule: 'property-names-added',
    inverse: 'property-names-removed',
    change: { narrow: 'now restricts property names', widen: 'no longer restricts property names' },
    witness: where(ctx.data, 'has a property name outside the restriction'),
  });
}

function compareDependencies(
  set: SubSet,
  views: readonly ObjectView[],
  required: ReadonlySet<string>,
  sup: ObjectView,
  c: SchemaRef,
  ctx: Ctx,
): void {
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
        change: {
          narrow: `became required when "${trigger}" is present`,
          widen: `is no longer required when "${trigger}" is present`,
        },
        witness: `data with "${trigger}" but without it`,
      });
    }
  }
  for (const [trigger, targets] of sup.dependentSchemas) {
    if (absent(trigger)) continue;
    for (const target of targets) {
      if (isTriviallyTrue(target) || dependentSchemaHolds(set, views, trigger, target, ctx)) continue;
      reportUnproven(
        ctx,
        { sub: set.path, sup: target.path },
        unprovenPhrase(
          (sub, supName) =>
            `cannot prove that data with "${trigger}" valid under the ${sub} schema satisfies the ${supName} dependent schema`,
        ),
      );
    }
  }
}

function dependentSchemaHolds(
  set: SubSet,
  views: readonly ObjectView[],
  trigger: string,
  target: SchemaRef,
  ctx: Ctx,
): boolean {
  const origin = { path: set.path, doc: set.doc, typeMask: set.typeMask & OBJECT };
  if (trial({ ...set, typeMask: set.typeMask & OBJECT }, target, ctx).length === 0) return true;
  return views.some((v) =>
    (v.dependentSchemas.get(trigger) ?? []).some(
      (own) => trialRefs([...set.conj, own], target, ctx, origin).length === 0,
    ),
  );
}
