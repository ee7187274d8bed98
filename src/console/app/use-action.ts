/** One action of a page (a POST, PATCH or DELETE): busy while it runs, its error kept for an ErrorNote. */
import { useState } from 'preact/hooks';

export interface Action {
  busy: boolean;
  error: Error | undefined;
  /** runs `work`; answers its result, or undefined when it failed (the error is kept) */
  run<T>(work: () => Promise<T>): Promise<T | undefined>;
  clear(): void;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  return {
    busy,
    error,
    async run(work) {
      setBusy(true);
      setError(undefined);
      try {
        return await work();
      } catch (err) {
        setError(err as Error);
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    clear: () => setError(undefined),
  };
}
