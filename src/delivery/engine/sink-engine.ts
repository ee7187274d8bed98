/**
 * The delivery engine: finds the sinks that should run, claims each through an ownership
 * lease so exactly one process delivers it, and runs a SinkRunner per claimed sink. It
 * rescans on a timer (changes made by other processes, leases of dead ones) and at once on
 * changes made in this process. Counters and the attempt log are flushed periodically.
 *
 * Processes sharing a store split the sinks: each registers in `sink-engines` and holds at
 * most its share, ceil(running sinks ÷ live engines). A process that joins lowers everyone's
 * share, and the others give up their extras (after their in-flight attempts, as a pause
 * does); one that leaves raises it, and the others take its sinks over. A store only one
 * process opens (SQLite) keeps no registry.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CoreServices } from '../../core/services.js';
import type { Store } from '../../store/port.js';
import type { SinkRecord } from '../../core/sinks/sink-model.js';
import type { StoredDocument } from '../../store/port.js';
import type { TargetRegistry } from '../targets/registry.js';
import type { TargetDeps } from '../targets/target.js';
import { AttemptLog } from './attempt-log.js';
import type { SinkMetricsRecorder } from '../../observability/sink-metrics.js';
import { EnginePresence, preference } from './engine-presence.js';
import { OwnerLeases } from './owner-lease.js';
import { StatsRecorder } from './sink-stats.js';
import { SinkRunner, deliveryFingerprint } from './sink-runner.js';

export interface SinkEngineOptions {
  /** how long an ownership lease lasts without renewal (another process takes over after it) */
  ownerLeaseMs: number;
  /** how often the sinks are rescanned and leases renewed */
  scanIntervalMs: number;
  /** how often an idle source looks for events the store did not announce (other processes, nack delays) */
  idlePollMs: number;
  /** how often counters and the attempt log are written */
  flushIntervalMs: number;
  /** how long close() lets an in-flight attempt run before cutting it */
  closeGraceMs: number;
  /** this process's name in leases; random by default */
  holder?: string;
  /** where deliveries, failures, retries and dead letters are reported (`/metrics`) */
  metrics?: SinkMetricsRecorder;
}

export const DEFAULT_ENGINE_OPTIONS: Readonly<SinkEngineOptions> = Object.freeze({
  ownerLeaseMs: 15_000,
  scanIntervalMs: 2_000,
  idlePollMs: 250,
  flushIntervalMs: 1_000,
  closeGraceMs: 5_000,
});

export class SinkEngine {
  readonly holder: string;
  private readonly options: SinkEngineOptions;
  private readonly leases: OwnerLeases;
  /** none on a store only one process opens: there is no one to share with, and no write to pay for at every scan */
  private readonly presence: EnginePresence | null;
  /** how many sinks this process may hold: its fair share, from the last scan */
  private share = Number.POSITIVE_INFINITY;
  private readonly stats: StatsRecorder;
  private readonly attempts: AttemptLog;
  private readonly runners = new Map<string, { runner: SinkRunner; version: number; claimedAt: number }>();
  /** sinks whose runner could not be built, by version: not tried again until they change */
  private readonly broken = new Map<string, number>();
  private scanTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private unsubscribe: (() => void)[] = [];
  private closing: Promise<void> | null = null;
  private started = false;

  constructor(
    private readonly services: CoreServices,
    /** the owner leases, presence and stats documents, and the event log's change watch */
    private readonly store: Pick<Store, 'capabilities' | 'documents' | 'events'>,
    private readonly registry: TargetRegistry,
    private readonly targetDeps: TargetDeps,
    private readonly log: Logger,
    options: Partial<SinkEngineOptions> = {},
  ) {
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    // a lease must be renewed well before it ends, whatever the scan interval: scan (and so
    // renew) at least every quarter lease, so a late scan or two still leaves the lease held
    this.options.scanIntervalMs = Math.max(
      1,
      Math.min(this.options.scanIntervalMs, Math.floor(this.options.ownerLeaseMs / 4)),
    );
    this.holder = this.options.holder ?? `rivulet-${randomUUID().slice(0, 8)}`;
    this.leases = new OwnerLeases(store.documents, this.holder, this.options.ownerLeaseMs);
    this.presence = store.capabilities.multiProcess
      ? new EnginePresence(store.documents, this.holder, this.options.ownerLeaseMs)
      : null;
    this.stats = new StatsRecorder(store.documents, services.sinkRates, this.options.metrics);
    this.attempts = new AttemptLog(services.streams, services.produce);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe.push(this.services.sinks.onChange(() => this.scanSoon()));
    this.unsubscribe.push(
      this.store.events.watch((stream) => {
        for (const { runner } of this.runners.values()) runner.notify(stream);
      }),
    );
    this.scanTimer = setInterval(() => {
      // checked on the timer, not in the scan, so a scan stuck on an unreachable store cannot delay it
      void this.fence();
      this.scanSoon();
    }, this.options.scanIntervalMs);
    this.flushTimer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.scanSoon();
  }

  /** the sinks this process delivers now */
  owned(): string[] {
    return [...this.runners.keys()];
  }

  /** stops every sink after its in-flight attempt, gives the leases up, writes what is pending */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.scanTimer) clearInterval(this.scanTimer);
      if (this.flushTimer) clearInterval(this.flushTimer);
      for (const u of this.unsubscribe.splice(0)) u();
      await this.scanning;
      await Promise.all([...this.runners.keys()].map((id) => this.stopRunner(id)));
      await this.presence?.leave();
      await this.flush();
    })();
    return this.closing;
  }

  private scanSoon(): void {
    if (this.closing) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = (async () => {
      do {
        this.rescan = false;
        try {
          await this.scan();
        } catch (err) {
          this.log.warn({ err }, 'sink scan failed');
        }
      } while (this.rescan && !this.closing);
    })().finally(() => {
      this.scanning = null;
    });
  }

  private async scan(): Promise<void> {
    const docs: StoredDocument<SinkRecord>[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.services.sinks.listRecords({ after, limit: 500 });
      docs.push(...page);
      if (page.length < 500) break;
      after = page[page.length - 1]!.key;
    }
    const engines = this.presence ? await this.presence.beat() : 1;
    const runnable = docs.filter((d) => d.value.state === 'running' && this.broken.get(d.key) !== d.version).length;
    this.share = Math.max(1, Math.ceil(runnable / engines));
    const rank = (id: string) => preference(this.holder, id);
    // the sinks held here are renewed first, so a full share never skips a renewal
    docs.sort((a, b) => Number(this.runners.has(b.key)) - Number(this.runners.has(a.key)) || rank(a.key) - rank(b.key));
    const seen = new Set<string>();
    for (const doc of docs) {
      seen.add(doc.key);
      await this.reconcile(doc);
    }
    for (const id of [...this.runners.keys()]) {
      if (!seen.has(id)) {
        await this.stopRunner(id);
        this.stats.forget(id);
      }
    }
    // more than the share (another process joined): give up the ones ranked last; their
    // leases are released only after the in-flight attempts end, so no event goes out twice
    const extras = [...this.runners.keys()]
      .sort((a, b) => rank(b) - rank(a))
      .slice(0, Math.max(0, this.runners.size - this.share));
    if (extras.length > 0)
      this.log.info({ sinks: extras, share: this.share, engines }, 'giving sinks up to other processes');
    await Promise.all(extras.map((id) => this.stopRunner(id)));
  }

  /**
   * Stops delivering what this process could not renew in time (the store was unreachable,
   * the event loop stalled): once its lease has run out another process may take the sink,
   * and two must not deliver it at once. The lease is not released: it is no longer ours.
   */
  private async fence(): Promise<void> {
    const now = Date.now();
    for (const [id, entry] of [...this.runners]) {
      if (now - entry.claimedAt >= this.options.ownerLeaseMs) {
        this.log.warn({ sink: id }, 'sink ownership lease ran out before it was renewed; stopping delivery here');
        await this.stopRunner(id, false);
      }
    }
  }

  private async reconcile(doc: StoredDocument<SinkRecord>): Promise<void> {
    const sink = doc.value;
    const current = this.runners.get(sink.id);
    if (this.closing) return;
    if (sink.state !== 'running') {
      if (current) await this.stopRunner(sink.id);
      return;
    }
    if (current && current.version !== doc.version) {
      if (current.runner.fingerprint === deliveryFingerprint(sink)) {
        current.runner.syncJobs(sink);
        current.version = doc.version;
      } else {
        await this.stopRunner(sink.id);
      }
    }
    if (this.broken.get(sink.id) === doc.version) return;
    const now = Date.now();
    const running = this.runners.get(sink.id);
    // renew after a quarter of the lease; claim when not running here and below the share
    if (running && now - running.claimedAt < this.options.ownerLeaseMs / 4) return;
    if (!running && this.runners.size >= this.share) return;
    const held = await this.leases.claim(sink.id);
    if (!held) {
      if (running) await this.stopRunner(sink.id, false);
      return;
    }
    if (running) {
      running.claimedAt = now;
      return;
    }
    try {
      const runner = new SinkRunner(sink, {
        services: this.services,
        registry: this.registry,
        targetDeps: this.targetDeps,
        stats: this.stats,
        attempts: this.attempts,
        log: this.log.child({ sink: sink.id }),
        holder: this.holder,
        idlePollMs: this.options.idlePollMs,
        closeGraceMs: this.options.closeGraceMs,
        ownerLeaseMs: this.options.ownerLeaseMs,
      });
      this.runners.set(sink.id, { runner, version: doc.version, claimedAt: now });
      runner.start();
    } catch (err) {
      this.log.error({ err, sink: sink.id }, 'sink cannot start');
      this.broken.set(sink.id, doc.version);
      await this.leases.release(sink.id);
    }
  }

  private async stopRunner(id: string, release = true): Promise<void> {
    const entry = this.runners.get(id);
    if (!entry) return;
    this.runners.delete(id);
    await entry.runner.close();
    if (release) await this.leases.release(id).catch(() => undefined);
  }

  private async flush(): Promise<void> {
    await Promise.all([this.stats.flush(), this.attempts.flush()]).catch((err: unknown) =>
      this.log.warn({ err }, 'sink stats flush failed'),
    );
  }
}
