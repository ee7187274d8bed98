/** A refused request's error shown beside the field its `pointer` names; elsewhere as a note. */
import { ErrorNote } from './error-note';

/** the error when it points at or under `pointer` */
export function errorAt(error: Error | undefined, pointer: string): Error | undefined {
  // an ApiError's problem pointer, or a form's own check
  const at = (error as { pointer?: unknown } | undefined)?.pointer;
  if (typeof at !== 'string') return undefined;
  return at !== undefined && (at === pointer || at.startsWith(`${pointer}/`)) ? error : undefined;
}

export function FieldError({ error, pointer }: { error: Error | undefined; pointer: string }) {
  const at = errorAt(error, pointer);
  return at ? (
    <p class="field-error" role="alert" data-pointer={pointer}>
      {at.message}
    </p>
  ) : null;
}

/** the error unless one of `pointers` shows it beside its field */
export function OtherError({ error, pointers }: { error: Error | undefined; pointers: string[] }) {
  return pointers.some((p) => errorAt(error, p)) ? null : <ErrorNote error={error} />;
}
