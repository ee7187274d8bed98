import type { SinkStatus } from '../api';

const TITLES: Record<SinkStatus, string> = {
  running: 'delivering',
  paused: 'paused: the position is kept',
  waiting: 'a source stream does not exist yet; delivery starts on it once it is created',
  failing: 'the latest attempt failed after the latest success',
  stopped: 'running, but no server process holds the sink',
};

export function SinkStatusBadge({ status }: { status: SinkStatus }) {
  return (
    <span class={`status sink-status status-${status}`} data-sink-status={status} title={TITLES[status]}>
      {status}
    </span>
  );
}
