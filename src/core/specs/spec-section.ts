/**
 * A top-level spec section Rivulet keeps but does not apply itself: a dialect's own part of a
 * spec, such as the specstore's Flow-Spec `inputs`, `processing` and `outputs`. The section is
 * stored with the revision as uploaded; its handler checks it and answers the pipelines it
 * declares, which external runners report on as they do on the `external` section's. The
 * composition root hands the sections to the spec service (`CoreOptions.specSections`), so the
 * core knows none of them by name.
 */
import type { JsonValue } from '../../kernel/envelope.js';

export interface SectionPipeline {
  /** unique within the section: the pipeline's id is `<revision id>/<section>/<key>` */
  key: string;
  title: string;
}

export interface SpecSection {
  /** the top-level field: `outputs` */
  readonly section: string;
  /**
   * Checks the section's value (SPEC_INVALID naming a pointer under `/<section>`) and answers
   * the pipelines it declares, in order; none for a section that is only kept.
   */
  pipelines(value: unknown): SectionPipeline[];
  /** Optional: the section as answers show it, secrets replaced. */
  shown?(value: JsonValue): JsonValue;
}
