// `payhooks doctor`: is the target healthy enough to operate? Queue and DLQ depth through the SDK; on a stage,
// database, recorded failures and provider configuration as its operations function sees them; locally, the
// database straight. Exit 1 when a check fails.
import { createSql } from '@payhooks/core/ledger';
import type { DoctorCheck } from '@payhooks/functions/operations';
import type { Command } from 'commander';
import { type CliContext, emit } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { dlqDepth } from '../stage/dead-letters.ts';
import { operate } from '../stage/operations.ts';

export function registerDoctor(program: Command, context: CliContext): void {
  program
    .command('doctor')
    .description('check the target: queues, database, failure records, provider configuration')
    .action(async (_options: unknown, command: Command) => {
      const target = await context.target(command);
      const checks: DoctorCheck[] = [];
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
      await check(
        'dead-letter queue',
        async () => `${await dlqDepth(target.sqs, target.dlqUrl)} dead letter(s)`,
      );
      if (target.operations) {
        const operations = target.operations;
        await check('operations function', async () => {
          const remote = await operate<DoctorCheck[]>(operations, { action: 'doctor' });
          checks.push(...remote);
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
      emit(context.globals(command), { target: target.label, checks }, () => {
        console.log(`doctor: ${target.label}`);
        for (const c of checks) console.log(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
      });
      if (checks.some((c) => !c.ok)) process.exitCode = EXIT.failed;
    });
}
