/**
 * How an okdata stream (dataset id, version) maps to Rivulet streams:
 *   okdata.{dataset}.raw.{version}        where posted events land
 *   okdata.{dataset}.processed.{version}  what sinks, history and live subscribers read;
 *                                          it carries the okdata settings in `options.okdata`
 * Dataset ids are `[a-z0-9-]` (no dots), so the name splits back unambiguously; versions are
 * `[A-Za-z0-9_-]`, which keeps both names valid stream names (see stream-name.ts).
 */
import { RivuletError } from '../../kernel/errors.js';

export const DATASET_ID = /^[a-z0-9-]{3,70}$/;
export const VERSION = /^[A-Za-z0-9_-]{1,50}$/;

export interface OkdataId {
  dataset: string;
  version: string;
}

export function assertOkdataId(id: OkdataId): void {
  if (!DATASET_ID.test(id.dataset)) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `dataset id "${id.dataset.slice(0, 80)}" must be 3–70 of a-z, 0-9 and "-"`,
      { details: { pointer: '/dataset_id' } },
    );
  }
  if (!VERSION.test(id.version)) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `version "${id.version.slice(0, 60)}" must be 1–50 of letters, digits, "_" and "-"`,
      { details: { pointer: '/version' } },
    );
  }
}

/** `dataset/version`, as okdata names a stream in its answers */
export function okdataLabel(id: OkdataId): string {
  return `${id.dataset}/${id.version}`;
}

export function rawStreamName(id: OkdataId): string {
  return `okdata.${id.dataset}.raw.${id.version}`;
}

export function processedStreamName(id: OkdataId): string {
  return `okdata.${id.dataset}.processed.${id.version}`;
}
