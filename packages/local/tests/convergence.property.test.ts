// Design rule 3: any permutation with duplicates of an event history yields the same final ledger as
// in-order delivery. Runs the real consumer (SQS batches, a transaction per message) against real Postgres.
import { randomUUID } from 'node:crypto';
import { createLogger } from '@payhooks/core/logger';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createConsumer } from '@payhooks/functions/consumer';
import { stripeNormalizerFromEnv } from '@payhooks/functions/wiring/normalizers';
import {
  buildLifecycleHistory,
  LIFECYCLES,
  type LifecyclePlan,
  type ObjectKind,
} from '@payhooks/testkit/sandbox/stripe-lifecycles';
import { prng, type StripeEventJson, shuffle } from '@payhooks/testkit/sandbox/stripe-scenario';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import type { SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

const silent = createLogger({ name: 'test', destination: pino.destination('/dev/null') });

function envelopeOf(event: StripeEventJson): string {
  return JSON.stringify({
    v: 1,
    provider: 'stripe',
    eventId: event.id,
    eventType: event.type,
    account: '',
    occurredAt: new Date(event.created * 1000).toISOString(),
    receivedAt: new Date().toISOString(),
    rawBody: JSON.stringify(event, null, 2),
  });
}

async function deliver(events: StripeEventJson[], sql: TestDatabase['sql'] = db.sql): Promise<void> {
  const consumer = createConsumer({
    sql,
    normalizers: {
      stripe: stripeNormalizerFromEnv({}),
      wechatpay: () => {
        throw new Error('unused');
      },
    },
    logger: silent,
    metrics: new MemoryMetrics(),
  });
  for (let i = 0; i < events.length; i += 10) {
    const batch: SQSEvent = {
      Records: events.slice(i, i + 10).map((event) => ({
        messageId: randomUUID(),
        receiptHandle: 'r',
        body: envelopeOf(event),
        attributes: {} as never,
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn',
        awsRegion: 'us-east-1',
      })),
    };
    const result = await consumer(batch);
    expect(result.batchItemFailures).toEqual([]);
  }
}

async function snapshot(): Promise<unknown> {
  // Business state only: which event id carried a winning snapshot is not part of it when two events of the
  // same second carry identical snapshots (invoice.paid / invoice.payment_succeeded / invoice.updated).
  const [payments, refunds, disputes, mirror, inbox] = await Promise.all([
    db.sql`select provider_payment_id, merchant_order_no, amount_minor, currency, status, first_seen_at, succeeded_at, updated_at from payments order by 1`,
    db.sql`select provider_refund_id, provider_payment_id, amount_minor, currency, status, first_seen_at, succeeded_at, updated_at from refunds order by 1`,
    db.sql`select provider_dispute_id, amount_minor, status, first_seen_at, updated_at from disputes order by 1`,
    db.sql`select 'pi' t, id, status, data, first_seen_at, updated_at from stripe.payment_intents
           union all select 're', id, status, data, first_seen_at, updated_at from stripe.refunds
           union all select 'dp', id, status, data, first_seen_at, updated_at from stripe.disputes
           union all select 'sub', id, status, data, first_seen_at, updated_at from stripe.subscriptions
           union all select 'in', id, status, data, first_seen_at, updated_at from stripe.invoices order by 1, 2`,
    db.sql`select event_id, outcome from inbox_events order by 1`,
  ]);
  return { payments, refunds, disputes, mirror, inbox };
}

async function reset(): Promise<void> {
  await db.sql`truncate inbox_events, payments, refunds, disputes, payment_anomalies, stripe.payment_intents, stripe.charges,
    stripe.refunds, stripe.disputes, stripe.customers, stripe.invoices, stripe.subscriptions, stripe.payouts`;
}

const kinds = Object.keys(LIFECYCLES) as ObjectKind[];
const planArb: fc.Arbitrary<LifecyclePlan> = fc.record({
  kind: fc.constantFrom(...kinds),
  path: fc.nat(5),
  gaps: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 5 }),
});

describe('projection convergence', () => {
  it('reaches the in-order state for any permutation with duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(planArb, { minLength: 1, maxLength: 4 }),
        fc.integer(),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (plans, seed, duplicatePicks) => {
          const history = buildLifecycleHistory(plans, prng(seed));
          const inOrder = history.events;
          await reset();
          await deliver(inOrder);
          const expected = await snapshot();

          const random = prng(seed ^ 0x5bd1e995);
          const delivered = shuffle(
            [...inOrder, ...duplicatePicks.map((pick) => inOrder[pick % inOrder.length]!)],
            random,
          );
          await reset();
          await deliver(delivered);
          expect(await snapshot()).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('ends at the last status of each lifecycle when delivered in reverse', async () => {
    const plans: LifecyclePlan[] = kinds.flatMap((kind) =>
      LIFECYCLES[kind].map((_, path) => ({ kind, path, gaps: [0] })),
    );
    const history = buildLifecycleHistory(plans, prng(7));
    // A database of its own: if the property above overran its timeout on a loaded machine, its runs are still
    // truncating the shared database.
    const own = await createTestDatabase();
    try {
      await deliver([...history.events].reverse(), own.sql);
      const rows = await own.sql<{ key: string; status: string }[]>`
        select 'payment_intent:' || id key, status from stripe.payment_intents union all select 'refund:' || id, status from stripe.refunds
        union all select 'dispute:' || id, status from stripe.disputes union all select 'subscription:' || id, status from stripe.subscriptions
        union all select 'invoice:' || id, status from stripe.invoices`;
      expect(new Map(rows.map((r) => [r.key, r.status]))).toEqual(history.expected.mirror);
    } finally {
      await own.drop();
    }
  });
});
