// Faults on real parts. Each scenario drives traffic, injects a fault, recovers, and then asserts every accepted
// callback is in the ledger exactly once (with the final state the scenario predicts) and nothing else is.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayDeadLetters } from '@payhooks/cli/stage/dead-letters';
import { createSql } from '@payhooks/core/ledger';
import { createStripeWebhookHandler } from '@payhooks/functions/stripe-webhook';
import {
  buildStripeScenario,
  prng,
  randomWebhookSecret,
  type StripeScenario,
} from '@payhooks/testkit/sandbox/stripe-scenario';
import { type Delivery, planStripeDeliveries, sendDeliveries } from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase } from '@payhooks/testkit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { checkStripeLedger } from '../src/check.ts';
import { sampleConnections, startSwitch } from '../src/faults.ts';
import { startGateway } from '../src/gateway.ts';
import { startLocalPostgres } from '../src/postgres.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../src/stack.ts';

const secret = randomWebhookSecret();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function stackOn(databaseUrl: string, options: Partial<LocalStackOptions> = {}): Promise<LocalStack> {
  const stack = await startLocalStack({
    stateDir: await mkdtemp(path.join(os.tmpdir(), 'payhooks-rel-')),
    port: 0,
    databaseUrl,
    stripeWebhookSecrets: [secret],
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 3,
    ...options,
  });
  cleanups.push(() => stack.stop());
  return stack;
}

async function freshDatabase(): Promise<string> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db.url;
}

function plan(
  seed: number,
  payments: number,
  duplicateRate = 0,
): { scenario: StripeScenario; deliveries: Delivery[] } {
  const scenario = buildStripeScenario({ seed, payments });
  const deliveries = planStripeDeliveries(scenario, {
    secrets: [secret],
    random: prng(seed),
    duplicateRate,
    forgeries: false,
    now: Math.floor(Date.now() / 1000),
  });
  return { scenario, deliveries };
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function inboxCount(stack: LocalStack): Promise<number> {
  const [row] = await stack.sql<{ n: number }[]>`select count(*)::int as n from inbox_events`;
  return row?.n ?? 0;
}

describe('reliability under faults', () => {
  it('PostgreSQL stopped in the middle of a consumer load, then restarted: nothing lost, nothing twice', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-pgfault-'));
    await chmod(dir, 0o755);
    const port = 56_000 + Math.floor(Math.random() * 2000);
    let postgres = await startLocalPostgres({ dataDir: path.join(dir, 'data'), port, fast: true });
    cleanups.push(() => postgres.stop());
    // A query cut off by the outage may never settle; like Lambda, the runtime times the invocation out (5 s here).
    const stack = await stackOn(postgres.url, { consumerConcurrency: 2, consumerTimeoutSeconds: 5 });
    const { scenario, deliveries } = plan(11, 60, 0.2);

    const results = await sendDeliveries(stack.gatewayUrl, deliveries, 8);
    expect(results.every((r) => r.status === 200)).toBe(true); // ingress does not need the database
    await until(async () => (await inboxCount(stack)) > 0, 'the first events to be applied');
    await postgres.stop();
    await until(
      async () => stack.poller.stats.failedBatches > 0,
      'the consumer to fail against the stopped database',
    );
    postgres = await startLocalPostgres({ dataDir: path.join(dir, 'data'), port, fast: true });

    await stack.drain();
    // Messages that exhausted their receives during the outage are replayed from the DLQ, as an operator would.
    if ((await stack.queues.depth(stack.queues.dlqUrl)) > 0) {
      await replayDeadLetters(stack.queues.client, stack.queues.dlqUrl, { pollMs: 50 });
      await stack.drain();
    }
    expect(await stack.queues.depth(stack.queues.dlqUrl)).toBe(0);
    expect((await checkStripeLedger(stack.sql, scenario, results)).problems).toEqual([]);
    expect(await inboxCount(stack)).toBe(scenario.events.length);
  });

  it('queue unavailable at ingress: 5xx and nothing acknowledged; the provider retries land exactly once', async () => {
    const stack = await stackOn(await freshDatabase());
    // A second gateway runs the same handler module but reaches the emulator through a switch we can turn off.
    const gate = await startSwitch({ host: '127.0.0.1', port: Number(new URL(stack.queues.endpoint).port) });
    cleanups.push(() => gate.stop());
    const handler = createStripeWebhookHandler(
      {
        QUEUE_URL: stack.queues.queueUrl.replace(new URL(stack.queues.queueUrl).origin, gate.url),
        SQS_ENDPOINT: gate.url,
        STRIPE_WEBHOOK_SECRETS: secret,
      },
      { logger: stack.logger },
    );
    const gateway = await startGateway({
      port: 0,
      routes: [{ method: 'POST', path: '/webhooks/stripe', handler }],
    });
    cleanups.push(() => gateway.stop());
    const { scenario, deliveries } = plan(12, 15);

    gate.setUp(false);
    const failed = await sendDeliveries(gateway.url, deliveries, 8);
    expect(new Set(failed.map((r) => r.status))).toEqual(new Set([503]));
    expect(await stack.queues.depth(stack.queues.queueUrl)).toBe(0);

    gate.setUp(true);
    const retried = await sendDeliveries(gateway.url, deliveries, 8);
    expect(retried.every((r) => r.status === 200)).toBe(true);
    await stack.drain();
    expect((await checkStripeLedger(stack.sql, scenario, retried)).problems).toEqual([]);
    expect(await inboxCount(stack)).toBe(scenario.events.length);
  });

  it('a consumer killed in the middle of a transaction: redelivery applies each event exactly once', async () => {
    const databaseUrl = await freshDatabase();
    const stack = await stackOn(databaseUrl, { consumerConcurrency: 0 });
    const { scenario, deliveries } = plan(13, 80, 0.1);
    const results = await sendDeliveries(stack.gatewayUrl, deliveries, 8);
    expect(results.every((r) => r.status === 200)).toBe(true);

    const script = fileURLToPath(new URL('../src/consumer-process.ts', import.meta.url));
    const startConsumer = (): ChildProcess => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        env: { ...stack.env, LOG_LEVEL: 'error', DB_MAX_CONNECTIONS: '1' },
        stdio: 'ignore',
      });
      cleanups.push(async () => child.kill('SIGKILL'));
      return child;
    };
    const observer = createSql({ url: databaseUrl, max: 1 });
    cleanups.push(() => observer.end());
    const first = startConsumer();
    // Kill it while it holds an open transaction, after it has committed some batches.
    await until(async () => {
      const [row] = await observer<{ open: number; applied: number }[]>`
        select (select count(*)::int from pg_stat_activity where application_name = 'payhooks-consumer' and xact_start is not null) as open,
               (select count(*)::int from inbox_events) as applied`;
      return (row?.open ?? 0) > 0 && (row?.applied ?? 0) > 0;
    }, 'an open consumer transaction');
    first.kill('SIGKILL');
    const appliedAtKill = await inboxCount(stack);
    expect(appliedAtKill).toBeLessThan(scenario.events.length);

    startConsumer();
    await until(
      async () =>
        (await inboxCount(stack)) === scenario.events.length &&
        (await stack.queues.depth(stack.queues.queueUrl)) === 0,
      'the second consumer to finish',
      60_000,
    );
    expect((await checkStripeLedger(stack.sql, scenario, results)).problems).toEqual([]);
  });

  it('a duplicate storm: every callback delivered 10 times concurrently lands once', async () => {
    const stack = await stackOn(await freshDatabase(), { consumerConcurrency: 3 });
    const { scenario, deliveries } = plan(14, 25);
    const storm = deliveries.flatMap((delivery) => Array.from({ length: 10 }, () => delivery));
    const results = await sendDeliveries(stack.gatewayUrl, storm, 32);
    expect(results.every((r) => r.status === 200)).toBe(true);
    await stack.drain();
    expect((await checkStripeLedger(stack.sql, scenario, results)).problems).toEqual([]);
    expect(stack.metrics.consumer.total('EventApplied')).toBe(scenario.events.length);
    // SQS may deliver a message again when a batch outlives the visibility timeout: more duplicates, never fewer.
    expect(stack.metrics.consumer.total('EventDuplicate')).toBeGreaterThanOrEqual(
      storm.length - scenario.events.length,
    );
  });

  it('a burst: database connections stay at or under the consumer concurrency cap', async () => {
    const cap = 3;
    const stack = await stackOn(await freshDatabase(), { consumerConcurrency: cap });
    const { scenario, deliveries } = plan(15, 150);
    const sampler = sampleConnections(stack.sql, 'payhooks-consumer', 10);
    const results = await sendDeliveries(stack.gatewayUrl, deliveries, 32);
    await stack.drain();
    const peak = await sampler.stop();
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(cap);
    expect(stack.poller.stats.maxBusy).toBeLessThanOrEqual(cap);
    expect((await checkStripeLedger(stack.sql, scenario, results)).problems).toEqual([]);
  });
});
