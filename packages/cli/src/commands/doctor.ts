// `payhooks doctor [--json]`: is the target configured and healthy enough to operate? Two kinds of checks, one
// report: configuration checks (../doctor/checks.ts, a list others append to — one line per problem naming the
// variable or file) and, when a target can be reached, health checks (queue and DLQ depth through the SDK; on a
// stage, database, failure records and provider configuration as its operations function sees them; locally,
// the database straight). Exit 1 on any problem or failed check.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createSql } from '@payhooks/core/ledger';
import type { DoctorCheck as HealthCheck } from '@payhooks/functions/operations';
import type { Command } from 'commander';
import { type CliContext, emit } from '../context.ts';
import { type DoctorTarget, doctorChecks } from '../doctor/checks.ts';
import { EXIT } from '../exit-codes.ts';
import { dlqDepth } from '../stage/dead-letters.ts';
import { operate } from '../stage/operations.ts';
import type { CliGlobals, Target } from '../target.ts';

interface Problem {
  check: string;
  subject: string;
  message: string;
}

async function configurationProblems(
  env: NodeJS.ProcessEnv,
  target: DoctorTarget,
): Promise<{ names: string[]; problems: Problem[] }> {
  if (target === 'local') await import('../local/doctor.ts');
  const stateDir = path.resolve(env.PAYHOOKS_STATE_DIR ?? '.payhooks');
  const checks = doctorChecks(target);
  const problems: Problem[] = [];
  for (const check of checks) {
    try {
      for (const problem of await check.run({ env, stateDir, target }))
        problems.push({ check: check.name, ...problem });
    } catch (error) {
      problems.push({
        check: check.name,
        subject: check.name,
        message: `check ${check.name} could not run: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return { names: checks.map((check) => check.name), problems };
}

async function healthChecks(target: Target): Promise<HealthCheck[]> {
  const checks: HealthCheck[] = [];
  const check = async (name: string, run: () => Promise<string>) => {
    try {
      checks.push({ name, ok: true, detail: await run() });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      checks.push({
        name,
        ok: false,
        detail: `${typeof code === 'string' ? code : (error as Error).name}: ${(error as Error).message}`,
      });
    }
  };
  await check(
    'queue',
    async () => `${await dlqDepth(target.sqs, target.queueUrl)} message(s) waiting or in flight`,
  );
  await check('dead-letter queue', async () => `${await dlqDepth(target.sqs, target.dlqUrl)} dead letter(s)`);
  if (target.operations) {
    const operations = target.operations;
    await check('operations function', async () => {
      checks.push(...(await operate<HealthCheck[]>(operations, { action: 'doctor' })));
      return 'invoked';
    });
  } else if (target.databaseUrl) {
    const databaseUrl = target.databaseUrl;
    await check('database', async () => {
      const sql = createSql({ url: databaseUrl, max: 1, applicationName: 'payhooks-cli' });
      try {
        const [row] = await sql<{ latest: string | null }[]>`
          select (select name from migrations order by id desc limit 1) as latest`;
        return `latest migration ${row!.latest ?? 'none'}`;
      } finally {
        await sql.end();
      }
    });
  }
  return checks;
}

/** A target is reached for health checks on a stage, or locally when the stack runs (and its local.json is sound). */
function reachable(globals: CliGlobals, env: NodeJS.ProcessEnv, problems: readonly Problem[]): boolean {
  if (globals.stage) return true;
  if (env.QUEUE_URL) return true;
  const localJson = path.resolve(env.PAYHOOKS_STATE_DIR ?? '.payhooks', 'local.json');
  return existsSync(localJson) && !problems.some((p) => p.check === 'local-json');
}

export function registerDoctor(program: Command, context: CliContext): void {
  program
    .command('doctor')
    .description('check the configuration and the target: one line per problem, exit code 1 on any')
    .action(async (_options: unknown, command: Command) => {
      const env = process.env;
      const globals = context.globals(command);
      const kind: DoctorTarget = globals.stage || env.QUEUE_URL ? 'stage' : 'local';
      const { names, problems } = await configurationProblems(env, kind);
      const health = reachable(globals, env, problems)
        ? await healthChecks(await context.target(command))
        : [];
      const failed = health.filter((c) => !c.ok);
      const ok = problems.length === 0 && failed.length === 0;
      emit(globals, { ok, target: globals.stage ?? kind, checks: names, problems, health }, () => {
        for (const problem of problems) console.error(problem.message);
        for (const c of failed) console.error(`${c.name}: ${c.detail}`);
        if (ok)
          console.log(`doctor: ${names.length + health.length} checks passed (${globals.stage ?? kind})`);
      });
      if (!ok) process.exitCode = EXIT.failed;
    });
}
