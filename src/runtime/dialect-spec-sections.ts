/**
 * The spec sections the dialects add to the core's spec model, handed to the spec service
 * when the services are built: the specstore's Flow-Spec (`inputs`, `processing`, `outputs`).
 */
import type { SpecSection } from '../core/specs/spec-section.js';
import { FLOW_SPEC_SECTIONS } from '../dialects/specstore/flow-spec.js';

export const DIALECT_SPEC_SECTIONS: readonly SpecSection[] = [...FLOW_SPEC_SECTIONS];
