// Child processes of the local runtime (the SQS emulator, consumer containers): TypeScript entry points run by
// Node with the tsx loader and an IPC channel. A child watches that channel and exits when it closes, so it dies
// with its parent even when the parent is SIGKILLed and never outlives a test.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@payhooks/core/errors';
import { ChildExitedError } from './errors.ts';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** `PAYHOOKS_CHILD_CPU_PROF_DIR=dir`: every child writes a V8 CPU profile there (NODE_OPTIONS refuses --cpu-prof). */
function profilingArgs(env: NodeJS.ProcessEnv): string[] {
  const dir = env.PAYHOOKS_CHILD_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

export function spawnTsChild(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  // The parent has printed the AWS SDK's Node version notice already; once is enough.
  return spawn(
    process.execPath,
    [...profilingArgs(env), '--disable-warning=NodeVersionSupportWarning', '--import', tsxLoader, script],
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
