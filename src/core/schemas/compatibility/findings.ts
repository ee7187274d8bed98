/**
 * Findings: what the comparison could not prove, with the sentences that explain it in both
 * directions (a narrowing when the later schema is sup, a widening when it is sub).
 */

/** Text for both readings of a finding: `narrow` when sup is the later schema, `widen` when sub is. */
interface Phrase {
  readonly narrow: string;
  readonly widen: string;
}

export interface Finding {
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

export interface Pointers {
  readonly sub: string;
  readonly sup: string;
}

export function render(finding: Finding, voice: keyof Phrase, outcome: string): string {
  const rule = voice === 'narrow' ? finding.rule : finding.inverse;
  if (!finding.change)
    return `${finding.subject}: ${finding.unproven?.[voice] ?? 'cannot prove compatibility'} (${rule})`;
  const head = `${finding.subject} ${finding.change[voice]} (${rule})`;
  if (finding.unproven) return `${head} — ${finding.unproven[voice]}`;
  return `${head} — ${finding.witness ?? 'some data'}, ${outcome}`;
}

export function samePhrase(text: string): Phrase {
  return { narrow: text, widen: text };
}

/** A reason naming both schemas: `sub` is the earlier one when narrowing, the new one when widening. */
export function unprovenPhrase(describe: (sub: string, sup: string) => string): Phrase {
  return { narrow: describe('earlier', 'new'), widen: describe('new', 'earlier') };
}

export type DataSeg =
  | { readonly kind: 'property'; readonly name: string }
  | { readonly kind: 'item'; readonly index: number | undefined }
  | { readonly kind: 'other' }
  | { readonly kind: 'name' };

export function displayData(data: readonly DataSeg[]): string {
  let out = '';
  for (const seg of data) {
    if (seg.kind === 'property') out += out === '' ? seg.name : `/${seg.name}`;
    else if (seg.kind === 'item') out += `[${seg.index ?? ''}]`;
    else if (seg.kind === 'other') out += out === '' ? '*' : '/*';
    else out += '{name}';
  }
  return out;
}

export function subjectOf(data: readonly DataSeg[]): string {
  const last = data.at(-1);
  if (!last) return 'the data';
  return last.kind === 'property' ? `property "${displayData(data)}"` : `"${displayData(data)}"`;
}

/** "data where "price" is null", or "data that is null" at the root. */
export function where(data: readonly DataSeg[], predicate: string): string {
  return data.length === 0 ? `data that ${predicate}` : `data where "${displayData(data)}" ${predicate}`;
}

export function withProperty(data: readonly DataSeg[], name: string): readonly DataSeg[] {
  return [...data, { kind: 'property', name }];
}

/** Where findings are collected, and the place in the data they are about. */
export interface Trail {
  readonly findings: Finding[];
  readonly data: readonly DataSeg[];
}

export function report(
  ctx: Trail,
  at: Pointers,
  finding: Omit<Finding, 'subPtr' | 'supPtr' | 'subject'> & { subject?: string },
): void {
  ctx.findings.push({ ...finding, subject: finding.subject ?? subjectOf(ctx.data), subPtr: at.sub, supPtr: at.sup });
}

export function reportUnproven(ctx: Trail, at: Pointers, reason: Phrase): void {
  report(ctx, at, { rule: 'unprovable', inverse: 'unprovable', unproven: reason });
}

export function plural(count: number, word: string, words = `${word}s`): string {
  return `${count} ${count === 1 ? word : words}`;
}

export function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = [f.subPtr, f.supPtr, f.rule, render(f, 'narrow', ''), render(f, 'widen', '')].join('\u0000');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
