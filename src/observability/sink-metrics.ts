/**
 * What the delivery engine reports about sinks, as an interface with no metrics library
 * behind it: the engine imports this file only, and the composition root hands it the
 * Prometheus-backed recorder (see `createMetrics().sinks`), or `NO_SINK_METRICS`.
 */

export interface SinkMetricsRecorder {
  /** an attempt delivered `events` events to the sink's target */
  delivered(sink: string, events: number, durationMs: number): void;
  /** an attempt failed; `reason` is a short, bounded word (e.g. `timeout`, `http_503`, `network`) */
  failed(sink: string, reason: string): void;
  /** a failed attempt was scheduled again */
  retried(sink: string): void;
  /** events given up on and written to the dead-letter stream */
  deadLettered(sink: string, events: number): void;
}

export const NO_SINK_METRICS: SinkMetricsRecorder = {
  delivered: () => {},
  failed: () => {},
  retried: () => {},
  deadLettered: () => {},
};
