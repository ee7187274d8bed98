/**
 * The public face of the compatibility checker: the modes, the reports, and the checks that
 * run the subset analysis in the directions a mode asks for.
 */

import type { JsonSchema } from './json.js';
import { type Finding, render } from './findings.js';
import { analyse } from './walk.js';

export type { JsonSchema } from './json.js';

export type CompatibilityMode =
  'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

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
