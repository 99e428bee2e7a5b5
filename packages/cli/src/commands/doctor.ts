// `payhooks doctor [--json]`: runs every configuration check for the target (the local stack, or the stage named
// by QUEUE_URL …) and prints one line per problem naming the variable or file; exit code 1 on any problem. The
// checks are a list others append to (../doctor/checks.ts).
import path from 'node:path';
import type { Command } from 'commander';
import { type DoctorTarget, doctorChecks } from '../doctor/checks.ts';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the configuration: one line per problem, exit code 1 on any')
    .option('--json', 'print { ok, target, checks, problems } as JSON')
    .action(async (options: { json?: boolean }) => {
      const env = process.env;
      const target: DoctorTarget = env.QUEUE_URL ? 'stage' : 'local';
      if (target === 'local') await import('../local/doctor.ts');
      const stateDir = path.resolve(env.PAYHOOKS_STATE_DIR ?? '.payhooks');
      const checks = doctorChecks(target);
      const problems: { check: string; subject: string; message: string }[] = [];
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
      if (options.json) {
        const checkNames = checks.map((check) => check.name);
        console.log(
          JSON.stringify({ ok: problems.length === 0, target, checks: checkNames, problems }, null, 2),
        );
      } else if (problems.length === 0) {
        console.log(`doctor: ${checks.length} checks passed (${target})`);
      } else {
        for (const problem of problems) console.error(problem.message);
      }
      if (problems.length > 0) process.exitCode = 1;
    });
}
