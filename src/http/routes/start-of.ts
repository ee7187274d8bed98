/** A seek or start body of the sinks and consumers APIs (`from` with `seq` or `time`) as a StartPosition. */
import { RivuletError } from '../../kernel/errors.js';
import { parseRfc3339 } from '../../core/events/event-fields.js';
import type { StartPosition } from '../../store/port.js';

export interface StartBody {
  from: 'beginning' | 'end' | 'seq' | 'time';
  seq?: number;
  time?: string;
}

export function startOf(body: StartBody): StartPosition {
  switch (body.from) {
    case 'beginning':
    case 'end':
      return { from: body.from };
    case 'seq':
      if (body.seq === undefined)
        throw new RivuletError('VALIDATION_FAILED', 'from=seq needs "seq"', { details: { pointer: '/seq' } });
      return { from: 'seq', seq: body.seq };
    case 'time': {
      const ms = body.time === undefined ? undefined : parseRfc3339(body.time);
      if (ms === undefined)
        throw new RivuletError('VALIDATION_FAILED', 'from=time needs "time" as an RFC 3339 timestamp', {
          details: { pointer: '/time' },
        });
      return { from: 'time', timeMs: ms };
    }
  }
}
