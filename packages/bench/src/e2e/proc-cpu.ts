// CPU seconds of process trees from /proc (Linux only), for case 7's "CPU per delivery" of every process on each
// side. A tree's total is utime+stime of each live process plus cutime+cstime (its reaped children, so processes
// that exit during a window still count) over the tree, skipping excluded subtrees (the load generator, the other
// side's server, PostgreSQL when it is counted on its own). The difference of two snapshots is the window's CPU.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, clock ticks. */
  self: number;
  /** cutime + cstime: children this process has waited for. */
  reaped: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields after `comm`, which is in parentheses and may itself hold spaces or parentheses. */
export function parseStat(text: string): ProcStat {
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is state (field 3); utime is field 14, so fields[11].
  return {
    pid,
    ppid: Number(fields[1]),
    self: Number(fields[11]) + Number(fields[12]),
    reaped: Number(fields[13]) + Number(fields[14]),
  };
}

export function readProcessTable(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      table.set(stat.pid, stat);
    } catch {
      // The process exited between readdir and read: its parent's cutime has it (or will).
    }
  }
  return table;
}

/** Total CPU seconds ever used by the trees under `roots`, without the `exclude` subtrees. */
export function treeCpuSeconds(roots: readonly number[], exclude: ReadonlySet<number> = new Set()): number {
  if (process.platform !== 'linux') throw new Error('case 7 reads CPU time from /proc: Linux only');
  const table = readProcessTable();
  const children = new Map<number, number[]>();
  for (const stat of table.values()) {
    const list = children.get(stat.ppid) ?? [];
    list.push(stat.pid);
    children.set(stat.ppid, list);
  }
  const visited = new Set<number>();
  let ticks = 0;
  const walk = (pid: number) => {
    if (visited.has(pid) || exclude.has(pid)) return;
    visited.add(pid);
    const stat = table.get(pid);
    if (!stat) return;
    ticks += stat.self + stat.reaped;
    for (const child of children.get(pid) ?? []) walk(child);
  };
  for (const root of roots) walk(root);
  return ticks / clockTicks();
}

export function parentPid(pid: number): number {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).ppid;
}

/** A CPU meter over fixed roots: `start()` then `stop()` gives the CPU seconds in between. */
export function cpuMeter(roots: () => readonly number[], exclude: () => ReadonlySet<number>) {
  let before = 0;
  return {
    start() {
      before = treeCpuSeconds(roots(), exclude());
    },
    stop(): number {
      return treeCpuSeconds(roots(), exclude()) - before;
    },
  };
}

/**
 * CPU seconds per role in the tree under `root` (without `exclude`): each process is named by `role(pid)` (from
 * its command line), its descendants count under the same name unless they have a role of their own; processes
 * already reaped count under their parent's name. For case 7's "where the time goes" per process.
 */
export function cpuSecondsByRole(
  root: number,
  exclude: ReadonlySet<number>,
  role: (commandLine: string) => string | undefined,
): Record<string, number> {
  const table = readProcessTable();
  const children = new Map<number, number[]>();
  for (const stat of table.values()) {
    const list = children.get(stat.ppid) ?? [];
    list.push(stat.pid);
    children.set(stat.ppid, list);
  }
  const byRole: Record<string, number> = {};
  const walk = (pid: number, inherited: string) => {
    if (exclude.has(pid)) return;
    const stat = table.get(pid);
    if (!stat) return;
    let name = inherited;
    try {
      name = role(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')) ?? inherited;
    } catch {}
    byRole[name] = (byRole[name] ?? 0) + (stat.self + stat.reaped) / clockTicks();
    for (const child of children.get(pid) ?? []) walk(child, name);
  };
  walk(root, 'main');
  return byRole;
}
