// What the local runtime needs to know about another process on this machine: is it alive, when did it start (a
// pid alone can be reused), what is its command line and its parent. Linux reads /proc; elsewhere `ps` answers.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user (e.g. the postgres user initdb created).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ps(pid: number, field: string): string | undefined {
  try {
    const out = execFileSync('ps', ['-o', `${field}=`, '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return out === '' ? undefined : out;
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/stat's fields after the command name (which may hold spaces and parentheses). */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** An opaque token of when the process started (equal tokens: the same process); undefined if it is gone. */
export function processStartTime(pid: number): string | undefined {
  if (process.platform === 'linux') return procStat(pid)?.[19]; // field 22, starttime in clock ticks
  return ps(pid, 'lstart');
}

export function parentPid(pid: number): number | undefined {
  const text = process.platform === 'linux' ? procStat(pid)?.[1] : ps(pid, 'ppid');
  return text === undefined ? undefined : Number(text);
}

/** The process's arguments, or undefined if it is gone or cannot be read. */
export function commandLine(pid: number): string[] | undefined {
  if (process.platform === 'linux') {
    try {
      const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return raw.split('\0').filter((part) => part !== '');
    } catch {
      return undefined;
    }
  }
  return ps(pid, 'command')?.split(/\s+/);
}
