// What every command gets: the global options (--stage, --region, --json), the target they name, and output
// helpers so `--json` means the same everywhere (data on stdout as JSON, progress on stderr).
import type { Command } from 'commander';
import { type CliGlobals, resolveTarget, type StagePorts, type Target } from './target.ts';

export interface CliContext {
  globals(command: Command): CliGlobals;
  target(command: Command): Promise<Target>;
}

export function createContext(ports: StagePorts, env: NodeJS.ProcessEnv = process.env): CliContext {
  return {
    globals: (command) => command.optsWithGlobals() as CliGlobals,
    target: (command) => resolveTarget(command.optsWithGlobals() as CliGlobals, env, ports),
  };
}

/** JSON that keeps bigint money exact (as a decimal string). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/** With --json, `data` as JSON on stdout; otherwise the human text. */
export function emit(globals: CliGlobals, data: unknown, human: () => void): void {
  if (globals.json) console.log(toJson(data));
  else human();
}
