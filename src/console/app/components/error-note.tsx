import type { ApiError } from '../api';

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const code = (error as ApiError).code;
  return (
    <p class="error" role="alert">
      {code ? <code>{code}</code> : null} {error.message}
    </p>
  );
}
