// One local stack per state folder: `<stateDir>/payhooks.lock` names the holder (pid and process start time, so a
// reused pid is not mistaken for it). A second start on the folder fails with StateFolderLockedError naming the
// holder instead of taking the first one's Postgres, queue snapshot and ports. A lock whose holder is gone is stale
// and taken over. Within one process the lock is shared (counted): `npm start` takes it before it writes anything
// in the folder, and the stack it starts takes it again.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StateFolderLockedError } from './errors.ts';
import { isAlive, processStartTime } from './process-info.ts';

export interface StateLock {
  file: string;
  release(): void;
}

interface LockContent {
  pid: number;
  startTime?: string;
  startedAt?: string;
  command?: string;
}

const heldHere = new Map<string, number>();

function readHolder(file: string): LockContent | undefined {
  try {
    const content = JSON.parse(readFileSync(file, 'utf8')) as LockContent;
    return Number.isInteger(content.pid) ? content : { pid: 0 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { pid: 0 }; // unreadable or half-written by a process that died: stale
  }
}

/** The holder still runs: same pid and the same process (its start time, where the platform tells it). */
function holderAlive(holder: LockContent): boolean {
  if (holder.pid <= 0 || !isAlive(holder.pid)) return false;
  const now = processStartTime(holder.pid);
  return holder.startTime === undefined || now === undefined || now === holder.startTime;
}

export function acquireStateLock(stateDir: string, command = 'npm start'): StateLock {
  const dir = path.resolve(stateDir);
  const file = path.join(dir, 'payhooks.lock');
  const release = () => {
    const count = (heldHere.get(file) ?? 1) - 1;
    if (count > 0) {
      heldHere.set(file, count);
      return;
    }
    heldHere.delete(file);
    if (readHolder(file)?.pid === process.pid) rmSync(file, { force: true });
  };
  const shared = heldHere.get(file);
  if (shared !== undefined && readHolder(file)?.pid === process.pid) {
    heldHere.set(file, shared + 1);
    return { file, release: once(release) };
  }
  const content: LockContent = {
    pid: process.pid,
    ...(processStartTime(process.pid) ? { startTime: processStartTime(process.pid) } : {}),
    startedAt: new Date().toISOString(),
    command,
  };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      writeFileSync(file, `${JSON.stringify(content)}\n`, { flag: 'wx', mode: 0o644 });
      heldHere.set(file, 1);
      return { file, release: once(release) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder && holderAlive(holder))
      throw new StateFolderLockedError(dir, {
        pid: holder.pid,
        ...(holder.startedAt ? { startedAt: holder.startedAt } : {}),
        ...(holder.command ? { command: holder.command } : {}),
      });
    rmSync(file, { force: true }); // stale: its holder is gone
  }
  throw new StateFolderLockedError(dir, { pid: readHolder(file)?.pid ?? 0 });
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
