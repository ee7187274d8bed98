/**
 * CPU cgroups for the scale scenario: each process it starts gets a group of its own with a
 * fixed CPU quota, as if it ran on a small machine of its own. cgroup v1 (`cpu.cfs_quota_us`
 * under the `cpu` hierarchy) or v2 (`cpu.max` under a cgroup2 mount with the cpu controller);
 * writing them needs root. `openCpuGroups()` answers why not when neither can be written.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The quota's enforcement period. A group allowed 0.1 CPU runs 1 ms of each 10 ms here: at the
 * kernel's default of 100 ms it would run 10 ms and then stand frozen for 90, and every round
 * trip that met a frozen stretch would wait out the rest of it. A small machine is a slow CPU
 * that is always there, which the shorter period is closer to. `BENCH_SCALE_CPU_PERIOD_MS`
 * sets it (1–1,000).
 */
const PERIOD_US = Math.round(Number(process.env.BENCH_SCALE_CPU_PERIOD_MS ?? 10) * 1000);

export interface CpuGroup {
  name: string;
  /** moves the process (all its threads) into the group */
  add(pid: number): void;
}

export interface CpuGroups {
  kind: 'cgroup v1' | 'cgroup v2';
  root: string;
  /** the quotas' enforcement period */
  periodMs: number;
  /** a new group allowed `cpus` of a CPU (0.4 = 40 % of one core) */
  create(label: string, cpus: number): CpuGroup;
  /** moves what is left in the groups back to the parent and removes them */
  remove(): void;
}

export function openCpuGroups(): CpuGroups | { unavailable: string } {
  const reasons: string[] = [];
  const v1 = '/sys/fs/cgroup/cpu';
  if (existsSync(join(v1, 'cpu.cfs_quota_us'))) {
    try {
      return groups(
        'cgroup v1',
        v1,
        () => undefined,
        (dir, cpus) => {
          writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
          writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.round(cpus * PERIOD_US)));
        },
      );
    } catch (err) {
      reasons.push(`${v1}: ${(err as Error).message}`);
    }
  } else reasons.push(`${v1}: no cpu.cfs_quota_us`);
  for (const mount of cgroup2Mounts()) {
    try {
      if (!readFileSync(join(mount, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) {
        reasons.push(`${mount}: the cpu controller is not available there`);
        continue;
      }
      writeFileSync(join(mount, 'cgroup.subtree_control'), '+cpu');
      return groups(
        'cgroup v2',
        mount,
        (dir) => writeFileSync(join(dir, 'cgroup.subtree_control'), '+cpu'),
        (dir, cpus) => {
          writeFileSync(join(dir, 'cpu.max'), `${Math.round(cpus * PERIOD_US)} ${PERIOD_US}`);
        },
      );
    } catch (err) {
      reasons.push(`${mount}: ${(err as Error).message}`);
    }
  }
  return {
    unavailable: `no writable CPU cgroup (run as root on Linux with cgroup v1 cpu or cgroup v2 cpu): ${reasons.join('; ')}`,
  };
}

function cgroup2Mounts(): string[] {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[2] === 'cgroup2')
      .map((f) => f[1]!);
  } catch {
    return [];
  }
}

/**
 * One parent group for the run (so the run's groups are easy to find and remove), a child
 * group per process with its quota. A throwaway child proves the quota can be written before
 * anything depends on it.
 */
function groups(
  kind: CpuGroups['kind'],
  root: string,
  prepareParent: (dir: string) => void,
  setQuota: (dir: string, cpus: number) => void,
): CpuGroups {
  const parent = join(root, `rivulet-bench-${randomUUID().slice(0, 8)}`);
  mkdirSync(parent);
  const children: string[] = [];
  try {
    prepareParent(parent);
    const probe = join(parent, 'probe');
    mkdirSync(probe);
    try {
      setQuota(probe, 0.5);
    } finally {
      rmdirSync(probe);
    }
  } catch (err) {
    rmdirSync(parent);
    throw err;
  }
  return {
    kind,
    root,
    periodMs: PERIOD_US / 1000,
    create(label, cpus) {
      const dir = join(parent, `${label}-${children.length}`);
      mkdirSync(dir);
      children.push(dir);
      setQuota(dir, cpus);
      return { name: dir, add: (pid) => writeFileSync(join(dir, 'cgroup.procs'), String(pid)) };
    },
    remove() {
      for (const dir of [...[...children].reverse(), parent]) {
        try {
          // a group still holding a process cannot be removed: those go back to the root
          for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
            try {
              writeFileSync(join(root, 'cgroup.procs'), pid);
            } catch {
              // it exited meanwhile
            }
          }
          rmdirSync(dir);
        } catch {
          // already gone
        }
      }
    },
  };
}
