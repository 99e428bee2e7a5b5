// `payhooks breaks …`: the break register from a terminal — list the queue, show one break with both sides and its
// trail, and assign / note / resolve / write off, through the same core functions the console calls (state
// machine, row lock, audit event). Acts on a database this machine reaches: the `npm start` stack (local.json) or
// DATABASE_URL; not on --stage (deployed stages are reached through the console).
import os from 'node:os';
import { ConfigError } from '@payhooks/core/errors';
import { createSql, type Sql } from '@payhooks/core/ledger';
import {
  assignBreak,
  BREAK_CODES,
  BREAK_STATES,
  type BreakActionResult,
  BreakError,
  type BreakListFilter,
  type BreakState,
  getBreak,
  listBreaks,
  noteBreak,
  resolveBreak,
  writeOffBreak,
} from '@payhooks/core/recon/run';
import type { Command } from 'commander';
import { type CliContext, emit } from '../context.ts';
import { readLocalState } from './reconciliation.ts';

interface ListOptions {
  provider?: string;
  account?: string;
  class?: string;
  state?: string;
  minAge?: string;
  minAmount?: string;
  maxAmount?: string;
  date?: string;
  limit: string;
  after?: string;
}

function integer(name: string, value: string): bigint {
  if (!/^-?\d+$/.test(value))
    throw new ConfigError('CLI_USAGE', `${name} must be an integer, got "${value}"`);
  return BigInt(value);
}

function breakId(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new ConfigError('CLI_USAGE', `break id must be a number, got "${value}"`);
  return BigInt(value);
}

/** Opens the database the command acts on, runs `act`, closes it. */
async function withDatabase<T>(
  context: CliContext,
  command: Command,
  act: (sql: Sql) => Promise<T>,
): Promise<T> {
  if (context.globals(command).stage)
    throw new ConfigError(
      'CLI_USAGE',
      'breaks commands act on a database this machine reaches (npm start or DATABASE_URL): not with --stage',
    );
  const url = process.env.DATABASE_URL ?? readLocalState(process.env)?.databaseUrl;
  if (!url)
    throw new ConfigError(
      'CLI_NO_DATABASE',
      'no database: start the local stack (npm start) or set DATABASE_URL',
    );
  const sql = createSql({ url, max: 1, applicationName: 'payhooks-cli-breaks' });
  try {
    return await act(sql);
  } finally {
    await sql.end();
  }
}

function actorOf(options: { actor?: string }): string {
  return options.actor ?? process.env.PAYHOOKS_ACTOR ?? os.userInfo().username;
}

function printResult(context: CliContext, command: Command, result: BreakActionResult): void {
  emit(context.globals(command), result, () =>
    console.log(
      `break ${result.breakId}: ${result.event.action} by ${result.event.actor} — now ${result.state}`,
    ),
  );
}

export function registerBreaks(program: Command, context: CliContext): void {
  const breaks = program
    .command('breaks')
    .description('reconciliation breaks across runs: list, show, assign, note, resolve, write off');

  breaks
    .command('list')
    .description('the break queue, newest first')
    .option('--provider <provider>', 'wechatpay | stripe')
    .option('--account <account>', 'WeChat Pay mchid, acct_… or platform')
    .option('--class <class>', 'e.g. missing_in_ledger, amount_mismatch, payout_mismatch')
    .option('--state <state>', BREAK_STATES.join(' | '))
    .option('--min-age <days>', 'at least this many days since first seen')
    .option('--min-amount <minor>', 'amount at least (minor units)')
    .option('--max-amount <minor>', 'amount at most (minor units)')
    .option('--date <YYYY-MM-DD>', 'found by a run of this business date')
    .option('--limit <n>', 'page size (1–500)', '50')
    .option('--after <cursor>', 'the next-page cursor a previous list printed')
    .action(async (options: ListOptions, command: Command) => {
      if (options.state !== undefined && !BREAK_STATES.includes(options.state as BreakState))
        throw new ConfigError('CLI_USAGE', `--state must be one of ${BREAK_STATES.join(', ')}`);
      if (options.provider !== undefined && options.provider !== 'wechatpay' && options.provider !== 'stripe')
        throw new ConfigError('CLI_USAGE', '--provider must be wechatpay or stripe');
      const filter: BreakListFilter = {
        limit: Number(integer('--limit', options.limit)),
        ...(options.provider ? { provider: options.provider as 'wechatpay' | 'stripe' } : {}),
        ...(options.account ? { account: options.account } : {}),
        ...(options.class ? { class: options.class } : {}),
        ...(options.state ? { state: options.state as BreakState } : {}),
        ...(options.minAge ? { minAgeDays: Number(integer('--min-age', options.minAge)) } : {}),
        ...(options.minAmount ? { minAmountMinor: integer('--min-amount', options.minAmount) } : {}),
        ...(options.maxAmount ? { maxAmountMinor: integer('--max-amount', options.maxAmount) } : {}),
        ...(options.date ? { businessDate: options.date } : {}),
        ...(options.after ? { after: options.after } : {}),
      };
      const page = await withDatabase(context, command, (sql) => listBreaks(sql, filter));
      emit(context.globals(command), page, () => {
        for (const b of page.breaks) {
          const amount = b.providerAmountMinor ?? b.ledgerAmountMinor;
          console.log(
            `  ${b.id}  ${b.state.padEnd(11)}  ${String(b.ageDays).padStart(3)}d  ${b.provider}/${b.account || 'platform'}  ${b.class}  ${b.objectKey}  ${amount ?? ''} ${b.providerCurrency ?? b.ledgerCurrency ?? ''}${b.assignee ? `  @${b.assignee}` : ''}`,
          );
        }
        console.log(
          `${page.breaks.length} break(s)${page.nextCursor ? `; next page: --after ${page.nextCursor}` : ''}`,
        );
      });
    });

  breaks
    .command('show <id>')
    .description('one break: both sides, where runs saw it, its audit trail')
    .action(async (id: string, _options: unknown, command: Command) => {
      const detail = await withDatabase(context, command, (sql) => getBreak(sql, breakId(id)));
      if (!detail) throw new BreakError(BREAK_CODES.notFound, `no break ${id}`);
      emit(context.globals(command), detail, () => {
        const i = detail.item;
        console.log(
          `break ${detail.id}  ${detail.class}  ${detail.objectKey}  ${detail.state}  age ${detail.ageDays}d`,
        );
        console.log(
          `  ${detail.provider}/${detail.account || 'platform'}  first seen ${detail.firstSeenDate} (run ${detail.firstSeenRun}), last seen ${detail.lastSeenDate}`,
        );
        console.log(
          `  provider: ${i.billAmountMinor ?? '-'} ${i.billCurrency ?? ''} ${i.billStatus ?? ''} (${i.billProviderStatus ?? '-'}) ${i.source ?? ''}${i.lineNo === null ? '' : `:${i.lineNo}`}`,
        );
        console.log(
          `  ledger:   ${i.ledgerAmountMinor ?? '-'} ${i.ledgerCurrency ?? ''} ${i.ledgerStatus ?? ''}${detail.ledger ? ` (now ${detail.ledger.status} ${detail.ledger.amountMinor})` : ''}`,
        );
        if (i.detail) console.log(`  detail:   ${i.detail}`);
        if (detail.assignee) console.log(`  assignee: ${detail.assignee}`);
        if (detail.resolution) console.log(`  reason:   ${detail.resolution}`);
        for (const e of detail.events)
          console.log(
            `  ${e.at.toISOString()}  ${e.actor}  ${e.action}${e.toState && e.toState !== e.fromState ? ` → ${e.toState}` : ''}${e.note ? `  ${e.note}` : ''}`,
          );
      });
    });

  breaks
    .command('assign <id> <assignee>')
    .description('assign a break to someone')
    .option('--actor <name>', 'who acts (default: PAYHOOKS_ACTOR or the OS user)')
    .action(async (id: string, assignee: string, options: { actor?: string }, command: Command) => {
      const result = await withDatabase(context, command, (sql) =>
        assignBreak(sql, { breakId: breakId(id), actor: actorOf(options), assignee }),
      );
      printResult(context, command, result);
    });

  breaks
    .command('note <id> <text...>')
    .description('add a note to a break (any state)')
    .option('--actor <name>', 'who acts (default: PAYHOOKS_ACTOR or the OS user)')
    .action(async (id: string, text: string[], options: { actor?: string }, command: Command) => {
      const result = await withDatabase(context, command, (sql) =>
        noteBreak(sql, { breakId: breakId(id), actor: actorOf(options), text: text.join(' ') }),
      );
      printResult(context, command, result);
    });

  breaks
    .command('resolve <id>')
    .description('resolve an open or healed break (fixed or explained)')
    .option('--reason <text>', 'why (optional)')
    .option('--actor <name>', 'who acts (default: PAYHOOKS_ACTOR or the OS user)')
    .action(async (id: string, options: { reason?: string; actor?: string }, command: Command) => {
      const result = await withDatabase(context, command, (sql) =>
        resolveBreak(sql, {
          breakId: breakId(id),
          actor: actorOf(options),
          ...(options.reason ? { reason: options.reason } : {}),
        }),
      );
      printResult(context, command, result);
    });

  breaks
    .command('write-off <id>')
    .description('write an open break off (the difference is accepted); a reason is required')
    .requiredOption('--reason <text>', 'why the difference is accepted')
    .option('--actor <name>', 'who acts (default: PAYHOOKS_ACTOR or the OS user)')
    .action(async (id: string, options: { reason: string; actor?: string }, command: Command) => {
      const result = await withDatabase(context, command, (sql) =>
        writeOffBreak(sql, { breakId: breakId(id), actor: actorOf(options), reason: options.reason }),
      );
      printResult(context, command, result);
    });
}
