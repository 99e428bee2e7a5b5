// `payhooks backfill …`: recover events the providers could no longer deliver, through the normal queue path.
import { readFile } from 'node:fs/promises';
import { backfillStripe } from '@payhooks/core/backfill/stripe';
import type { WechatpayBackfillResult } from '@payhooks/core/backfill/wechatpay';
import { backfillWechatpay } from '@payhooks/core/backfill/wechatpay';
import type { ClaimStore } from '@payhooks/core/envelope';
import { ConfigError } from '@payhooks/core/errors';
import { createSql } from '@payhooks/core/ledger';
import { systemClock } from '@payhooks/core/ports';
import { claimStoreFromEnv } from '@payhooks/functions/wiring/claim-check';
import { stripeClientForAccount } from '@payhooks/functions/wiring/clients';
import { loadMerchants } from '@payhooks/functions/wiring/merchants';
import { createQueue } from '@payhooks/functions/wiring/queue';
import { healersFor } from '@payhooks/functions/wiring/sweep';
import type { Command } from 'commander';
import { type CliContext, emit } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { operate } from '../stage/operations.ts';
import type { Target } from '../target.ts';

/** Where events too large for one queue message go: the local stack's folder, or CLAIM_CHECK_BUCKET. */
async function claimStoreOf(target: Target): Promise<ClaimStore | undefined> {
  if (!target.claimCheckDir) return claimStoreFromEnv(process.env);
  const { localClaimStore } = await import('../local/claim-check.ts');
  return localClaimStore(target.claimCheckDir);
}

function parseInstant(text: string, flag: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new ConfigError('CLI_USAGE', `${flag} must be an ISO date-time, got "${text}"`);
  return date;
}

export function registerBackfill(program: Command, context: CliContext): void {
  const backfill = program
    .command('backfill')
    .description('push provider events through the queue again (idempotent)');

  backfill
    .command('stripe')
    .description('page through Stripe events since a time (last 30 days) and enqueue each one')
    .requiredOption('--since <iso>', 'first event time, e.g. 2026-11-20T00:00:00Z')
    .option('--until <iso>', 'stop before this time')
    .option('--account <account>', 'a configured Stripe account id, or a Connect account (acct_…), to list')
    .option('--dry-run', 'count only, enqueue nothing')
    .action(
      async (
        options: { since: string; until?: string; account?: string; dryRun?: boolean },
        command: Command,
      ) => {
        const globals = context.globals(command);
        const since = parseInstant(options.since, '--since');
        const until = options.until ? parseInstant(options.until, '--until') : undefined;
        const target = await context.target(command);
        const report = (result: { seen: number; enqueued: number }) =>
          emit(globals, { ...result, dryRun: options.dryRun === true }, () =>
            console.log(
              `${result.seen} Stripe events listed, ${result.enqueued} enqueued${options.dryRun ? ' (dry run)' : ''}; duplicates are absorbed by the inbox`,
            ),
          );
        if (target.operations) {
          // The stage's Stripe key stays in the stage: its operations function lists and enqueues.
          report(
            await operate<{ seen: number; enqueued: number }>(target.operations, {
              action: 'backfill-stripe',
              since: since.toISOString(),
              ...(until ? { until: until.toISOString() } : {}),
              ...(options.account ? { account: options.account } : {}),
              dryRun: options.dryRun === true,
            }),
          );
          return;
        }
        if (!target.stripeApiKey)
          throw new ConfigError(
            'CLI_NO_STRIPE_KEY',
            'set STRIPE_API_KEY (a restricted key with read access to events)',
          );
        // STRIPE_API_KEY may hold a key per account (docs/deploy.md): --account picks the account's own key.
        const client = stripeClientForAccount(target.stripeApiKey, options.account, {
          clock: systemClock,
          ...(target.stripeApiBaseUrl ? { baseUrl: target.stripeApiBaseUrl } : {}),
        });
        const result = await backfillStripe({
          source: client,
          queue: createQueue(target.sqs, target.queueUrl),
          claims: await claimStoreOf(target),
          since,
          ...(options.account ? { account: options.account } : {}),
          ...(until ? { until } : {}),
          dryRun: options.dryRun === true,
          now: new Date(),
          onProgress: (p) => {
            if (p.seen % 100 === 0) process.stderr.write(`\r${p.seen} events listed, ${p.enqueued} enqueued`);
          },
        });
        process.stderr.write('\n');
        report(result);
      },
    );

  backfill
    .command('wechatpay')
    .description('query WeChat Pay for merchant orders still unpaid in the ledger and enqueue what is paid')
    .option('--older-than <minutes>', 'only orders created at least this long ago', '10')
    .option('--since <iso>', 'only orders created after this time (default: 7 days ago)')
    .option('--dry-run', 'query only, enqueue nothing')
    .action(async (options: { olderThan: string; since?: string; dryRun?: boolean }, command: Command) => {
      const globals = context.globals(command);
      const since = options.since ? parseInstant(options.since, '--since') : undefined;
      const target = await context.target(command);
      const report = (result: WechatpayBackfillResult) => {
        emit(globals, { ...result, dryRun: options.dryRun === true }, () => {
          console.log(
            `${result.checked} unpaid orders checked: ${result.enqueued} paid at WeChat Pay and enqueued, ${result.stillPending} still unpaid, ${result.errors.length} errors${options.dryRun ? ' (dry run)' : ''}`,
          );
          for (const error of result.errors.slice(0, 20))
            console.log(`  ${error.merchantOrderNo}: ${error.code}`);
        });
        if (result.errors.length > 0) process.exitCode = EXIT.incomplete;
      };
      if (target.operations) {
        report(
          await operate<WechatpayBackfillResult>(target.operations, {
            action: 'backfill-wechatpay',
            olderThanMinutes: Number(options.olderThan),
            ...(since ? { since: since.toISOString() } : {}),
            dryRun: options.dryRun === true,
          }),
        );
        return;
      }
      if (!target.databaseUrl)
        throw new ConfigError('CLI_NO_DATABASE', 'set DATABASE_URL to read merchant_orders and payments');
      const file = process.env.WECHATPAY_MERCHANTS_FILE ?? target.wechatpayMerchantsFile;
      const document = process.env.WECHATPAY_MERCHANTS ?? (file ? await readFile(file, 'utf8') : undefined);
      if (!document)
        throw new ConfigError('CLI_NO_MERCHANTS', 'set WECHATPAY_MERCHANTS or WECHATPAY_MERCHANTS_FILE');
      const baseUrl = process.env.WECHATPAY_API_BASE_URL ?? target.wechatpayApiBaseUrl;
      const sql = createSql({ url: target.databaseUrl, max: 1, applicationName: 'payhooks-cli' });
      try {
        const now = Date.now();
        const result = await backfillWechatpay({
          sql,
          queue: createQueue(target.sqs, target.queueUrl),
          claims: await claimStoreOf(target),
          healerFor: healersFor(await loadMerchants({ document }), baseUrl ? { baseUrl } : {}),
          createdAfter: since ?? new Date(now - 7 * 86_400_000),
          createdBefore: new Date(now - Number(options.olderThan) * 60_000),
          dryRun: options.dryRun === true,
          onProgress: (p) =>
            process.stderr.write(`\r${p.checked} orders checked, ${p.enqueued} paid and enqueued`),
        });
        process.stderr.write('\n');
        report(result);
      } finally {
        await sql.end();
      }
    });
}
