// The `payhooks` command tree, built around the ports a stage is reached through (tests pass their own).
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { registerBackfill } from './commands/backfill.ts';
import { registerBreaks } from './commands/breaks.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerRecon } from './commands/reconciliation.ts';
import { registerSecrets } from './commands/secrets.ts';
import { registerTrigger } from './commands/trigger.ts';
import { createContext } from './context.ts';
import { awsStagePorts, type StagePorts } from './target.ts';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export function buildProgram(
  ports: StagePorts = awsStagePorts,
  env: NodeJS.ProcessEnv = process.env,
): Command {
  const program = new Command('payhooks')
    .description('payhooks operator commands')
    .version(version, '-V, --version', 'print the CLI version')
    .option('--stage <name>', 'act on a deployed SST stage (resources from its stack outputs)')
    .option('--region <region>', 'AWS region of the stage (default: AWS_REGION or the profile’s)')
    .option('--json', 'print data as JSON on stdout (progress and errors go to stderr)')
    .showHelpAfterError();
  const context = createContext(ports, env);
  registerDlq(program, context);
  registerBackfill(program, context);
  registerRecon(program, context);
  registerBreaks(program, context);
  registerDoctor(program, context);
  registerSecrets(program, context, env);
  registerTrigger(program, context, env);
  return program;
}
