/**
 * The scheduler of `meta.schedule`: every `everyMs` it runs the scheduled check of each
 * dataset (SpecService.scheduledCheck), which re-applies the latest revision when its
 * schedule is due and the world drifted from it. Every process runs one; a due check is
 * claimed on the dataset document, so one process does each.
 */
import type { ApplierLog } from './spec-applier.js';
import type { ScheduledCheck, SpecService } from './spec-service.js';

/** how often datasets are looked at: a schedule (at least a minute) fires within this of being due */
export const SCHEDULE_CHECK_MS = 30_000;

export class SpecScheduler {
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly specs: SpecService,
    private readonly log: ApplierLog,
    private readonly everyMs = SCHEDULE_CHECK_MS,
  ) {}

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      this.pass = this.pass.then(() => this.checkAll());
    }, this.everyMs);
    this.timer.unref();
  }

  /** one pass over every dataset; answers what each check found (a failed check is logged and skipped) */
  async checkAll(): Promise<{ dataset: string; check: ScheduledCheck }[]> {
    const found: { dataset: string; check: ScheduledCheck }[] = [];
    let datasets;
    try {
      datasets = await this.specs.revisions.datasets();
    } catch (err) {
      this.log.error({ err }, 'could not list spec datasets for their schedules');
      return found;
    }
    for (const doc of datasets) {
      if (this.closed) break;
      const { owner, dataset } = doc;
      const id = `${owner}/${dataset}`;
      try {
        const check = await this.specs.scheduledCheck(owner, dataset, doc);
        if (check.outcome === 'queued')
          this.log.info(
            { dataset: id, revision: check.revision.id },
            'the world drifted from a scheduled spec: its latest revision is applied again',
          );
        found.push({ dataset: id, check });
      } catch (err) {
        this.log.error({ err, dataset: id }, 'the scheduled check of a spec failed');
      }
    }
    return found;
  }

  /** stops the timer and waits for a pass in flight */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pass;
  }
}
