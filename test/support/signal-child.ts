/**
 * A process with `rivulet serve`'s signal handlers around a stand-in server whose close either
 * ends (`ends`) or never does (`hangs`), for test/unit/signal-handlers.unit.test.ts. It prints
 * `ready` once the handlers are in place, and each log line as JSON.
 */
import { installSignalHandlers } from '../../src/cli/signal-handlers.js';

const hangs = process.argv[2] === 'hangs';
const print = (level: string) => (o: object, msg: string) =>
  process.stdout.write(`${JSON.stringify({ level, ...o, msg })}\n`);
// something referenced, as a stalled close leaves behind: the process cannot end by itself
setInterval(() => {}, 1000);
installSignalHandlers(
  {
    close: () => (hangs ? new Promise<void>(() => {}) : Promise.resolve()),
    closingStep: () => (hangs ? 'sinks' : null),
    closeDeadlineMs: 300,
  },
  { info: print('info'), error: print('error') },
);
process.stdout.write('ready\n');
