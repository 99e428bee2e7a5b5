// `payhooks backfill …`: recover events the providers could no longer deliver, through the normal queue path.
import { backfillStripe } from '@payhooks/core/backfill/stripe';
import { StripeClient } from '@payhooks/core/providers/stripe';
import { createSqsQueue } from '@payhooks/functions/adapters/sqs';
import type { Command } from 'commander';
import { resolveTarget } from '../target.ts';

function parseInstant(text: string, flag: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new Error(`${flag} must be an ISO date-time, got "${text}"`);
  return date;
}

export function registerBackfill(program: Command): void {
  const backfill = program
    .command('backfill')
    .description('push provider events through the queue again (idempotent)');

  backfill
    .command('stripe')
    .description('page through Stripe events since a time (last 30 days) and enqueue each one')
    .requiredOption('--since <iso>', 'first event time, e.g. 2026-11-20T00:00:00Z')
    .option('--until <iso>', 'stop before this time')
    .option('--account <acct>', 'a Connect account whose events to list')
    .option('--dry-run', 'count only, enqueue nothing')
    .action(async (options: { since: string; until?: string; account?: string; dryRun?: boolean }) => {
      const target = resolveTarget();
      if (!target.stripeApiKey)
        throw new Error('set STRIPE_API_KEY (a restricted key with read access to events)');
      const client = new StripeClient({
        apiKey: target.stripeApiKey,
        ...(target.stripeApiBaseUrl
          ? { apiBaseUrl: target.stripeApiBaseUrl, filesBaseUrl: target.stripeApiBaseUrl }
          : {}),
        ...(options.account ? { stripeAccount: options.account } : {}),
      });
      const result = await backfillStripe({
        source: client,
        queue: createSqsQueue(target.sqs, target.queueUrl),
        since: parseInstant(options.since, '--since'),
        ...(options.until ? { until: parseInstant(options.until, '--until') } : {}),
        dryRun: options.dryRun === true,
        now: new Date(),
        onProgress: (p) => {
          if (p.seen % 100 === 0) process.stderr.write(`\r${p.seen} events listed, ${p.enqueued} enqueued`);
        },
      });
      process.stderr.write('\n');
      console.log(
        `${result.seen} Stripe events listed, ${result.enqueued} enqueued${options.dryRun ? ' (dry run)' : ''}; duplicates are absorbed by the inbox`,
      );
    });
}
