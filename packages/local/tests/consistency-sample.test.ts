// Consistency sampling on real parts: Stripe PaymentIntents reach the ledger and the mirror through the local stack's
// queue and consumer; the provider API sandbox then holds a newer state for some (a webhook that never came).
// Sampling asks the sandbox, measures the drift, and above 0.5 % resyncs the drifted objects through the queue,
// after which the ledger agrees with the provider; below it, nothing is enqueued and the ledger stays as it was.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeEnvelope } from '@payhooks/core/envelope';
import type { Logger } from '@payhooks/core/ports';
import { syntheticEvent } from '@payhooks/core/providers/stripe';
import { createSqsQueue } from '@payhooks/functions/adapters/sqs';
import { runLocalConsistency } from '@payhooks/local/local-reconciliation';
import {
  type ProviderSandbox,
  randomStripeSecretKey,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';

let db: TestDatabase;
let stack: LocalStack;
let sandbox: ProviderSandbox;
const apiKey = randomStripeSecretKey();
const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startLocalStack({
    stateDir: await mkdtemp(path.join(os.tmpdir(), 'payhooks-consistency-')),
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
beforeEach(async () => {
  await stack.sql`truncate payments, refunds, inbox_events, stripe.payment_intents`;
});

const queue = () => createSqsQueue(stack.queues.client, stack.queues.queueUrl);

function intent(id: string, status: string, amount = 1500) {
  return {
    id,
    object: 'payment_intent',
    amount,
    amount_received: status === 'succeeded' ? amount : 0,
    currency: 'usd',
    status,
    created: Math.floor(Date.now() / 1000) - 600,
    livemode: false,
    metadata: { order_id: `order-${id}` },
    last_payment_error: null,
  };
}

/** The provider holds these intents and the ledger learned them through the queue, as from webhooks. */
async function seed(intents: ReturnType<typeof intent>[]): Promise<void> {
  const q = queue();
  for (const object of intents) {
    sandbox.stripe!.setObject(object);
    const event = syntheticEvent(object, {
      id: `evt_seed_${object.id}`,
      created: object.created,
      type: 'payment_intent.created',
    });
    await q.send(
      encodeEnvelope({
        v: 1,
        provider: 'stripe',
        eventId: event.id,
        eventType: event.type,
        account: '',
        occurredAt: new Date(event.created * 1000).toISOString(),
        receivedAt: new Date().toISOString(),
        rawBody: JSON.stringify(event),
      }),
    );
  }
  await stack.drain();
}

const statusOf = async (id: string) =>
  (await stack.sql<{ status: string }[]>`select status from payments where provider_payment_id = ${id}`)[0]
    ?.status;

const sample = (sampleSize?: number) =>
  runLocalConsistency({
    sql: stack.sql,
    queue: queue(),
    env: { STRIPE_ORDER_METADATA_KEY: 'order_id' },
    providerApiUrl: sandbox.url,
    stripeApiKey: apiKey,
    providers: ['stripe'],
    logger,
    ...(sampleSize === undefined ? {} : { sampleSize }),
  });

describe('consistency sampling (Stripe, provider API sandbox, local queue)', () => {
  it('detects a drifted object, resyncs it through the queue, and the ledger converges', async () => {
    await seed([
      intent('pi_same_1', 'succeeded'),
      intent('pi_same_2', 'succeeded'),
      intent('pi_drift', 'processing'),
    ]);
    expect(await statusOf('pi_drift')).toBe('processing');
    // The intent succeeded at Stripe; its webhook never reached payhooks.
    sandbox.stripe!.setObject(intent('pi_drift', 'succeeded'));

    const first = await sample();
    expect(first.samples).toHaveLength(1);
    const [platform] = first.samples;
    expect(platform).toMatchObject({ provider: 'stripe', account: '', sampled: 3, failed: 0, resynced: 1 });
    expect(platform!.drifted).toEqual([
      {
        kind: 'payment',
        id: 'pi_drift',
        differences: [
          'ledger status processing, provider succeeded',
          'mirror payment_intent status processing, provider succeeded',
        ],
      },
    ]);
    expect(platform!.driftPercent).toBeCloseTo(100 / 3, 6);
    expect(first.metrics.counts.get('ConsistencyDrift{provider=stripe,account=platform}')).toBeCloseTo(
      100 / 3,
      6,
    );

    await stack.drain();
    expect(await statusOf('pi_drift')).toBe('succeeded');
    const [mirror] = await stack.sql<{ status: string }[]>`
      select status from stripe.payment_intents where id = 'pi_drift'`;
    expect(mirror?.status).toBe('succeeded');

    const again = await sample();
    expect(again.samples[0]).toMatchObject({ sampled: 3, drifted: [], driftPercent: 0, resynced: 0 });
  });

  it('drift at or below 0.5 % is reported but enqueues nothing', async () => {
    const intents = Array.from({ length: 250 }, (_, i) => intent(`pi_many_${i}`, 'processing'));
    await seed(intents);
    sandbox.stripe!.setObject(intent('pi_many_7', 'succeeded'));
    const inboxBefore = (await stack.sql`select 1 from inbox_events`).length;

    const { samples, metrics } = await sample(400);
    expect(samples[0]).toMatchObject({ sampled: 250, failed: 0, resynced: 0 });
    expect(samples[0]!.drifted.map((d) => d.id)).toEqual(['pi_many_7']);
    expect(samples[0]!.driftPercent).toBeCloseTo(0.4, 6);
    expect(metrics.total('ConsistencyResynced')).toBe(0);

    await stack.drain();
    expect((await stack.sql`select 1 from inbox_events`).length).toBe(inboxBefore);
    expect(await statusOf('pi_many_7')).toBe('processing');
  });
});
