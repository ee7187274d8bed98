/**
 * The storage port's shapes a dialect may be handed or given back, named through core so that
 * a dialect depends on core alone (lint keeps dialects out of `store/`): records, start
 * positions, and the narrow parts of a store the runtime hands a dialect (its documents, the
 * stream catalog, the event log) in place of the whole store.
 */
export type {
  DocumentStore,
  EventDataPage,
  EventLog,
  StartPosition,
  StreamCatalog,
  StreamRecord,
} from '../store/port.js';
