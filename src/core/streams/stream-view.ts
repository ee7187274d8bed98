/** A stream as the API shows it: its record and its counts. Types only, so the console can follow it. */
import type { StreamRecord, StreamStats } from '../../store/port.js';

export interface StreamView extends StreamRecord {
  stats: StreamStats;
}
