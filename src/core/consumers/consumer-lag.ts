/** A consumer's lag as the API shows it: the store's counts, and how long the oldest unacknowledged event has waited. */
import type { ConsumerLag } from '../../store/port.js';

export interface ConsumerLagView extends ConsumerLag {
  /** milliseconds since the oldest unacknowledged event was received */
  oldestUnackedAgeMs: number | null;
}
