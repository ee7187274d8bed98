/** The submit and cancel buttons of an editor form: one submit, disabled while it runs, and Cancel when the form can be closed. */
export function FormActions({
  busy,
  label,
  onCancel,
}: {
  busy: boolean;
  label: string;
  onCancel?: (() => void) | undefined;
}) {
  return (
    <div class="actions">
      <button type="submit" disabled={busy}>
        {label}
      </button>
      {onCancel ? (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      ) : null}
    </div>
  );
}
