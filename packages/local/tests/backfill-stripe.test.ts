// Stripe backfill against the provider sandbox's events API: events whose webhooks never arrived reach the
// ledger through the normal queue path, and a second backfill over the same window changes nothing.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { backfillStripe } from '@payhooks/core/backfill/stripe';
import { StripeClient } from '@payhooks/core/providers/stripe';
import { createSqsQueue } from '@payhooks/functions/adapters/sqs';
import {
  type ProviderSandbox,
  randomStripeSecretKey,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { buildStripeScenario, randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStripeLedger } from '../src/check.ts';
import { type LocalStack, startLocalStack } from '../src/stack.ts';

let db: TestDatabase;
let stack: LocalStack;
let sandbox: ProviderSandbox;
const apiKey = randomStripeSecretKey();

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startLocalStack({
    stateDir: await mkdtemp(path.join(os.tmpdir(), 'payhooks-backfill-')),
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [randomWebhookSecret()],
  });
  sandbox = await startProviderSandbox({ stripe: { apiKey } });
});
afterAll(async () => {
  await sandbox?.stop();
  await stack?.stop();
  await db?.drop();
});

describe('backfill stripe', () => {
  it('applies events that were never delivered, once, however often it runs', async () => {
    const now = new Date();
    const scenario = buildStripeScenario({
      seed: 77,
      payments: 12,
      startTime: Math.floor(now.getTime() / 1000) - 7200,
    });
    const older = buildStripeScenario({
      seed: 78,
      payments: 2,
      startTime: Math.floor(now.getTime() / 1000) - 5 * 86_400,
    });
    sandbox.stripe!.addEvents([...scenario.events, ...older.events]);
    const client = new StripeClient({ apiKey, apiBaseUrl: sandbox.url, filesBaseUrl: sandbox.url });
    const queue = createSqsQueue(stack.queues.client, stack.queues.queueUrl);
    const since = new Date(now.getTime() - 3 * 3600 * 1000);

    const dry = await backfillStripe({ source: client, queue, since, now, dryRun: true });
    expect(dry).toMatchObject({ seen: scenario.events.length, enqueued: 0 });
    expect(await stack.queues.depth(stack.queues.queueUrl)).toBe(0);

    const first = await backfillStripe({ source: client, queue, since, now });
    expect(first.enqueued).toBe(scenario.events.length);
    await stack.drain();
    const results = scenario.events.map((e) => ({
      kind: 'genuine' as const,
      eventId: e.id,
      path: '',
      body: '',
      signature: '',
      status: 200,
    }));
    expect((await checkStripeLedger(stack.sql, scenario, results)).problems).toEqual([]);
    const inboxRows = () =>
      stack.sql`select id, provider, event_id, outcome, applied_at from inbox_events order by id`;
    const afterFirst = await inboxRows();

    const second = await backfillStripe({ source: client, queue, since, now });
    expect(second.enqueued).toBe(scenario.events.length);
    await stack.drain();
    const [row] = await stack.sql<{ n: number }[]>`select count(*)::int as n from inbox_events`;
    expect(row?.n).toBe(scenario.events.length);
    // The second run changed nothing in the ledger: the same rows, applied when the first run applied them.
    expect(await inboxRows()).toEqual(afterFirst);
    expect((await checkStripeLedger(stack.sql, scenario, results)).problems).toEqual([]);
    // Each event applied once; SQS may deliver a message again under load, so duplicates are a lower bound.
    expect(stack.metrics.consumer.total('EventApplied')).toBe(scenario.events.length);
    expect(stack.metrics.consumer.total('EventDuplicate')).toBeGreaterThanOrEqual(scenario.events.length);
  });

  it('refuses a window Stripe no longer lists', async () => {
    const client = new StripeClient({ apiKey, apiBaseUrl: sandbox.url, filesBaseUrl: sandbox.url });
    const queue = createSqsQueue(stack.queues.client, stack.queues.queueUrl);
    const now = new Date();
    await expect(
      backfillStripe({ source: client, queue, since: new Date(now.getTime() - 31 * 86_400_000), now }),
    ).rejects.toThrow(/30 days/);
  });
});
