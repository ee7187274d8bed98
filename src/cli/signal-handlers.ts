/** SIGTERM and SIGINT for `rivulet serve`. */
import type { RunningServer } from '../runtime/server.js';

/**
 * The one place signals are handled: the first signal drains and closes, a second exits at once.
 * A close that has not ended by the server's deadline is given up on: the process exits 1 and
 * logs the step it was waiting for, so SIGTERM always ends the process.
 */
export function installSignalHandlers(
  server: Pick<RunningServer, 'close' | 'closingStep' | 'closeDeadlineMs'>,
  log: { info: (o: object, m: string) => void; error: (o: object, m: string) => void },
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.info({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down: draining requests and workers');
    // unref'd: a process with nothing left to wait for exits by itself
    setTimeout(() => {
      log.error(
        { step: server.closingStep(), deadlineMs: server.closeDeadlineMs },
        'shutdown did not finish in time: exiting',
      );
      process.exit(1);
    }, server.closeDeadlineMs).unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
