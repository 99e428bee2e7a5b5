// Child processes of the local runtime (the SQS emulator, consumer containers): TypeScript entry points, compiled
// once per parent process into plain JavaScript with esbuild and run by Node with an IPC channel. A child watches
// that channel and exits when it closes, so it dies with its parent even when the parent is SIGKILLed and never
// outlives a test.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@payhooks/core/errors';
import { buildSync } from 'esbuild';
import { ChildExitedError } from './errors.ts';

const repoNodeModules = fileURLToPath(new URL('../../../node_modules', import.meta.url));

/**
 * Every installed package but the workspace's own (TypeScript sources, bundled): loaded from node_modules at run
 * time. A list, as esbuild's synchronous API takes no resolver plugin.
 */
function externalPackages(): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(repoNodeModules)) {
    if (entry.startsWith('.') || entry === '@payhooks') continue;
    if (entry.startsWith('@'))
      for (const scoped of readdirSync(path.join(repoNodeModules, entry))) names.push(`${entry}/${scoped}`);
    else names.push(entry);
  }
  return names.flatMap((name) => [name, `${name}/*`]);
}

let bundleDir: string | undefined;
const compiledScripts = new Map<string, string>();

/**
 * `script` as one ES module of plain JavaScript (workspace code bundled, packages external). Under the tsx loader
 * each child transpiled its whole module graph again on a loader thread: 1–2 s of CPU per consumer container
 * start (docs/benchmarks.md, "Where the time goes"). Built synchronously, once per script and parent process.
 */
function compiled(script: string): string {
  const known = compiledScripts.get(script);
  if (known) return known;
  if (!bundleDir) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'payhooks-local-children-'));
    // External packages resolve from the bundle's folder: through this link, the repository's node_modules.
    symlinkSync(repoNodeModules, path.join(dir, 'node_modules'), 'dir');
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    bundleDir = dir;
  }
  // The file keeps the script's name: the bench tells the stack's processes apart by command line.
  const outfile = path.join(bundleDir, path.basename(script).replace(/\.ts$/, '.mjs'));
  buildSync({
    entryPoints: [script],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: externalPackages(),
    logLevel: 'error',
  });
  compiledScripts.set(script, outfile);
  return outfile;
}

/** `PAYHOOKS_CHILD_CPU_PROF_DIR=dir`: every child writes a V8 CPU profile there (NODE_OPTIONS refuses --cpu-prof). */
function profilingArgs(env: NodeJS.ProcessEnv): string[] {
  const dir = env.PAYHOOKS_CHILD_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

export function spawnTsChild(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const entry = compiled(script);
  // The parent has printed the AWS SDK's Node version notice already; once is enough.
  return spawn(
    process.execPath,
    [...profilingArgs(env), '--disable-warning=NodeVersionSupportWarning', entry],
    {
      env,
      // stdout unused (logs go to the state folder's log file); stderr shows a crash.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    },
  );
}

/** Resolves with the child's first IPC message matching `accept`; rejects if it exits first. */
export function firstMessage<T>(
  child: ChildProcess,
  accept: (message: unknown) => message is T,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new ChildExitedError(`${what} exited before it was ready (code ${code}, signal ${signal})`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Ends a child: asks it to exit by closing the channel, then SIGKILLs it if it has not within `graceMs`. */
export async function endChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** In a child: run `cleanup` and exit once the parent is gone (its IPC channel closed). */
export function exitWithParent(cleanup: () => Promise<unknown> = async () => {}): void {
  if (!process.send)
    throw new ConfigError('LOCAL_NOT_A_CHILD', 'this module runs as a child process with an IPC channel');
  process.on('disconnect', () => {
    const hardStop = setTimeout(() => process.exit(0), 1500);
    hardStop.unref();
    cleanup()
      .catch(() => {})
      .finally(() => process.exit(0));
  });
}
