import type { PipelineStatus } from '../api';

export function PipelineState({ state }: { state: PipelineStatus }) {
  return (
    <span class={`status state-${state.toLowerCase()}`} data-state={state}>
      {state}
    </span>
  );
}
